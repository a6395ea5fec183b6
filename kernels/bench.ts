/**
 * Microbenchmark of the wasm matmul kernels: stock tfjs-backend-wasm vs registered
 * (kernels/wasm-matmul.ts), in one run. `npm run bench:kernels` (or `npx tsx kernels/bench.ts`).
 *
 * GFLOP/s use the median latency (the build machines are shared, and the median is the
 * figure least moved by a neighbour's burst); mean and its 95% margin are shown too.
 * Every task syncs (awaits the result's data) inside the timed call.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Bench } from 'tinybench';
import { registerWasmMatMulKernels, unregisterWasmMatMulKernels } from './wasm-matmul.ts';
import { useWasmBackend } from './wasm-setup.ts';

type Kernels = 'stock' | 'registered' | 'registered, plan operands';

interface Variant {
  kernels: Kernels;
  /** per-variant budget: the stock transposed products take ~0.3-1 s per call */
  slow?: boolean;
}

interface Case {
  name: string;
  flops: number;
  variants: Variant[];
  /** builds the inputs once; returns the timed step (which must sync) and a cleanup */
  setup(): { step: () => Promise<void>; dispose: () => void };
}

interface Row {
  name: string;
  kernels: Kernels;
  flops: number;
  meanMs: number;
  moePct: number;
  medianMs: number;
  samples: number;
}

function use(kernels: Kernels): void {
  if (kernels === 'stock') unregisterWasmMatMulKernels();
  else registerWasmMatMulKernels({ plan: kernels === 'registered' ? 'cheapest' : 'operands' });
}

