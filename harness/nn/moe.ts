/**
 * A mixture-of-experts FFN layer with index-based dispatch, and the dense FFN it replaces.
 *
 * router (fp32 logits x·W_r, small init) → routing decisions in JS on the [N, E] scores →
 * a counting sort of the (row, choice) slots by expert → one `gather` of the rows → each
 * expert (a 2-layer FFN) on its own contiguous slice → gate-weighted `unsortedSegmentSum`
 * back to the rows. Nothing is ever [rows × experts × capacity]: the work is the experts'
 * own matmuls plus O(rows · dim) of data movement.
 *
 * Why the decisions are made in JS: tfjs needs every slice size as a JS number, so the
 * per-expert counts must be read back anyway; reading the [N, E] scores once and sorting in
 * JS (O(N·k·E)) is cheaper than a TopK + Unique + readback per layer, and gives exact
 * capacity accounting. Gate values are taken from the scores with a one-hot product
 * (TopK has no gradient on any backend), so the router learns through the gates.
 *
 * Routers: top-k softmax (k = 1: Switch's output p_i·E_i(x); k ≥ 2: gates renormalised over
 * the chosen k, GShard/Mixtral), sigmoid affinities (DeepSeek-V3), expert choice (each
 * expert takes its top N·c/E rows; non-causal), and hash (a fixed assignment the caller
 * computes, e.g. with `hashRouter`). Optional always-on shared experts (DeepSeekMoE),
 * aux-loss-free bias balancing (DeepSeek-V3), the Switch balance loss and the ST-MoE
 * router z-loss. Dropless by default; with a capacity factor, rows over an expert's
 * capacity get zero expert output (a residual around the layer carries them).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, RoutingTrace, TaskSpec } from '../architecture.ts';
import { groupedKernelsAvailable, groupedLinear } from './grouped-matmul.ts';
import { gelu, type Linear, linear } from './layers.ts';

export type Activation = 'relu' | 'gelu' | 'linear';

function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'gelu') return gelu(x);
  return x;
}

export interface FfnOptions {
  /** hidden non-linearity; 'linear' makes the FFN a (low-rank) linear map */
  activation?: Activation;
  /** output width; default the input width */
  outDim?: number;
  /** biases on both layers; default true */
  bias?: boolean;
  /** initialiser of the first layer; default 'he' for relu, 'glorot' otherwise */
  init?: 'glorot' | 'he';
}

export interface Ffn {
  up: Linear;
  down: Linear;
  /** trainable parameters */
  params: number;
  /** x [N, dim] → [N, outDim]; `hidden` is the post-activation [N, hidden] */
  apply(x: tf.Tensor): { output: tf.Tensor2D; hidden: tf.Tensor2D };
}

/** Parameters of a 2-layer FFN dim → hidden → outDim. */
export function ffnParams(dim: number, hidden: number, outDim = dim, bias = true): number {
  return dim * hidden + hidden * outDim + (bias ? hidden + outDim : 0);
}

/** A 2-layer FFN: down(act(up(x))). The dense counterpart of one expert. */
export function ffn(ctx: BuildContext, name: string, dim: number, hidden: number, options: FfnOptions = {}): Ffn {
  const activation = options.activation ?? 'relu';
  const outDim = options.outDim ?? dim;
  const bias = options.bias ?? true;
  const up = linear(ctx, `${name}.up`, dim, hidden, { bias, init: options.init ?? (activation === 'relu' ? 'he' : 'glorot') });
  const down = linear(ctx, `${name}.down`, hidden, outDim, { bias });
  return {
    up,
    down,
    params: ffnParams(dim, hidden, outDim, bias),
    apply(x) {
      const h = activate(up.apply(x), activation) as tf.Tensor2D;
      return { output: down.apply(h) as tf.Tensor2D, hidden: h };
    },
  };
}

