/**
 * The charlm dense step (bench:peer's workload) on wasm+libxsmm with and without the fused
 * elementwise kernels and the sharing Identity/Cast (fused-elementwise.ts, wasm-identity.ts), in
 * interleaved rounds (order reversed every round) so a neighbour's burst on a shared machine
 * hits both sides alike; the ratio is taken within each round and the median printed, with
 * each side's kernel profile (tf.profile, one step). `node bin/run-ts.js kernels/bench-fused.ts`
 * Env: ROUNDS (default 9), STEPS per side per round (default 3).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../harness/backend.ts';
import { charlmDenseStep } from '../harness/peer/workloads.ts';
import { registerFusedElementwise, unregisterFusedElementwise } from './fused-elementwise.ts';
import { registerWasmIdentity, unregisterWasmIdentity } from './wasm-identity.ts';
import { loadXsmm } from './xsmm.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const STEPS = Number(process.env.STEPS ?? 3);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const backend = await selectBackend('wasm+libxsmm');
const fused = (await loadXsmm()).fused;
if (!fused) throw new Error('the wrapper predates the fused kernels: npm run build:native');
type Side = 'fused' | 'unfused';
const use = (side: Side) => {
  if (side === 'fused') {
    registerWasmIdentity();
    registerFusedElementwise(fused);
  } else {
    unregisterFusedElementwise();
    unregisterWasmIdentity();
  }
};

const w = charlmDenseStep();
const inst = w.setup();
const ms: Record<Side, number[]> = { fused: [], unfused: [] };
const load0 = loadavg();
for (const side of ['fused', 'unfused'] as const) {
  use(side);
  await inst.step(); // warm-up (JIT, first calls)
}
for (let r = 0; r < ROUNDS; r++) {
  for (const side of r % 2 === 0 ? (['unfused', 'fused'] as const) : (['fused', 'unfused'] as const)) {
    use(side);
    const t = performance.now();
    for (let s = 0; s < STEPS; s++) await inst.step();
    ms[side].push((performance.now() - t) / STEPS);
  }
}
const profiles: Record<Side, Array<[string, number]>> = { fused: [], unfused: [] };
for (const side of ['unfused', 'fused'] as const) {
  use(side);
  const info = await tf.profile(inst.step);
  const by = new Map<string, number>();
  for (const k of info.kernels) {
    // wrappers whose inner kernels are listed themselves
    if (k.name === 'forward' || k.name.endsWith('__op')) continue;
    by.set(k.name, (by.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  }
  profiles[side] = [...by].sort((x, y) => y[1] - x[1]);
}
inst.dispose();

console.log(`# kernels/bench-fused.ts — ${w.name}, ${backend.blas ? `wasm+${backend.blas.library} ${backend.blas.kernel}` : backend.name}`);
console.log(
  `tfjs ${tf.version.tfjs} · node ${process.version} · load avg before ${load0.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} · ${ROUNDS} interleaved rounds × ${STEPS} steps`,
);
const ratios = ms.unfused.map((u, i) => u / (ms.fused[i] as number));
console.log(`| kernels | median ms/step | min ms/step |`);
console.log(`|---|---:|---:|`);
for (const side of ['unfused', 'fused'] as const)
  console.log(
    `| ${side === 'fused' ? 'fused elementwise + sharing Identity' : 'stock elementwise'} | ${median(ms[side]).toFixed(1)} | ${Math.min(...ms[side]).toFixed(1)} |`,
  );
console.log(
  `unfused ÷ fused, median of per-round ratios: ${median(ratios).toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
);
for (const side of ['unfused', 'fused'] as const) {
  const total = profiles[side].reduce((a, [, t]) => a + t, 0);
  console.log(
    `\n${side} step, kernels ${total.toFixed(1)} ms (tf.profile, one step): ${profiles[side]
      .slice(0, 12)
      .map(([k, t]) => `${k} ${t.toFixed(1)}`)
      .join(' · ')}`,
  );
}
