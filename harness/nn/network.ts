/**
 * A network scaffold whose FFN blocks the caller supplies: the routed baselines (and a
 * submitter's variant) differ only in those blocks, so the rest — stem, residuals, attention,
 * head — is written once here and the comparison is about the blocks.
 *
 * - Vector tasks with classes: a ReLU stem inDim → width (as the dense MLP's first layer),
 *   then max(1, depth − 1) residual blocks h ← h + block(h) standing in for the dense MLP's
 *   other width×width layers (a dense block of the same parameters has width/2 hidden units),
 *   then a linear head. The residual carries rows a capacity-limited MoE drops.
 * - Reconstruction: one block inDim → width → inDim with a linear hidden layer and no biases,
 *   then + b and a ReLU: with a dense block that is exactly the toy model of superposition
 *   (Elhage et al. 2022); with a MoE block each expert is its own toy model.
 * - Tokens: the dense baseline's pre-LN GPT-2 transformer with its FFN (4·width hidden, GELU)
 *   replaced by the block: h ← h + attn(LN(h)); h ← h + block(LN(h)).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ForwardResult, Model, RoutingTrace, SizeSpec, TaskSpec } from '../architecture.ts';
import { causalSelfAttention, embedding, layerNorm, linear } from './layers.ts';
import { type Activation, type Ffn, ffn, ffnParams, type HashRouter, type MoeLayer, type MoeOptions, moe, moeParams } from './moe.ts';

/** Where a block sits and the dense FFN it stands in for. */
export interface BlockRole {
  /** variable-name prefix and RoutingTrace layer name, e.g. 'block0.ffn' */
  name: string;
  dim: number;
  outDim: number;
  /** hidden width of the dense FFN this block replaces (the dense reference's parameters) */
  denseHidden: number;
  activation: Activation;
  bias: boolean;
}

export interface BlockContext {
  training: boolean;
  /** the model's input for each row: int32 token ids [N] on token tasks, input vectors [N, inDim] on vector tasks */
  input: tf.Tensor;
  /** int32 [N]: the harness's group label of each row, when it gave them */
  groups?: tf.Tensor;
  /** expert ablation: set when ForwardContext.ablate names this block's layer */
  maskedExpert?: number;
}

export interface BlockOutput {
  /** [N, outDim] */
  output: tf.Tensor;
  auxLoss?: tf.Scalar;
  routing?: RoutingTrace;
  /** hidden activations, for the sparsity metrics */
  hidden?: tf.Tensor;
}

export interface Block {
  params: { total: number; active: number };
  apply(x: tf.Tensor2D, ctx: BlockContext): BlockOutput;
}

export interface NetworkPlan {
  kind: 'mlp' | 'bottleneck' | 'transformer';
  blocks: BlockRole[];
  /** everything but the blocks; embedding tables are not active */
  base: { total: number; active: number };
}

/** The scaffold's shape for a task and size, before anything is built. */
export function networkPlan(task: TaskSpec, size: SizeSpec): NetworkPlan {
  const w = size.width;
  if (task.input.kind === 'tokens') {
    const { length, vocab } = task.input;
    const perBlock = 4 * w * w + 4 * w + 4 * w; // attention (qkv + proj, with biases) and two layer norms
    const head = w * vocab + vocab + 2 * w; // final norm and head
    const blocks = Array.from({ length: size.depth }, (_, i) => ({
      name: `block${i}.ffn`,
      dim: w,
      outDim: w,
      denseHidden: 4 * w,
      activation: 'gelu' as const,
      bias: true,
    }));
    const active = size.depth * perBlock + head;
    return { kind: 'transformer', blocks, base: { total: active + vocab * w + length * w, active } };
  }
  const inDim = task.input.dim;
  if (task.output.kind === 'reconstruction') {
    const role = { name: 'bottleneck', dim: inDim, outDim: task.output.dim, denseHidden: w, activation: 'linear' as const, bias: false };
    return { kind: 'bottleneck', blocks: [role], base: { total: task.output.dim, active: task.output.dim } };
  }
  const outDim = task.output.kind === 'classes' ? task.output.count : 0;
  const blocks = Array.from({ length: Math.max(1, size.depth - 1) }, (_, i) => ({
    name: `block${i}.ffn`,
    dim: w,
    outDim: w,
    denseHidden: Math.max(1, Math.round(w / 2)),
    activation: 'relu' as const,
    bias: true,
  }));
  const base = inDim * w + w + w * outDim + outDim;
  return { kind: 'mlp', blocks, base: { total: base, active: base } };
}

/** The whole network's parameters for given per-block counts. */
export function planParams(
  plan: NetworkPlan,
  block: (role: BlockRole) => { total: number; active: number },
): { total: number; active: number } {
  return plan.blocks.reduce(
    (acc, role) => {
      const p = block(role);
      return { total: acc.total + p.total, active: acc.active + p.active };
    },
    { ...plan.base },
  );
}