export type MoeRouter =
  /** softmax over experts (or sigmoid affinities), the k best per row */
  | {
      kind: 'top-k';
      /** experts per row; default 1 */
      k?: number;
      /** 'softmax' (Switch, GShard, Mixtral) or 'sigmoid' (DeepSeek-V3); default 'softmax' */
      affinity?: 'softmax' | 'sigmoid';
      /**
       * Aux-loss-free balancing (DeepSeek-V3): the top-k is chosen on score + b, the gates
       * come from the score alone, and after every training forward b_i ← b_i + γ·sign(mean
       * load − load_i). This is γ; 0 (default) turns it off.
       */
      biasBalancing?: number;
    }
  /** each expert takes its top (N·capacity/E) rows (Zhou et al. 2022); sees the whole batch, so non-causal */
  | { kind: 'expert-choice'; capacity?: number }
  /** fixed, unlearned: the caller passes each row's expert in `MoeApplyContext.assignment` */
  | { kind: 'hash' };

export interface MoeOptions {
  /** routed experts E */
  experts: number;
  /** hidden width of each routed expert */
  hidden: number;
  /** default top-1 softmax */
  router?: MoeRouter;
  /**
   * Top-k only. Undefined: dropless (every row reaches its experts). A number cf: each
   * expert takes at most ceil(cf·N·k/E) slots, first choices before second ones, earlier
   * rows first; the rest get zero output from that expert.
   */
  capacityFactor?: number;
  /**
   * Apply the capacity during evaluation too; default false (evaluation is dropless). Some
   * tasks' held-out batches hold one class each, and a router that sends a class to one
   * expert would then be scored on the batching, not on what it learned.
   */
  capacityAtEval?: boolean;
  /** always-on experts added to every row (DeepSeekMoE); fused into one FFN of experts·hidden units */
  shared?: { experts: number; hidden: number };
  /** default 'relu' */
  activation?: Activation;
  /** default the input width */
  outDim?: number;
  /** biases inside the experts; default true */
  bias?: boolean;
  /** Switch balance loss α·E·Σ f_i·P_i; default 0.01 for learned top-k routers, else 0 */
  balanceLoss?: number;
  /** ST-MoE router z-loss β·mean(logsumexp(z)²); default 0 */
  zLoss?: number;
  /** router weights ~ normal(0, sqrt(scale/dim)); default 0.1 (Switch: 0.1× the usual scale) */
  routerInitScale?: number;
  /** set true for a causal task: expert choice is then refused at build time */
  causal?: boolean;
}

export interface MoeApplyContext {
  training: boolean;
  /** hash routing: int32 [N], each row's expert */
  assignment?: tf.Tensor;
  /** expert ablation (evaluation): rows routed to this expert get zero output from it */
  maskedExpert?: number;
}

export interface MoeResult {
  /** [N, outDim] */
  output: tf.Tensor2D;
  /** balance + z-loss, during training, when either coefficient is non-zero */
  auxLoss?: tf.Scalar;
  routing: RoutingTrace;
  /** routed experts' post-activation hidden units [slots, hidden], outside training (for sparsity metrics) */
  hidden?: tf.Tensor;
  /** slots each expert received (before capacity), for tests and inspection */
  load: number[];
  /** slots dropped at capacity */
  dropped: number;
}

export interface MoeLayer {
  name: string;
  experts: number;
  /** trainable parameter count (router, routed and shared experts) */
  totalParams: number;
  /** parameters one row passes through: router + active routed experts (k, or c for expert choice, on average) + shared */
  activeParams: number;
  router: tf.Variable | null;
  expertFfns: Ffn[];
  sharedFfn: Ffn | null;
  /** the aux-loss-free balancing bias b (a copy); zeros when that is off */
  routingBias(): number[];
  /** x [N, dim] → MoeResult */
  apply(x: tf.Tensor, ctx: MoeApplyContext): MoeResult;
}

interface Resolved {
  experts: number;
  hidden: number;
  router: Required<Extract<MoeRouter, { kind: 'top-k' }>> | Required<Extract<MoeRouter, { kind: 'expert-choice' }>> | { kind: 'hash' };
  capacityFactor: number | undefined;
  capacityAtEval: boolean;
  shared: { experts: number; hidden: number } | undefined;
  activation: Activation;
  outDim: number | undefined;
  bias: boolean;
  balanceLoss: number;
  zLoss: number;
  routerInitScale: number;
}

const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;

/**
 * Check a configuration and fill in defaults. Throws a RangeError naming the layer and the
 * bad field, so a mistake stops the build, before any training.
 */
