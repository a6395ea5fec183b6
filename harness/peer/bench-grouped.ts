/**
 * `node bin/run-ts.js harness/peer/bench-grouped.ts`: the wrapper's grouped expert products
 * (one native call per grouped product: kernels/native/xsmm.c) against the per-expert path
 * they replace (one libxsmm sgemm per expert through koffi: what a Blas without `grouped`
 * runs), and the dense FFN of the same active parameters, in one process: interleaved rounds,
 * the order reversed every round, ratios taken within each round and the median printed.
 * One layer step (forward + backward incl. the input gradient), wasm+libxsmm, 1 thread.
 * Env: T (rows, 128), E (experts, 16), H (expert width, 256), N (steps per side per round, 20),
 * R (rounds, 9).
 */
import { loadavg } from 'node:os';
import { loadBlas, loadXsmm, registerKernels, xsmmBlas } from '../../kernels/index.ts';
import { selectBackend } from '../backend.ts';
import { ffnLayer, moeLayer } from './workloads.ts';

process.env.MIDDLEPATH_BLAS_THREADS ??= '1';
await selectBackend('wasm+blas');
const blas = await loadBlas();
const xsmm = await loadXsmm();
const native = xsmmBlas(xsmm, blas);
const perExpert = { ...native, grouped: undefined };
const H = Number(process.env.H ?? 256);
const E = Number(process.env.E ?? 16);
const T = Number(process.env.T ?? 128);
const ws = { moe: moeLayer(T, 256, E, H), dense: ffnLayer(T, 256, H) };
const moe = ws.moe.setup();
const dense = ws.dense.setup();
const sides: Array<[string, () => Promise<void>, typeof native]> = [
  ['moe native', moe.step, native],
  ['moe per-expert', moe.step, perExpert],
  ['dense', dense.step, native],
];
for (const [, step, b] of sides) {
  registerKernels('wasm', { blas: b, native: xsmm });
  await step(); // warm-up: libxsmm JITs this workload's shapes here
  await step();
}
const N = Number(process.env.N ?? 20);
const R = Number(process.env.R ?? 9);
const ms: number[][] = sides.map(() => []);
for (let r = 0; r < R; r++) {
  const order = r % 2 ? [...sides.keys()].reverse() : [...sides.keys()];
  for (const i of order) {
    const [, step, b] = sides[i]!;
    registerKernels('wasm', { blas: b, native: xsmm });
    const t = performance.now();
    for (let s = 0; s < N; s++) await step();
    ms[i]!.push((performance.now() - t) / N);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = (a: number, b: number) => med(ms[a]!.map((x, i) => x / ms[b]![i]!));
console.log(
  `T=${T} E=${E} hidden=${H} · ${R} interleaved rounds × ${N} steps · load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
sides.forEach(([n], i) => {
  console.log(`  ${n.padEnd(16)} ${med(ms[i]!).toFixed(2)} ms`);
});
console.log(
  `  moe native ÷ dense ${ratio(0, 2).toFixed(2)}× · moe per-expert ÷ dense ${ratio(1, 2).toFixed(2)}× · native ÷ per-expert ${ratio(0, 1).toFixed(2)}×`,
);
moe.dispose();
dense.dispose();