/**
 * The largest expert count from `candidates` (tried in order) whose network fits the size's
 * caps, or null if none does. Lets one baseline keep 8 experts where the tier has room and
 * use fewer where it has not (the toy superposition task); the count is recorded.
 */
export function fitExperts(
  plan: NetworkPlan,
  size: SizeSpec,
  candidates: readonly number[],
  block: (role: BlockRole, experts: number) => { total: number; active: number },
): number | null {
  for (const e of candidates) {
    const p = planParams(plan, (role) => block(role, e));
    if (p.total <= size.maxParams && p.active <= size.maxActiveParams) return e;
  }
  return null;
}

/**
 * The expert count a routed architecture builds with: the run's `experts` knob where it sets
 * one (the caps are then checked by the harness, as for any model), else the largest of
 * `candidates` that fits the size's caps, else null.
 */
export function chooseExperts(
  plan: NetworkPlan,
  size: SizeSpec,
  knobs: BuildContext['knobs'],
  candidates: readonly number[],
  block: (role: BlockRole, experts: number) => { total: number; active: number },
): number | null {
  return knobs.experts ?? fitExperts(plan, size, candidates, block);
}

/**
 * A routed block, or at one expert the routed scaffold's dense control: a single expert of the
 * dense FFN's width and no router (what a one-expert Switch layer computes, its gate being 1),
 * so E = 1 in a sweep is exactly `dense-block`. Granularity splits experts, so at E = 1 it has
 * nothing to split and a G > 1 is refused rather than ignored.
 */
export function routedOrDense(ctx: BuildContext, role: BlockRole, experts: number, routed: () => Block): Block {
  if (experts > 1) return routed();
  if ((ctx.knobs.granularity ?? 1) > 1) {
    throw new RangeError(
      `${role.name}: experts=1 is the dense control; granularity applies from 2 experts up (got granularity=${ctx.knobs.granularity})`,
    );
  }
  return denseBlock(ctx, role, role.denseHidden);
}

/** A dense FFN block of `hidden` units. */
export function denseBlock(ctx: BuildContext, role: BlockRole, hidden: number): Block & { ffn: Ffn } {
  const f = ffn(ctx, role.name, role.dim, hidden, { activation: role.activation, outDim: role.outDim, bias: role.bias });
  const p = ffnParams(role.dim, hidden, role.outDim, role.bias);
  return {
    ffn: f,
    params: { total: p, active: p },
    apply(x) {
      return f.apply(x);
    },
  };
}

/** Options of a MoE block: the role fixes width, activation and biases. */
export type MoeBlockOptions = Omit<MoeOptions, 'activation' | 'outDim' | 'bias'>;

export function moeBlockParams(role: BlockRole, options: MoeBlockOptions): { total: number; active: number } {
  return moeParams(role.dim, { ...options, activation: role.activation, outDim: role.outDim, bias: role.bias });
}

/** A MoE block; hash routing takes its assignment from `hash` applied to the model's input rows. */
export function moeBlock(ctx: BuildContext, role: BlockRole, options: MoeBlockOptions, hash?: HashRouter): Block & { layer: MoeLayer } {
  if (options.router?.kind === 'hash' && !hash) throw new Error(`moeBlock '${role.name}': hash routing needs a HashRouter`);
  const layer = moe(ctx, role.name, role.dim, { ...options, activation: role.activation, outDim: role.outDim, bias: role.bias });
  return {
    layer,
    params: { total: layer.totalParams, active: layer.activeParams },
    apply(x, bctx) {
      const assignment = hash ? hash.assign(bctx.input) : undefined;
      const r = layer.apply(x, { training: bctx.training, assignment, maskedExpert: bctx.maskedExpert });
      return { output: r.output, auxLoss: r.auxLoss, routing: r.routing, hidden: r.hidden };
    },
  };
}

/**
 * Build the scaffold with `makeBlock` for every block role. Declares cost.activeParams from
 * the blocks' own counts and checks that the variables created add up to the plan.
 */