export function resolveMoeOptions(name: string, options: MoeOptions): Resolved {
  const fail = (msg: string): never => {
    throw new RangeError(`moe '${name}': ${msg}`);
  };
  const { experts, hidden } = options;
  if (!positiveInt(experts)) fail(`experts must be an integer ≥ 1, got ${experts}`);
  if (!positiveInt(hidden)) fail(`hidden must be an integer ≥ 1, got ${hidden}`);
  const r = options.router ?? { kind: 'top-k' };
  let router: Resolved['router'];
  if (r.kind === 'top-k') {
    const k = r.k ?? 1;
    if (!positiveInt(k)) fail(`top-k needs an integer k ≥ 1, got ${k}`);
    if (k > experts) fail(`top-k k = ${k} exceeds the ${experts} experts (k must be ≤ experts)`);
    const biasBalancing = r.biasBalancing ?? 0;
    if (!(biasBalancing >= 0)) fail(`biasBalancing (γ) must be ≥ 0, got ${biasBalancing}`);
    router = { kind: 'top-k', k, affinity: r.affinity ?? 'softmax', biasBalancing };
  } else if (r.kind === 'expert-choice') {
    if (options.causal) {
      fail(
        'expert-choice routing lets each expert pick among all rows of the batch, so a row’s output depends on later positions; it cannot be used on a causal task',
      );
    }
    const capacity = r.capacity ?? 2;
    if (!(capacity > 0)) fail(`expert-choice capacity must be > 0, got ${capacity}`);
    router = { kind: 'expert-choice', capacity };
  } else if (r.kind === 'hash') {
    router = { kind: 'hash' };
  } else {
    return fail(`unknown router kind '${(r as { kind: unknown }).kind}'`);
  }
  const cf = options.capacityFactor;
  if (cf !== undefined) {
    if (!(cf > 0)) fail(`capacity factor must be > 0 (or undefined for dropless), got ${cf}`);
    if (router.kind !== 'top-k') fail(`a capacity factor applies to top-k routing only (${router.kind} sets its own)`);
  }
  const shared = options.shared && options.shared.experts > 0 ? options.shared : undefined;
  if (shared && (!positiveInt(shared.experts) || !positiveInt(shared.hidden))) {
    fail(`shared experts need integer experts ≥ 1 and hidden ≥ 1, got ${JSON.stringify(shared)}`);
  }
  const learned = router.kind !== 'hash';
  const balanceLoss = options.balanceLoss ?? (router.kind === 'top-k' ? 0.01 : 0);
  const zLoss = options.zLoss ?? 0;
  if (!(balanceLoss >= 0) || !(zLoss >= 0)) fail(`balanceLoss and zLoss must be ≥ 0, got ${balanceLoss} and ${zLoss}`);
  if (!learned && (balanceLoss > 0 || zLoss > 0)) fail('hash routing has no router, so no balance loss or z-loss');
  const routerInitScale = options.routerInitScale ?? 0.1;
  if (!(routerInitScale > 0)) fail(`routerInitScale must be > 0, got ${routerInitScale}`);
  if (options.outDim !== undefined && !positiveInt(options.outDim)) fail(`outDim must be an integer ≥ 1, got ${options.outDim}`);
  return {
    experts,
    hidden,
    router,
    capacityFactor: cf,
    capacityAtEval: options.capacityAtEval ?? false,
    shared,
    activation: options.activation ?? 'relu',
    outDim: options.outDim,
    bias: options.bias ?? true,
    balanceLoss,
    zLoss,
    routerInitScale,
  };
}

/** Experts one row passes through, on average: k, expert choice's capacity c, or 1 for hash. */
function activeExperts(r: Resolved['router']): number {
  return r.kind === 'top-k' ? r.k : r.kind === 'expert-choice' ? r.capacity : 1;
}

/** Total and active parameters of a MoE layer, before building it (for fitting a tier's caps). */
export function moeParams(dim: number, options: MoeOptions): { total: number; active: number } {
  const o = resolveMoeOptions('(count)', options);
  const outDim = o.outDim ?? dim;
  const router = o.router.kind === 'hash' ? 0 : dim * o.experts;
  const expert = ffnParams(dim, o.hidden, outDim, o.bias);
  const shared = o.shared ? ffnParams(dim, o.shared.experts * o.shared.hidden, outDim, o.bias) : 0;
  return { total: router + o.experts * expert + shared, active: Math.ceil(router + activeExperts(o.router) * expert + shared) };
}

