/**
 * Microbenchmark of the wasm row kernels (kernels/wasm-rows.ts), stock vs registered, on the
 * shapes MoE dispatch moves: `node bin/run-ts.js kernels/bench-rows.ts`. Median latency of
 * short tinybench runs; every task syncs (awaits data) inside the timed call.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Bench } from 'tinybench';
import { registerWasmRowKernels, unregisterWasmRowKernels } from './wasm-rows.ts';
import { useWasmBackend } from './wasm-setup.ts';

await useWasmBackend();
const x = tf.randomNormal([1024, 256], 0, 1, 'float32', 1);
const perm = tf.tensor1d(
  Array.from({ length: 1024 }, (_, i) => (i * 7919) % 1024),
  'int32',
);
const columns = tf.tensor1d(
  Array.from({ length: 64 }, (_, i) => (i * 37) % 256),
  'int32',
);
const sizes = [120, 140, 130, 110, 150, 125, 119, 130];
const cases: Array<[string, () => tf.Tensor | tf.Tensor[]]> = [
  ['GatherV2 rows [1024,256] by 1024 ids', () => tf.gather(x, perm)],
  ['GatherV2 axis 1 [1024,256] by 64 ids', () => tf.gather(x, columns, 1)],
  ['SplitV [1024,256] into 8 row blocks', () => tf.split(x, sizes)],
];

async function time(kernels: 'stock' | 'registered') {
  if (kernels === 'stock') unregisterWasmRowKernels();
  else registerWasmRowKernels();
  const bench = new Bench({ time: 400, warmupIterations: 5 });
  for (const [name, f] of cases) {
    bench.add(name, async () => {
      const out = [f()].flat();
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
    });
  }
  await bench.run();
  return cases.map(([name]) => {
    const r = bench.getTask(name)?.result as { latency?: { p50: number }; error?: Error } | undefined;
    if (!r?.latency) throw new Error(`${name} (${kernels}) did not run: ${r?.error?.message ?? 'no result'}`);
    return r.latency.p50;
  });
}

const stock = await time('stock');
const registered = await time('registered');
console.log(
  `# kernels/bench-rows.ts — wasm row kernels · tfjs ${tf.version.tfjs} · load avg ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('| case                                  | stock ms | registered ms | speed-up |');
console.log('|---------------------------------------|---------:|--------------:|---------:|');
cases.forEach(([name], i) => {
  const s = stock[i] as number;
  const r = registered[i] as number;
  console.log(`| ${name.padEnd(37)} | ${s.toFixed(3).padStart(8)} | ${r.toFixed(3).padStart(13)} | ${(s / r).toFixed(1).padStart(7)}× |`);
});
tf.dispose([x, perm, columns]);