export function buildNetwork(
  task: TaskSpec,
  size: SizeSpec,
  ctx: BuildContext,
  makeBlock: (role: BlockRole) => Block,
  hyperparameters: Record<string, string | number | boolean> = {},
): Model {
  const plan = networkPlan(task, size);
  const w = size.width;
  const collect = (results: BlockOutput[], output: tf.Tensor, extra: tf.Tensor[]): ForwardResult => {
    const aux = results.map((r) => r.auxLoss).filter((a): a is tf.Scalar => a !== undefined);
    const routing = results.map((r) => r.routing).filter((r): r is RoutingTrace => r !== undefined);
    const activations = [...extra, ...results.map((r) => r.hidden).filter((h): h is tf.Tensor => h !== undefined)];
    return {
      output,
      auxLoss: aux.length === 0 ? undefined : aux.length === 1 ? aux[0] : (tf.addN(aux) as tf.Scalar),
      routing: routing.length > 0 ? routing : undefined,
      activations,
    };
  };
  const blockCtx = (
    role: BlockRole,
    fctx: Parameters<Model['forward']>[1],
    input: tf.Tensor,
    groups: tf.Tensor | undefined,
  ): BlockContext => ({
    training: fctx.training,
    input,
    groups,
    maskedExpert: fctx.ablate && fctx.ablate.layer === role.name ? fctx.ablate.expert : undefined,
  });

  let forward: Model['forward'];
  let featureEmbedding: Model['featureEmbedding'];
  let attention: { layers: number; context: number; dim: number } | undefined;
  const blocks = plan.blocks.map((role) => ({ role, block: makeBlock(role) }));

  if (plan.kind === 'transformer') {
    if (task.input.kind !== 'tokens') throw new Error('unreachable');
    const { length, vocab } = task.input;
    const tokens = embedding(ctx, 'tokens', vocab, w);
    const positions = embedding(ctx, 'positions', length, w);
    const positionIds = ctx.constant(tf.range(0, length, 1, 'int32'));
    const layers = blocks.map(({ role, block }, i) => ({
      role,
      block,
      norm1: layerNorm(ctx, `block${i}.norm1`, w),
      attention: causalSelfAttention(ctx, `block${i}.attn`, w, size.heads, length),
      norm2: layerNorm(ctx, `block${i}.norm2`, w),
    }));
    const finalNorm = layerNorm(ctx, 'norm', w);
    const head = linear(ctx, 'head', w, vocab);
    attention = { layers: size.depth, context: length, dim: w };
    forward = (x, fctx) => {
      const [batch, len] = x.shape as [number, number];
      const ids = x.reshape([-1]);
      const groups = fctx.groups?.reshape([-1]);
      let h = tf.add(tokens.apply(x), positions.apply(positionIds.slice(0, len))) as tf.Tensor3D;
      const results: BlockOutput[] = [];
      for (const l of layers) {
        h = tf.add(h, l.attention.apply(l.norm1.apply(h) as tf.Tensor3D));
        const r = l.block.apply(l.norm2.apply(h).reshape([-1, w]) as tf.Tensor2D, blockCtx(l.role, fctx, ids, groups));
        results.push(r);
        h = tf.add(h, r.output.reshape([batch, len, w]));
      }
      return collect(results, head.apply(finalNorm.apply(h)), []);
    };
  } else if (plan.kind === 'bottleneck') {
    const outBias = ctx.variable('out.b', [plan.blocks[0]?.outDim ?? 0], 'zeros');
    const only = blocks[0] as { role: BlockRole; block: Block & { ffn?: Ffn } };
    // A dense bottleneck has one W to measure; a routed one has a W per expert and none overall.
    const ffnUp = only.block.ffn?.up;
    if (ffnUp) featureEmbedding = () => ffnUp.weight;
    forward = (x, fctx) => {
      const r = only.block.apply(x as tf.Tensor2D, blockCtx(only.role, fctx, x, fctx.groups));
      return collect([r], tf.relu(tf.add(r.output, outBias)), []);
    };
  } else {
    if (task.input.kind !== 'vector') throw new Error('unreachable');
    const stem = linear(ctx, 'hidden0', task.input.dim, w, { init: 'he' });
    const head = linear(ctx, 'out', w, task.output.kind === 'classes' ? task.output.count : 0);
    forward = (x, fctx) => {
      let h = tf.relu(stem.apply(x)) as tf.Tensor2D;
      const stemOut = h;
      const results: BlockOutput[] = [];
      for (const { role, block } of blocks) {
        const r = block.apply(h, blockCtx(role, fctx, x, fctx.groups));
        results.push(r);
        h = tf.add(h, r.output);
      }
      return collect(results, head.apply(h), fctx.training ? [] : [stemOut]);
    };
  }

  const params = planParams(plan, (role) => (blocks.find((b) => b.role === role) as { block: Block }).block.params);
  const created = ctx.variables().reduce((n, v) => n + v.size, 0);
  if (created !== params.total) {
    throw new Error(
      `buildNetwork: the blocks declare ${params.total} parameters in all but ${created} were created — a block's params are wrong`,
    );
  }
  return {
    variables: ctx.variables(),
    forward,
    ...(featureEmbedding ? { featureEmbedding } : {}),
    cost: { activeParams: params.active, ...(attention ? { attention } : {}) },
    hyperparameters: {
      scaffold: plan.kind,
      width: w,
      depth: size.depth,
      ...(plan.kind === 'transformer' ? { heads: size.heads } : {}),
      ...hyperparameters,
    },
  };
}