/** Top-k choices per row on score + bias (ties to the lower expert), scores from a [N, E] row-major array. */
function chooseTopK(scores: ArrayLike<number>, rows: number, experts: number, k: number, bias: Float32Array | null): Int32Array {
  const choice = new Int32Array(rows * k);
  const taken = new Uint8Array(experts);
  for (let t = 0; t < rows; t++) {
    taken.fill(0);
    const base = t * experts;
    for (let j = 0; j < k; j++) {
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let e = 0; e < experts; e++) {
        if (taken[e]) continue;
        const s = (scores[base + e] as number) + (bias ? (bias[e] as number) : 0);
        if (s > bestScore || best < 0) {
          best = e;
          bestScore = s;
        }
      }
      taken[best] = 1;
      choice[t * k + j] = best;
    }
  }
  return choice;
}

/**
 * Which dispatched slot holds each row's j-th routed copy. Both directions of dispatch are
 * then gathers: rows → slots is gather(x, row); slots → rows is Σ_j gather(slots ⊕ 0, column_j),
 * where a row with no j-th copy (dropped, masked, or fewer picks under expert choice) points
 * at the appended zero row. No segment sum anywhere: tfjs's cpu UnsortedSegmentSum costs
 * O(segments × slots × dim) (19 s for one T = 1024 layer step), its gather gradient adds an
 * identity transpose and its segment-sum gradient a negative-id mask over [slots, dim].
 */
interface Slots {
  /** row of each dispatched slot [S] */
  row: tf.Tensor1D;
  /** per choice column j, the slot of each row's j-th copy [N], or S for none */
  columns: tf.Tensor1D[];
}

/** Σ_j values[columns_j[r]] per row r, with index S reading zeros. */
function sumColumns(values: tf.Tensor, columns: tf.Tensor1D[]): tf.Tensor2D {
  const padded = tf.concat([values, tf.zeros([1, values.shape[1] as number])], 0);
  const parts = columns.map((c) => tf.gather(padded, c));
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor2D;
}

/** rows [N, d] → slots [S, d]; the gradient sums each row's copies back (gathers only). */
function dispatchRows(x: tf.Tensor2D, slots: Slots): tf.Tensor2D {
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)(slots.columns); // the tape frees the forward's other tensors before the backward pass
    return {
      value: tf.gather(input as tf.Tensor, slots.row),
      gradFunc: (dy, saved) => sumColumns(dy as tf.Tensor, saved as tf.Tensor1D[]),
    };
  });
  return op(x) as tf.Tensor2D;
}

/** slots [S, d] → rows [N, d], summing each row's copies; the gradient is one gather. */
function combineRows(ys: tf.Tensor2D, slots: Slots): tf.Tensor2D {
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([slots.row]);
    return {
      value: sumColumns(input as tf.Tensor, slots.columns),
      gradFunc: (dy, saved) => tf.gather(dy as tf.Tensor, saved[0] as tf.Tensor1D),
    };
  });
  return op(ys) as tf.Tensor2D;
}

/**
 * The gate of each dispatched slot, gate[i] = flat[d.gate[i]], differentiably: each gate entry
 * feeds at most one slot, so the gradient is again a gather (by the inverse index).
 */
function gatesInSlotOrder(flat: tf.Tensor, d: Dispatch, entries: number): tf.Tensor1D {
  const inverse = new Int32Array(entries).fill(d.gate.length);
  d.gate.forEach((g, i) => {
    inverse[g] = i;
  });
  const slots: Slots = { row: tf.tensor1d(d.gate, 'int32'), columns: [tf.tensor1d(inverse, 'int32')] };
  return dispatchRows(flat.reshape([entries, 1]) as tf.Tensor2D, slots).reshape([-1]) as tf.Tensor1D;
}

/** Slots grouped by expert (counting sort). */
interface Dispatch {
  /** row of each dispatched slot, grouped by expert */
  row: Int32Array;
  /** index into the flat gate vector for each dispatched slot */
  gate: Int32Array;
  /** dispatched slots per expert */
  counts: number[];
  /** per choice column, the slot of each row's copy, or row.length for none (see Slots) */
  columns: Int32Array[];
}

