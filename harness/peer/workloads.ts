/**
 * The workloads `npm run bench:peer` times on middlepath (this file) and on PyTorch
 * (torch_peer.py builds the same from `spec`): same shapes, fp32, one step each.
 */
import * as tf from '@tensorflow/tfjs';
import dense from '../../baselines/dense.ts';
import { FusedAdamOptimizer } from '../../kernels/fused-adam.ts';
import { createBuildContext, type OwnedBuildContext } from '../build-context.ts';
import { ffn, moe } from '../nn/moe.ts';
import { charlmInfo } from '../tasks/charlm.info.ts';
import { crossEntropy } from '../tasks/scoring.ts';

export interface Workload {
  name: string;
  /** what PyTorch builds (torch_peer.py's build()) */
  spec: Record<string, string | number>;
  /** a fresh instance: one call of `step` runs one step and syncs */
  setup(): { step: () => Promise<void>; dispose: () => void };
}

let builds = 0;
const context = (name: string): OwnedBuildContext => createBuildContext(0, `peer-${name}-${builds++}`);

/** The square 1024³ product. */
export function squareMatMul(n = 1024): Workload {
  return {
    name: `square matmul ${n}³`,
    spec: { kind: 'square' },
    setup() {
      const a = tf.randomNormal([n, n]);
      const b = tf.randomNormal([n, n]);
      return {
        step: async () => {
          const c = tf.matMul(a, b);
          await c.data();
          c.dispose();
        },
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

/** MLP 512→2048→512, batch 256, ReLU, softmax cross-entropy, Adam: one training step. */
export function mlpStep(): Workload {
  return {
    name: 'MLP 512→2048→512, batch 256, Adam step',
    spec: { kind: 'mlp' },
    setup() {
      const w1 = tf.variable(tf.randomNormal([512, 2048], 0, Math.sqrt(2 / 512)));
      const b1 = tf.variable(tf.zeros([2048]));
      const w2 = tf.variable(tf.randomNormal([2048, 512], 0, Math.sqrt(1 / 2048)));
      const b2 = tf.variable(tf.zeros([512]));
      const x = tf.randomNormal([256, 512]);
      const labels = tf.randomUniform([256], 0, 512, 'int32');
      const opt = new FusedAdamOptimizer(1e-3, 0.9, 0.999); // the harness's Adam (one pass on wasm+libxsmm)
      const loss = () => crossEntropy(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2), labels);
      return {
        step: async () => {
          const l = opt.minimize(loss, true);
          await l?.data();
          l?.dispose();
        },
        dispose: () => {
          opt.dispose();
          tf.dispose([w1, b1, w2, b2, x, labels]);
        },
      };
    },
  };
}

/** One layer x [rows, d] → [rows, d] built in `build`: forward + backward incl. the input gradient. */
function layerStep(
  name: string,
  spec: Workload['spec'],
  rows: number,
  d: number,
  build: (ctx: OwnedBuildContext) => (x: tf.Tensor) => tf.Tensor,
): Workload {
  return {
    name,
    spec,
    setup() {
      const ctx = context(String(spec.kind));
      const apply = build(ctx);
      const vars = ctx.created.map((c) => c.variable);
      const x = tf.randomNormal([rows, d], 0, 1, 'float32', 1);
      return {
        step: async () => {
          const xv = tf.variable(x, true); // so the input gradient (a MoE's dispatch backward) is computed too
          const value = tf.tidy(() => tf.variableGrads(() => tf.mean(tf.square(apply(xv))) as tf.Scalar, [...vars, xv]).value);
          await value.data();
          value.dispose();
          xv.dispose();
        },
        dispose: () => {
          ctx.dispose();
          x.dispose();
        },
      };
    },
  };
}

/** One MoE FFN layer (nn.moe, top-1, dropless), forward + backward incl. the input gradient. */
export function moeLayer(rows: number, d: number, experts: number, hidden: number, label = ''): Workload {
  return layerStep(
    `MoE layer T=${rows}, d=${d}, ${experts} experts top-1 of ${hidden / d}d${label}`,
    { kind: 'moe', rows, d, experts, hidden },
    rows,
    d,
    (ctx) => {
      const layer = moe(ctx, 'moe', d, { experts, hidden, router: { kind: 'top-k', k: 1 } });
      return (x) => layer.apply(x, { training: true }).output;
    },
  );
}

/** The dense FFN d → hidden → d: the parameters one row passes through in moeLayer (its same-active dense). */
export function ffnLayer(rows: number, d: number, hidden: number): Workload {
  return layerStep(
    `dense FFN T=${rows}, d=${d}, ${hidden / d}d (a MoE's active parameters)`,
    { kind: 'ffn', rows, d, hidden },
    rows,
    d,
    (ctx) => {
      const layer = ffn(ctx, 'ffn', d, hidden);
      return (x) => layer.apply(x).output;
    },
  );
}

/** The dense baseline on charlm at the cpu tier: one training step (Adam), random tokens. */
export function charlmDenseStep(): Workload {
  const tier = charlmInfo.tiers.cpu;
  const spec = charlmInfo.spec;
  if (spec.input.kind !== 'tokens') throw new Error('charlm is a token task');
  const { length, vocab } = spec.input;
  return {
    name: `charlm dense step, cpu tier (width ${tier.size.width}, depth ${tier.size.depth}, batch ${tier.batchSize})`,
    spec: {
      kind: 'charlm',
      vocab,
      length,
      width: tier.size.width,
      depth: tier.size.depth,
      heads: tier.size.heads,
      batch: tier.batchSize,
    },
    setup() {
      const ctx = context('charlm');
      const model = dense.build(spec, tier.size, ctx);
      const ids = tf.randomUniform([tier.batchSize, length], 0, vocab, 'int32');
      const targets = tf.randomUniform([tier.batchSize, length], 0, vocab, 'int32');
      const opt = new FusedAdamOptimizer(tier.learningRate, 0.9, 0.999);
      return {
        step: async () => {
          const l = opt.minimize(() => crossEntropy(model.forward(ids, { training: true }).output, targets), true, model.variables);
          await l?.data();
          l?.dispose();
        },
        dispose: () => {
          opt.dispose();
          ctx.dispose();
          tf.dispose([ids, targets]);
        },
      };
    },
  };
}
