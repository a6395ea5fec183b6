/**
 * `npm run bench:moe`: is index-based dispatch fast enough that a MoE's measured cost
 * reflects the idea? One FFN layer, forward + backward (gradients of every weight and of the
 * input), T = 1024 rows, d = 256, experts of 4d hidden units, 8 experts top-1, on the default
 * backend (wasm) unless MIDDLEPATH_BACKEND says otherwise:
 *
 * - moe:          nn.moe, dropless top-1 (index-based: gather → experts on slices → segment sum)
 * - dense-active: a dense FFN d → 4d → d (the parameters one row passes through)
 * - dense-total:  a dense FFN d → 8·4d → d (all experts' parameters)
 * - one-hot:      GShard-style one-hot dispatch/combine tensors [T, E, C] (capacity factor
 *                 1.25) contracted by matmul — the reference this layer must beat; defined here only.
 *
 * Targets (issue 3): moe ≤ 1.5× dense-active, ≤ 0.35× dense-total, one-hot ≥ 3× moe.
 * Short alternating rounds, ratios taken within each round, the median round reported
 * (the machine is shared; see harness/measure/bench-overhead.ts).
 * Env: ROUNDS (default 5), T, D, HIDDEN, EXPERTS, PROFILE=1 (per-kernel time of one moe step).
 */
import * as tf from '@tensorflow/tfjs';
import { Bench } from 'tinybench';
import { type BackendName, selectBackend } from '../backend.ts';
import { createBuildContext } from '../build-context.ts';
import { ffn, moe } from './moe.ts';

const T = Number(process.env.T ?? 1024);
const D = Number(process.env.D ?? 256);
const HIDDEN = Number(process.env.HIDDEN ?? 4 * D);
const E = Number(process.env.EXPERTS ?? 8);
const CAPACITY_FACTOR = 1.25;
const rounds = Number(process.env.ROUNDS ?? 5);

const backend = await selectBackend((process.env.MIDDLEPATH_BACKEND as BackendName | undefined) ?? 'wasm');
const ctx = createBuildContext(0, 'bench-moe');
const x = tf.randomNormal([T, D], 0, 1, 'float32', 1) as tf.Tensor2D;

const moeLayer = moe(ctx, 'moe', D, { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 1 } });
const denseActive = ffn(ctx, 'dense-active', D, HIDDEN);
const denseTotal = ffn(ctx, 'dense-total', D, E * HIDDEN);

/** The one-hot reference: stacked expert weights, dispatch and combine as dense [T, E·C] matrices. */
const C = Math.ceil((CAPACITY_FACTOR * T) / E);
const oneHot = {
  router: ctx.variable('onehot.router', [D, E], { normal: Math.sqrt(0.1 / D) }),
  w1: ctx.variable('onehot.w1', [E, D, HIDDEN], 'he'),
  b1: ctx.variable('onehot.b1', [E, 1, HIDDEN], 'zeros'),
  w2: ctx.variable('onehot.w2', [E, HIDDEN, D], 'glorot'),
  b2: ctx.variable('onehot.b2', [E, 1, D], 'zeros'),
  apply(input: tf.Tensor2D): tf.Tensor2D {
    const probs = tf.softmax(tf.matMul(input, this.router));
    // The dispatch mask is data, not part of the graph (Less and friends have no gradient): rebuild it from the argmax's values.
    const mask = tf.oneHot(tf.tensor1d(tf.argMax(probs, -1).dataSync() as Int32Array, 'int32'), E).toFloat(); // [T, E]
    const position = tf.sub(tf.cumsum(mask, 0), 1); // slot in the expert's buffer = cumsum − 1
    const kept = tf.mul(mask, tf.less(position, C).toFloat());
    const slot = tf.oneHot(tf.sum(tf.mul(position, kept), -1).toInt(), C).toFloat(); // [T, C]
    const dispatch = tf.mul(kept.expandDims(2), slot.expandDims(1)).reshape([T, E * C]); // [T, E·C]
    const gate = tf.sum(tf.mul(probs, mask), -1, true); // [T, 1]
    const combine = tf.mul(dispatch, gate);
    const expertIn = tf.matMul(dispatch, input, true, false).reshape([E, C, D]); // einsum tec,td→ecd
    const h = tf.relu(tf.add(tf.matMul(expertIn, this.w1), this.b1));
    const out = tf.add(tf.matMul(h, this.w2), this.b2).reshape([E * C, D]);
    return tf.matMul(combine, out) as tf.Tensor2D; // einsum tec,ecd→td
  },
};