/**
 * Counting sort of (row, choice) slots by expert. Slots are visited choice-major (all first
 * choices, then all second ones) so capacity keeps first choices first. Slots over capacity
 * are dropped and marked −1 in `traceAssignment`; a masked expert's slots are left out but
 * keep their expert in the trace.
 */
function sortByExpert(
  choice: Int32Array,
  rows: number,
  k: number,
  experts: number,
  capacity: number,
  masked: number | undefined,
  traceAssignment: Int32Array,
): Dispatch & { load: number[]; dropped: number } {
  const load = new Array<number>(experts).fill(0);
  const counts = new Array<number>(experts).fill(0);
  const kept = new Uint8Array(rows * k);
  let dropped = 0;
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < rows; t++) {
      const slot = t * k + j;
      const e = choice[slot] as number;
      load[e] = (load[e] as number) + 1;
      traceAssignment[slot] = e;
      if ((counts[e] as number) >= capacity) {
        dropped++;
        traceAssignment[slot] = -1;
        continue;
      }
      if (e === masked) continue; // ablated: no output, but the trace keeps the router's choice
      counts[e] = (counts[e] as number) + 1;
      kept[slot] = 1;
    }
  }
  const offsets = new Array<number>(experts).fill(0);
  for (let e = 1; e < experts; e++) offsets[e] = (offsets[e - 1] as number) + (counts[e - 1] as number);
  const total = offsets[experts - 1]! + counts[experts - 1]!;
  const row = new Int32Array(total);
  const gate = new Int32Array(total);
  const columns = Array.from({ length: k }, () => new Int32Array(rows).fill(total));
  for (let j = 0; j < k; j++) {
    const column = columns[j] as Int32Array;
    for (let t = 0; t < rows; t++) {
      const slot = t * k + j;
      if (!kept[slot]) continue;
      const e = choice[slot] as number;
      const at = offsets[e] as number;
      offsets[e] = at + 1;
      row[at] = t;
      gate[at] = slot;
      column[t] = at;
    }
  }
  return { row, gate, counts, columns, load, dropped };
}