function matmulCase(name: string, aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean, variants: Variant[]): Case {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = (transposeA ? aShape[ra - 1] : aShape[ra - 2]) ?? 0;
  const k = (transposeA ? aShape[ra - 2] : aShape[ra - 1]) ?? 0;
  const n = (transposeB ? bShape[rb - 2] : bShape[rb - 1]) ?? 0;
  const batch = Math.max(...[aShape.slice(0, -2), bShape.slice(0, -2)].map((s) => s.reduce((p, d) => p * d, 1)));
  return {
    name,
    flops: 2 * batch * m * k * n,
    variants,
    setup() {
      const a = tf.randomNormal(aShape);
      const b = tf.randomNormal(bShape);
      return {
        step: async () => {
          const c = tf.matMul(a, b, transposeA, transposeB);
          await c.data();
          c.dispose();
        },
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

/** MLP 512→2048→512, batch 256, Adam, softmax cross-entropy; FLOPs = 6·params·batch. */
function mlpCase(variants: Variant[]): Case {
  const batch = 256;
  const dIn = 512;
  const hidden = 2048;
  const classes = 512;
  const params = dIn * hidden + hidden + hidden * classes + classes;
  return {
    name: `MLP step ${dIn}→${hidden}→${classes}, batch ${batch}, Adam`,
    flops: 6 * params * batch,
    variants,
    setup() {
      const w1 = tf.variable(tf.randomNormal([dIn, hidden], 0, Math.sqrt(2 / dIn)));
      const b1 = tf.variable(tf.zeros([hidden]));
      const w2 = tf.variable(tf.randomNormal([hidden, classes], 0, Math.sqrt(1 / hidden)));
      const b2 = tf.variable(tf.zeros([classes]));
      const x = tf.randomNormal([batch, dIn]);
      const labels = tf.randomUniform([batch], 0, classes, 'int32') as tf.Tensor1D;
      const y = tf.oneHot(labels, classes);
      const opt = tf.train.adam(1e-3);
      const loss = (): tf.Scalar => {
        const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
        const logits = tf.add(tf.matMul(h, w2), b2);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      return {
        step: async () => {
          const l = opt.minimize(loss, true);
          if (l === null) throw new Error('minimize returned no loss');
          await l.data();
          l.dispose();
        },
        dispose: () => {
          opt.dispose();
          tf.dispose([w1, b1, w2, b2, x, labels, y]);
        },
      };
    },
  };
}

async function measure(c: Case, v: Variant): Promise<Row> {
  use(v.kernels);
  const { step, dispose } = c.setup();
  try {
    const bench = new Bench({
      time: v.slow ? 0 : 1500,
      iterations: v.slow ? 3 : 5,
      warmup: true,
      warmupTime: 0,
      warmupIterations: 1,
      throws: true,
    });
    bench.add(`${c.name} [${v.kernels}]`, step);
    await bench.run();
    const task = bench.tasks[0];
    const r = task?.result;
    if (r === undefined || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
      throw new Error(`${c.name} [${v.kernels}]: benchmark did not complete (${r?.state ?? 'no task'})`);
    }
    const lat = r.latency;
    return {
      name: c.name,
      kernels: v.kernels,
      flops: c.flops,
      meanMs: lat.mean,
      moePct: lat.mean > 0 ? (100 * lat.moe) / lat.mean : 0,
      medianMs: lat.p50,
      samples: lat.df + 1,
    };
  } finally {
    dispose();
  }
}

const gflops = (row: Row) => row.flops / (row.medianMs * 1e6);

function printTable(rows: Row[]): void {
  const head = ['case', 'kernels', 'median ms', 'mean ms ±95%', 'n', 'GFLOP/s', 'vs stock'];
  const body = rows.map((r) => {
    const stock = rows.find((s) => s.name === r.name && s.kernels === 'stock');
    const speedup = stock && r !== stock ? `${(stock.medianMs / r.medianMs).toFixed(1)}×` : '';
    return [
      r.name,
      r.kernels,
      r.medianMs.toFixed(2),
      `${r.meanMs.toFixed(2)} ±${r.moePct.toFixed(0)}%`,
      String(r.samples),
      gflops(r).toFixed(2),
      speedup,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  await useWasmBackend();
  const require = createRequire(import.meta.url);
  const wasmVersion = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# kernels/bench.ts — wasm matmul kernels, stock vs registered`);
  console.log(
    `backend ${tf.getBackend()} (tfjs-backend-wasm ${wasmVersion}, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, ` +
      `threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}) · tfjs ${tf.version.tfjs} · node ${process.version} · ` +
      `${cpu} × ${os.cpus().length} logical CPUs · load avg ${os.loadavg()[0]?.toFixed(2) ?? '?'}`,
  );
  console.log('GFLOP/s from the median latency; each call syncs (await data()).\n');

  const both: Variant[] = [{ kernels: 'stock', slow: true }, { kernels: 'registered' }];
  const bothFast: Variant[] = [{ kernels: 'stock' }, { kernels: 'registered' }];
  const plans: Variant[] = [{ kernels: 'stock', slow: true }, { kernels: 'registered, plan operands' }, { kernels: 'registered' }];
  const square = matmulCase('square 512×512·512×512', [512, 512], [512, 512], false, false, bothFast);
  const mlp = mlpCase(both);
  const cases: Case[] = [
    square,
    matmulCase('[256,512]ᵀ·[256,2048]', [256, 512], [256, 2048], true, false, both),
    matmulCase('[256,512]·[2048,512]ᵀ', [256, 512], [2048, 512], false, true, plans),
    matmulCase('[512,256]ᵀ·[2048,512]ᵀ', [512, 256], [2048, 512], true, true, plans),
    matmulCase('batched [8,256,512]·[8,512,256]', [8, 256, 512], [8, 512, 256], false, false, both),
    mlp,
  ];
  const rows: Row[] = [];
  for (const c of cases) for (const v of c.variants) rows.push(await measure(c, v));
  unregisterWasmMatMulKernels();

  printTable(rows);
  console.log('');
  for (const k of ['stock', 'registered'] as const) {
    const sq = rows.find((r) => r.name === square.name && r.kernels === k);
    const step = rows.find((r) => r.name === mlp.name && r.kernels === k);
    if (sq && step) {
      const ratio = gflops(step) / gflops(sq);
      console.log(
        `MLP step GFLOP/s ÷ square matmul GFLOP/s, ${k.padEnd(10)}: ${gflops(step).toFixed(2)} / ${gflops(sq).toFixed(2)} = ${(100 * ratio).toFixed(1)}%` +
          (k === 'registered' ? `  (target ≥ 60%: ${ratio >= 0.6 ? 'met' : 'NOT met'})` : ''),
      );
    }
  }
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s · load avg now ${os.loadavg()[0]?.toFixed(2) ?? '?'}`);
}

try {
  await main();
} catch (e) {
  // Print just the message: the wasm glue's own uncaught-exception hook dumps its whole source.
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