const vars = (prefix: string) => ctx.created.filter((c) => c.name.startsWith(prefix)).map((c) => c.variable);
const variants: Record<string, { vars: tf.Variable[]; forward: (input: tf.Tensor2D) => tf.Tensor }> = {
  moe: { vars: vars('moe.'), forward: (input) => moeLayer.apply(input, { training: true }).output },
  'dense-active': { vars: vars('dense-active.'), forward: (input) => denseActive.apply(input).output },
  'dense-total': { vars: vars('dense-total.'), forward: (input) => denseTotal.apply(input).output },
  'one-hot': { vars: vars('onehot.'), forward: (input) => oneHot.apply(input) },
};

/** Forward + backward: gradients of the variant's weights and of the input; a device sync at the end. */
async function step(name: string) {
  const v = variants[name] as (typeof variants)[string];
  const xv = tf.variable(x, true, undefined, 'float32'); // so the input gradient (dispatch's backward) is computed too
  const value = tf.tidy(() => tf.variableGrads(() => tf.mean(tf.square(v.forward(xv))) as tf.Scalar, [...v.vars, xv]).value);
  await value.data(); // the gradients were computed with it; this syncs a device backend
  value.dispose();
  xv.dispose();
}

const params = (vs: tf.Variable[]) => vs.reduce((n, v) => n + v.size, 0);
console.log(`# bench:moe — one FFN layer, forward + backward, T = ${T}, d = ${D}, expert hidden ${HIDDEN}, ${E} experts top-1`);
console.log(
  `backend ${backend.name} (kernels: ${backend.kernels.join(', ') || 'stock'}) · tfjs ${tf.version.tfjs} · load avg ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `params: moe ${params(variants.moe?.vars ?? [])} total / ${moeLayer.activeParams} active; dense-active ${params(variants['dense-active']?.vars ?? [])}; dense-total ${params(variants['dense-total']?.vars ?? [])}; one-hot capacity ${C} per expert`,
);

if (process.env.PROFILE) {
  await step('moe');
  const info = await tf.profile(() => step('moe'));
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const rows = [...byKernel].sort((a, b) => b[1] - a[1]);
  console.log('moe step, kernel time by kernel (ms):');
  for (const [n, ms] of rows) console.log(`  ${n.padEnd(22)} ${ms.toFixed(2)}`);
}

const names = Object.keys(variants);
const means: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time: 300, iterations: 2, warmupIterations: 1, warmupTime: 0 });
  const order = round % 2 === 0 ? names : [...names].reverse();
  for (const n of order) bench.add(n, () => step(n));
  await bench.run();
  for (const n of names) {
    const r = bench.getTask(n)?.result as { latency?: { mean: number }; error?: Error } | undefined;
    if (!r?.latency) throw new Error(`${n} did not run: ${r?.error?.stack ?? 'no result'}`);
    (means[n] as number[]).push(r.latency.mean);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ratio = (a: string, b: string) => median((means[a] as number[]).map((m, i) => m / ((means[b] as number[])[i] as number)));
console.log(`${rounds} alternating rounds; ms = median of round means; ratios = median of per-round ratios`);
for (const n of names)
  console.log(
    `  ${n.padEnd(13)} ${median(means[n] as number[])
      .toFixed(1)
      .padStart(8)} ms`,
  );
const checks: Array<[string, number, string, boolean]> = [
  ['moe / dense-active', ratio('moe', 'dense-active'), '≤ 1.5', ratio('moe', 'dense-active') <= 1.5],
  ['moe / dense-total', ratio('moe', 'dense-total'), '≤ 0.35', ratio('moe', 'dense-total') <= 0.35],
  ['one-hot / moe', ratio('one-hot', 'moe'), '≥ 3', ratio('one-hot', 'moe') >= 3],
];
for (const [what, r, target, ok] of checks)
  console.log(`  ${what.padEnd(20)} ${r.toFixed(2)}×  (target ${target}: ${ok ? 'met' : 'NOT met'})`);
ctx.dispose();
x.dispose();
