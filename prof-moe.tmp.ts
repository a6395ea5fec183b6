import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '/work/main/harness/backend.ts';
import { createBuildContext } from '/work/main/harness/build-context.ts';
import { ffn, moe } from '/work/main/harness/nn/moe.ts';
const backend = await selectBackend('wasm+blas');
const T = Number(process.env.T ?? 128), E = Number(process.env.E ?? 16), D = 256, H = Number(process.env.H ?? 256);
const ctx = createBuildContext(0, 'p');
const layer = moe(ctx, 'moe', D, { experts: E, hidden: H, router: { kind: 'top-k', k: 1 } });
const dense = ffn(ctx, 'dense', D, H);
const vars = (p: string) => ctx.created.filter((c) => c.name.startsWith(p)).map((c) => c.variable);
const x = tf.randomNormal([T, D], 0, 1, 'float32', 1) as tf.Tensor2D;
const step = async (f: (i: tf.Tensor2D) => tf.Tensor, vs: tf.Variable[]) => {
  const xv = tf.variable(x, true, undefined, 'float32');
  const v = tf.tidy(() => tf.variableGrads(() => tf.mean(tf.square(f(xv))) as tf.Scalar, [...vs, xv]).value);
  await v.data(); v.dispose(); xv.dispose();
};
const fm = (i: tf.Tensor2D) => layer.apply(i, { training: true }).output;
const fd = (i: tf.Tensor2D) => dense.apply(i).output;
for (let i = 0; i < 20; i++) { await step(fm, vars('moe.')); await step(fd, vars('dense.')); }
for (const [name, f, vs] of [['moe', fm, vars('moe.')], ['dense', fd, vars('dense.')]] as const) {
  const n = 50; const t0 = performance.now();
  for (let i = 0; i < n; i++) await step(f, vs);
  console.log(name, ((performance.now() - t0) / n).toFixed(3), 'ms/step');
  const prof = await tf.profile(() => step(f, vs));
  const by = new Map<string, [number, number]>();
  let total = 0;
  for (const k of prof.kernels) { const t = Number(k.kernelTimeMs) || 0; total += t; const e = by.get(k.name) ?? [0, 0]; by.set(k.name, [e[0] + t, e[1] + 1]); }
  console.log(`  kernels ${prof.kernels.length}, kernel ms ${total.toFixed(3)}`);
  for (const [k, [t, c]] of [...by].sort((a, b) => b[1][0] - a[1][0]).slice(0, 40)) console.log(`   ${k.padEnd(22)} ${t.toFixed(3)} ms  ×${c}`);
}