/** Build a MoE FFN layer. Validates `options` first (see resolveMoeOptions). */
export function moe(ctx: BuildContext, name: string, dim: number, options: MoeOptions): MoeLayer {
  const o = resolveMoeOptions(name, options);
  const E = o.experts;
  const outDim = o.outDim ?? dim;
  const router =
    o.router.kind === 'hash' ? null : ctx.variable(`${name}.router.w`, [dim, E], { normal: Math.sqrt(o.routerInitScale / dim) });
  const expertFfns = Array.from({ length: E }, (_, e) =>
    ffn(ctx, `${name}.expert${e}`, dim, o.hidden, { activation: o.activation, outDim, bias: o.bias }),
  );
  const sharedFfn = o.shared
    ? ffn(ctx, `${name}.shared`, dim, o.shared.experts * o.shared.hidden, { activation: o.activation, outDim, bias: o.bias })
    : null;
  const counts = moeParams(dim, options);
  // Aux-loss-free balancing state: used only to choose experts, which happens in JS.
  const bias = o.router.kind === 'top-k' && o.router.biasBalancing > 0 ? new Float32Array(E) : null;

  /** All experts in one grouped call per FFN layer (harness/nn/grouped-matmul.ts). */
  function groupedExperts(xs: tf.Tensor2D, counts: number[]): { output: tf.Tensor2D; hidden: tf.Tensor2D } {
    const bias = o.bias;
    const up = groupedLinear(
      xs,
      expertFfns.map((f) => f.up.weight),
      bias ? expertFfns.map((f) => f.up.bias as tf.Variable) : null,
      counts,
    );
    const hidden = activate(up, o.activation) as tf.Tensor2D;
    const output = groupedLinear(
      hidden,
      expertFfns.map((f) => f.down.weight),
      bias ? expertFfns.map((f) => f.down.bias as tf.Variable) : null,
      counts,
    );
    return { output, hidden };
  }

  /** Each non-empty expert on its own slice (backends without the grouped kernels). */
  function perExpert(xs: tf.Tensor2D, counts: number[], training: boolean): { output: tf.Tensor2D; hidden: tf.Tensor | undefined } {
    const active = counts.map((c, e) => [c, e] as const).filter(([c]) => c > 0);
    const pieces =
      active.length === 1
        ? [xs]
        : tf.split(
            xs,
            active.map(([c]) => c),
          );
    const outs: tf.Tensor2D[] = [];
    const hiddens: tf.Tensor2D[] = [];
    active.forEach(([, e], i) => {
      const r = (expertFfns[e] as Ffn).apply(pieces[i] as tf.Tensor2D);
      outs.push(r.output);
      if (!training) hiddens.push(r.hidden);
    });
    const output: tf.Tensor2D = outs.length === 1 ? (outs[0] as tf.Tensor2D) : tf.concat(outs, 0);
    const hidden = training ? undefined : hiddens.length === 1 ? hiddens[0] : tf.concat(hiddens, 0);
    return { output, hidden };
  }

  /** Run each expert on its slice of `xs` (grouped by expert), scale by the gates, add back into N rows. */
  function expertsAndCombine(x: tf.Tensor2D, d: Dispatch, gatesSorted: tf.Tensor1D | null, training: boolean) {
    const rows = x.shape[0];
    const grouped = groupedKernelsAvailable();
    let output: tf.Tensor2D = tf.zeros([rows, outDim]);
    let hidden: tf.Tensor | undefined;
    if (d.row.length > 0) {
      const slots: Slots = { row: tf.tensor1d(d.row, 'int32'), columns: d.columns.map((c) => tf.tensor1d(c, 'int32')) };
      const xs = dispatchRows(x, slots);
      const ran = grouped ? groupedExperts(xs, d.counts) : perExpert(xs, d.counts, training);
      const ys = gatesSorted ? tf.mul(ran.output, gatesSorted.expandDims(1)) : ran.output;
      output = combineRows(ys as tf.Tensor2D, slots);
      if (!training) hidden = ran.hidden;
    }
    const idle = d.counts.flatMap((c, e) => (c === 0 ? [e] : []));
    // (the grouped kernels already give idle experts exact zero gradients)
    if (training && idle.length > 0 && !(grouped && d.row.length > 0)) {
      // tfjs's optimizers pair their moment slots with gradients by position in the list they
      // are given, and variableGrads leaves out variables without a gradient: an expert that
      // got no rows would shift every slot after it. A zero-weighted use of each idle expert
      // (one row of zeros) gives it an exact zero gradient instead.
      const zero = tf.zeros([1, dim]);
      const unused = idle.map((e) => tf.sum((expertFfns[e] as Ffn).apply(zero).output));
      output = tf.add(output, tf.mul(unused.length === 1 ? (unused[0] as tf.Scalar) : tf.addN(unused), 0));
    }
    return { output, hidden };
  }

  function auxLosses(logits: tf.Tensor2D, probs: tf.Tensor2D, load: number[], slots: number): tf.Scalar | undefined {
    const terms: tf.Scalar[] = [];
    if (o.balanceLoss > 0) {
      // Switch: α·E·Σ f_i·P_i, f_i = share of routed slots (all k choices) to expert i, P_i = mean router probability.
      const f = tf.tensor1d(load.map((l) => l / Math.max(1, slots)));
      terms.push(tf.mul(o.balanceLoss * E, tf.sum(tf.mul(f, tf.mean(probs, 0)))) as tf.Scalar);
    }
    if (o.zLoss > 0) terms.push(tf.mul(o.zLoss, tf.mean(tf.square(tf.logSumExp(logits, -1)))) as tf.Scalar);
    if (terms.length === 0) return undefined;
    return terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
  }

  function applyTopK(x: tf.Tensor2D, ctx: MoeApplyContext, r: Extract<Resolved['router'], { kind: 'top-k' }>): MoeResult {
    const rows = x.shape[0];
    const k = r.k;
    const logits = tf.matMul(x, router as tf.Variable) as tf.Tensor2D;
    const scores = (r.affinity === 'softmax' ? tf.softmax(logits) : tf.sigmoid(logits)) as tf.Tensor2D;
    // Routing decisions in JS: one readback of [N, E] (see the file comment).
    const choice = chooseTopK(scores.dataSync(), rows, E, k, bias);
    const limited = o.capacityFactor !== undefined && (ctx.training || o.capacityAtEval);
    const capacity = limited ? Math.ceil(((o.capacityFactor as number) * rows * k) / E) : Number.POSITIVE_INFINITY;
    const traceAssignment = new Int32Array(rows * k);
    const d = sortByExpert(choice, rows, k, E, capacity, ctx.maskedExpert, traceAssignment);
    // Gates from the scores (differentiable), not from TopK's values (which have no gradient).
    const choiceT = tf.tensor2d(choice, [rows, k], 'int32');
    let gates = tf.sum(tf.mul(tf.oneHot(choiceT, E), scores.expandDims(1)), -1) as tf.Tensor2D;
    if (k > 1) gates = tf.div(gates, tf.sum(gates, -1, true));
    const gatesSorted = d.row.length > 0 ? gatesInSlotOrder(gates, d, rows * k) : null;
    const { output, hidden } = expertsAndCombine(x, d, gatesSorted, ctx.training);
    // Probabilities for the trace and the balance loss: sigmoid affinities normalised per row.
    const probs = r.affinity === 'softmax' ? scores : (tf.div(scores, tf.sum(scores, -1, true)) as tf.Tensor2D);
    let auxLoss: tf.Scalar | undefined;
    if (ctx.training) {
      auxLoss = auxLosses(logits, probs, d.load, rows * k);
      if (bias) {
        // DeepSeek-V3: after the step's routing, nudge under-loaded experts up and over-loaded ones down.
        const mean = (rows * k) / E;
        for (let e = 0; e < E; e++) bias[e] = (bias[e] as number) + r.biasBalancing * Math.sign(mean - (d.load[e] as number));
      }
    }
    return {
      output,
      auxLoss,
      routing: { layer: name, experts: E, assignment: tf.tensor2d(traceAssignment, [rows, k], 'int32'), probabilities: probs },
      hidden,
      load: d.load,
      dropped: d.dropped,
    };
  }

  function applyExpertChoice(x: tf.Tensor2D, ctx: MoeApplyContext, c: number): MoeResult {
    const rows = x.shape[0];
    const logits = tf.matMul(x, router as tf.Variable) as tf.Tensor2D;
    const probs = tf.softmax(logits);
    const s = probs.dataSync();
    const perExpert = Math.min(rows, Math.max(1, Math.round((rows * c) / E)));
    const order = Array.from({ length: rows }, (_, t) => t);
    const picked: number[][] = Array.from({ length: rows }, () => []);
    const copies: number[][] = Array.from({ length: rows }, () => []); // each row's dispatched slots
    const row: number[] = [];
    const gate: number[] = [];
    const counts = new Array<number>(E).fill(0);
    for (let e = 0; e < E; e++) {
      order.sort((a, b) => (s[b * E + e] as number) - (s[a * E + e] as number) || a - b);
      for (let i = 0; i < perExpert; i++) {
        const t = order[i] as number;
        (picked[t] as number[]).push(e);
        if (e === ctx.maskedExpert) continue;
        (copies[t] as number[]).push(row.length);
        row.push(t);
        gate.push(t * E + e);
        counts[e] = (counts[e] as number) + 1;
      }
    }
    // As many columns as the most-picked row has copies; the others point at the zero row.
    const width = Math.max(1, ...copies.map((c) => c.length));
    const columns = Array.from({ length: width }, (_, j) => Int32Array.from(copies, (c) => c[j] ?? row.length));
    // Trace: the experts that took each row, best gate first, padded with −1 (rows no expert took).
    const traceAssignment = new Int32Array(rows * E).fill(-1);
    picked.forEach((es, t) => {
      es.sort((a, b) => (s[t * E + b] as number) - (s[t * E + a] as number) || a - b);
      es.forEach((e, j) => {
        traceAssignment[t * E + j] = e;
      });
    });
    const d: Dispatch = { row: Int32Array.from(row), gate: Int32Array.from(gate), counts, columns };
    const gatesSorted = row.length > 0 ? gatesInSlotOrder(probs, d, rows * E) : null;
    const { output, hidden } = expertsAndCombine(x, d, gatesSorted, ctx.training);
    const load = new Array<number>(E).fill(perExpert);
    return {
      output,
      auxLoss: ctx.training ? auxLosses(logits, probs, load, rows * E) : undefined,
      routing: { layer: name, experts: E, assignment: tf.tensor2d(traceAssignment, [rows, E], 'int32'), probabilities: probs },
      hidden,
      load,
      dropped: 0,
    };
  }

  function applyHash(x: tf.Tensor2D, ctx: MoeApplyContext): MoeResult {
    const rows = x.shape[0];
    if (!ctx.assignment) throw new Error(`moe '${name}': hash routing needs ctx.assignment (int32 [${rows}]), e.g. from hashRouter()`);
    if (ctx.assignment.size !== rows) throw new Error(`moe '${name}': assignment has ${ctx.assignment.size} entries for ${rows} rows`);
    const choice = Int32Array.from(ctx.assignment.dataSync());
    for (const e of choice) if (!(e >= 0 && e < E)) throw new RangeError(`moe '${name}': hash assignment ${e} is outside [0, ${E})`);
    const traceAssignment = new Int32Array(rows);
    const d = sortByExpert(choice, rows, 1, E, Number.POSITIVE_INFINITY, ctx.maskedExpert, traceAssignment);
    const { output, hidden } = expertsAndCombine(x, d, null, ctx.training);
    return {
      output,
      routing: { layer: name, experts: E, assignment: tf.tensor2d(traceAssignment, [rows, 1], 'int32') },
      hidden,
      load: d.load,
      dropped: 0,
    };
  }

  return {
    name,
    experts: E,
    totalParams: counts.total,
    activeParams: counts.active,
    router,
    expertFfns,
    sharedFfn,
    routingBias: () => (bias ? Array.from(bias) : new Array<number>(E).fill(0)),
    apply(input, ctx) {
      const x = (input.rank === 2 ? input : input.reshape([-1, dim])) as tf.Tensor2D;
      if (x.shape[1] !== dim) throw new Error(`moe '${name}': expected rows of width ${dim}, got [${input.shape}]`);
      const r = o.router;
      const result =
        r.kind === 'top-k' ? applyTopK(x, ctx, r) : r.kind === 'expert-choice' ? applyExpertChoice(x, ctx, r.capacity) : applyHash(x, ctx);
      if (sharedFfn) result.output = tf.add(result.output, sharedFfn.apply(x).output);
      return result;
    },
  };
}

/**
 * Fixed, unlearned routing (Roller et al. 2021, "Hash Layers"), as an assignment for
 * `MoeApplyContext.assignment`. Token tasks: the expert of a token id is fixed by a seeded
 * shuffle of the vocabulary dealt round-robin to the experts (balanced over ids, not over
 * frequency). Vector tasks: a hash of the input's support, (Σ_i [x_i > 0]·P_i) mod E with
 * seeded P_i ∈ {0..E−1} — the same input always goes to the same expert, and distinct
 * inputs spread near-uniformly. Never the group label: on mnist that is the class, and
 * routing on it would leak the answer.
 */
export interface HashRouter {
  /** model input rows (int32 token ids [N], or vectors [N, dim]) → int32 [N] experts */
  assign(input: tf.Tensor): tf.Tensor1D;
}

export function hashRouter(ctx: BuildContext, task: TaskSpec, experts: number): HashRouter {
  if (!positiveInt(experts)) throw new RangeError(`hashRouter: experts must be an integer ≥ 1, got ${experts}`);
  if (task.input.kind === 'tokens') {
    const vocab = task.input.vocab;
    const ids = Array.from({ length: vocab }, (_, i) => i);
    for (let i = vocab - 1; i > 0; i--) {
      const j = Math.floor(ctx.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
    }
    const table = new Int32Array(vocab);
    ids.forEach((id, rank) => {
      table[id] = rank % experts;
    });
    const lookup = ctx.constant(tf.tensor1d(table, 'int32'));
    return { assign: (input) => tf.gather(lookup, input.reshape([-1]).toInt()) as tf.Tensor1D };
  }
  const dim = task.input.dim;
  const weights = ctx.constant(
    tf.tensor2d(
      Float32Array.from({ length: dim }, () => Math.floor(ctx.random() * experts)),
      [dim, 1],
    ),
  );
  return {
    // Integers below 2^24 are exact in float32, and dim·(E−1) is far below that.
    assign: (input) =>
      tf.tidy(
        () =>
          tf
            .mod(tf.matMul(tf.cast(tf.greater(input, 0), 'float32'), weights), experts)
            .reshape([-1])
            .toInt() as tf.Tensor1D,
      ),
  };
}
