/**
 * `npm run bench:peer`: middlepath's training speed against the tool people would use instead.
 * Each workload (harness/peer/workloads.ts) runs on middlepath's wasm kernels, on wasm+BLAS
 * (kernels/blas-matmul.ts), on wasm+libxsmm (kernels/xsmm.ts, when the wrapper is built) and on
 * PyTorch's CPU backend (torch_peer.py, same shapes, fp32),
 * in interleaved rounds — the order reverses every round — so a neighbour's burst on this
 * shared machine hits all sides alike. Ratios are taken within each round; the median round
 * is printed.
 *
 * Threads: MIDDLEPATH_BLAS_THREADS (default 1 here) for the middlepath BLAS and for PyTorch
 * (torch.set_num_threads, OPENBLAS_NUM_THREADS, OMP_NUM_THREADS); the wasm kernels use one.
 * Two peaks, both measured on one thread here (not datasheet figures):
 * - the BLAS's own best: the best of 10 native sgemm 1024³ calls of the loaded BLAS;
 * - the machine's: the best of the wrapper's FMA loop (12 independent chains of the widest FMA
 *   the CPU has, AVX-512 on Zen 5) and libxsmm's JIT on a cache-resident 128×256×256 product.
 * Each side's share is its GFLOP/s ÷ (peak × threads), of both peaks; FLOPs per step are
 * middlepath's executed FLOP count. The fastest path is the faster of wasm+BLAS and wasm+libxsmm.
 * wasm+libxsmm includes its FusedAdam (Adam in one pass) and the fused elementwise kernels (GELU,
 * LayerNorm, the loss, Sum over leading axes: kernels/fused-elementwise.ts), as training on that
 * backend does; the wasm and wasm+BLAS sides run tfjs's Adam and the composite ops.
 * PyTorch is optional: /usr/bin/python3 with Debian's python3-torch (PYTHON to override).
 * Env: ROUNDS (default 5), STEPS per side per round (default 3), WORKLOADS (comma-separated
 * substrings of the workload names to keep).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {
  type Blas,
  CBLAS_NO_TRANS,
  CBLAS_ROW_MAJOR,
  describeBlas,
  loadBlas,
  loadXsmm,
  registerKernels,
  type Xsmm,
  xsmmBlas,
} from '../../kernels/index.ts';
import { selectBackend } from '../backend.ts';
import { installFlopCounter } from '../measure/flops.ts';
import { charlmDenseStep, ffnLayer, mlpStep, moeLayer, squareMatMul, type Workload } from './workloads.ts';

process.env.MIDDLEPATH_BLAS_THREADS ??= '1';
const THREADS = Number(process.env.MIDDLEPATH_BLAS_THREADS);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const STEPS = Number(process.env.STEPS ?? 3);
const KEEP = process.env.WORKLOADS?.split(',').map((s) => s.trim().toLowerCase());
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The PyTorch side as a line-JSON child process; null (with the reason printed) when unavailable. */
async function startTorch(): Promise<{
  header: Record<string, unknown>;
  ask(req: object): Promise<Record<string, unknown>>;
  stop(): void;
} | null> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');
  const env = { ...process.env, THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS), OMP_NUM_THREADS: String(THREADS) };
  const child = spawn(PYTHON, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error(stderr.trim().split('\n').slice(-1)[0] || 'the PyTorch process ended');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
    const header = await next();
    return {
      header,
      ask: async (req) => {
        child.stdin.write(`${JSON.stringify(req)}\n`);
        return next();
      },
      stop: () => child.stdin.end(),
    };
  } catch (e) {
    console.log(`PyTorch: not measured — ${(e as Error).message}`);
    console.log(
      '  install: apt-get install -y python3-torch libopenblas0 (Debian/Ubuntu; without libopenblas0 it runs on the reference BLAS)',
    );
    child.kill();
    return null;
  }
}

/** The BLAS file this process mapped (Linux), to compare with PyTorch's. */
function mappedBlas(): string | null {
  try {
    const paths = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/).slice(5).join(' '))
      .filter((p) => /blas|blis/.test(p.split('/').pop() ?? ''));
    return [...new Set(paths)].join(', ') || null;
  } catch {
    return null;
  }
}

/** Best of 10 native sgemm 1024³ on one thread, GFLOP/s. */
function singleCorePeak(blas: Blas): number {
  const n = 1024;
  const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
  const b = Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5);
  const c = new Float32Array(n * n);
  const threads = blas.info.threads;
  blas.setThreads?.(1);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    blas.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1, a, n, b, n, 0, c, n);
    best = Math.min(best, performance.now() - t);
  }
  if (threads !== null) blas.setThreads?.(threads);
  return (2 * n ** 3) / (best * 1e6);
}

/**
 * The machine's single-core fp32 peak: the best of the FMA loop (40 short runs) and of libxsmm's JIT
 * on a product that stays in cache (best of 200 calls, after the first, which JITs).
 */
function machinePeak(xsmm: Xsmm): { gflops: number; fma: number; jit: number; how: string } {
  // many short runs (~5 ms each), best kept: a shared machine's bursts miss some of them
  let fma = 0;
  for (let i = 0; i < 40; i++) fma = Math.max(fma, xsmm.fmaGflops(3e6));
  const [m, k, n] = [128, 256, 256];
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5);
  const c = new Float32Array(m * n);
  xsmm.sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    xsmm.sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
    best = Math.min(best, performance.now() - t);
  }
  const jit = (2 * m * n * k) / (best * 1e6);
  const how =
    fma >= jit
      ? `FMA loop, ${xsmm.fmaWidth}-bit, 12 independent chains`
      : `libxsmm ${xsmm.version} JIT (${xsmm.target}) on ${m}×${k}×${n}, in cache`;
  return { gflops: Math.max(fma, jit), fma, jit, how };
}

/** Kernel time of one step by kernel name (tf.profile), for "where the rest goes". */
async function profile(step: () => Promise<void>): Promise<Array<[string, number]>> {
  const info = await tf.profile(step);
  const by = new Map<string, number>();
  for (const k of info.kernels) {
    // 'forward' is tf.customGrad's wrapper around kernels that are listed themselves
    if (k.name !== 'forward') by.set(k.name, (by.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  }
  return [...by].sort((x, y) => y[1] - x[1]);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const active = await selectBackend('wasm+blas').catch((e: Error) => {
    throw new Error(`bench:peer compares wasm with wasm+BLAS and needs a system BLAS: ${e.message}`);
  });
  const blas = await loadBlas();
  const blasPeak = singleCorePeak(blas);
  const xsmm = await loadXsmm().catch((e: Error) => {
    console.log(`wasm+libxsmm: not measured — ${e.message}`);
    return null;
  });
  const xblas = xsmm ? xsmmBlas(xsmm, blas) : null;
  const machine = xsmm ? machinePeak(xsmm) : null;
  // without the wrapper the machine's peak is not measured: shares fall back to the BLAS's
  const peak = machine?.gflops ?? blasPeak;
  const torch = await startTorch();
  const workloads: Workload[] = [
    squareMatMul(),
    mlpStep(),
    moeLayer(1024, 256, 8, 1024),
    charlmDenseStep(),
    moeLayer(128, 256, 8, 256, ' (parity & mnist cpu batch)'),
    moeLayer(128, 256, 16, 256, ' (parity & mnist cpu batch)'),
    ffnLayer(128, 256, 256),
    moeLayer(128, 256, 16, 1024),
    ffnLayer(128, 256, 1024),
    ffnLayer(1024, 256, 1024),
  ].filter((w) => !KEEP || KEEP.some((k) => w.name.toLowerCase().includes(k)));

  console.log('# bench:peer — middlepath (wasm, wasm+BLAS, wasm+libxsmm) vs PyTorch on the CPU, fp32, same shapes');
  console.log(
    `tfjs ${tf.version.tfjs} (${active.name}: ${describeBlas(blas.info)}, ${mappedBlas() ?? blas.info.path}) · node ${process.version} · load avg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (torch) {
    const h = torch.header as { torch: string; threads: number; blas: string[]; kernel: string | null };
    console.log(
      `PyTorch ${h.torch}, ${h.threads} thread(s), BLAS loaded: ${h.blas.join(', ') || 'none found in its memory map'}${h.kernel ? ` (${h.kernel})` : ''}`,
    );
    if (process.env.OPENBLAS_CORETYPE)
      console.log(
        `  its OpenBLAS (and wasm+BLAS's) runs the ${process.env.OPENBLAS_CORETYPE} kernel because the environment sets OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} (left as it is)`,
      );
  }
  console.log(
    `threads: wasm 1 (SIMD, no threads) · wasm+BLAS ${blas.info.threads ?? 'system'} · PyTorch ${torch ? THREADS : '—'} (MIDDLEPATH_BLAS_THREADS=${THREADS})`,
  );
  if (xblas) console.log(`wasm+libxsmm: ${describeBlas(xblas.info)} (${xsmm?.path}); the system BLAS for A·Bᵀ with < 32 rows and k ≥ 1024`);
  console.log(
    `BLAS's own peak (measured): ${blasPeak.toFixed(1)} GFLOP/s = best of 10 native sgemm 1024³, 1 thread, ${blas.info.library} kernel ${blas.info.kernel ?? '?'}`,
  );
  console.log(
    machine
      ? `machine's single-core peak (measured): ${machine.gflops.toFixed(1)} GFLOP/s = ${machine.how} (FMA loop ${machine.fma.toFixed(1)}, libxsmm JIT ${machine.jit.toFixed(1)})`
      : `machine's single-core peak: not measured (needs the libxsmm wrapper); shares below are of the BLAS's peak`,
  );
  console.log(
    `${ROUNDS} interleaved rounds × ${STEPS} steps per side; ms = median over rounds of the round's mean; ratios = median of per-round ratios\n`,
  );

  type Side = 'wasm' | 'blas' | 'xsmm' | 'torch';
  interface Result {
    w: Workload;
    flops: number;
    ms: Record<Side, number[]>;
    profile: Array<{ side: Side; kernels: Array<[string, number]> }>;
  }
  const jitLines: string[] = [];
  const results: Result[] = [];
  for (const [i, w] of workloads.entries()) {
    const inst = w.setup();
    const jitBefore = xsmm?.jitStats();
    // FLOPs of one step, counted on the BLAS kernels (the same arithmetic on every side).
    const counter = installFlopCounter('wasm');
    counter.active = true;
    await inst.step();
    counter.active = false;
    const flops = counter.totals.total;
    counter.uninstall();
    const use = (side: Exclude<Side, 'torch'>) =>
      registerKernels('wasm', side === 'blas' ? { blas } : side === 'xsmm' && xblas && xsmm ? { blas: xblas, native: xsmm } : {});
    const local = (['wasm', 'blas', 'xsmm'] as const).filter((s) => s !== 'xsmm' || xblas);
    for (const side of local) {
      use(side);
      await inst.step(); // warm-up on each kernel set (libxsmm JITs this workload's shapes here)
    }
    const jitAfter = xsmm?.jitStats();
    if (jitBefore && jitAfter && jitAfter.kernels > jitBefore.kernels)
      jitLines.push(
        `${w.name}: ${jitAfter.kernels - jitBefore.kernels} kernels in ${((jitAfter.seconds - jitBefore.seconds) * 1e3).toFixed(2)} ms`,
      );
    if (torch) await torch.ask({ define: `w${i}`, spec: w.spec });
    const ms: Result['ms'] = { wasm: [], blas: [], xsmm: [], torch: [] };
    const sides = [...local, ...(torch ? (['torch'] as const) : [])];
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        if (side === 'torch') {
          const got = (await torch?.ask({ workload: `w${i}`, steps: STEPS })) as { ms: number[] };
          ms.torch.push(mean(got.ms));
          continue;
        }
        use(side);
        const times: number[] = [];
        for (let s = 0; s < STEPS; s++) {
          const t = performance.now();
          await inst.step();
          times.push(performance.now() - t);
        }
        ms[side].push(mean(times));
      }
    }
    const profiles: Result['profile'] = [];
    if (/MLP|MoE layer T=1024|T=128, d=256, 16|charlm/.test(w.name)) {
      for (const side of local.filter((x) => x !== 'wasm')) {
        use(side);
        profiles.push({ side, kernels: await profile(inst.step) });
      }
    }
    inst.dispose();
    results.push({ w, flops, ms, profile: profiles });
    process.stderr.write(`  done: ${w.name}\n`);
  }
  torch?.stop();

  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / (b[i] as number)));
  const has = (xs: number[]) => xs.length > 0;
  const pct = (flops: number, msPerStep: number, threads: number, of: number) =>
    `${((100 * flops) / (msPerStep * 1e6) / (of * threads)).toFixed(0)}%`;
  /** the faster middlepath path of a result: wasm+BLAS or wasm+libxsmm */
  const fastest = (r: Result): 'blas' | 'xsmm' => (has(r.ms.xsmm) && median(r.ms.xsmm) < median(r.ms.blas) ? 'xsmm' : 'blas');
  const label: Record<Side, string> = { wasm: 'wasm', blas: 'wasm+BLAS', xsmm: 'wasm+libxsmm', torch: 'PyTorch' };
  const msOf = (xs: number[]) => (has(xs) ? median(xs).toFixed(1) : 'not measured');
  console.log(
    '| workload | GFLOP/step | wasm ms | wasm+BLAS ms | wasm+libxsmm ms | PyTorch ms | wasm ÷ wasm+BLAS | wasm+BLAS ÷ wasm+libxsmm | fastest ÷ PyTorch | share of machine peak: wasm / BLAS / libxsmm / PyTorch | share of BLAS peak: same |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const { w, flops, ms } = r;
    const f = fastest(r);
    const shares = (of: number) =>
      (['wasm', 'blas', 'xsmm', 'torch'] as const)
        .map((side) => (has(ms[side]) ? pct(flops, median(ms[side]), side === 'wasm' ? 1 : THREADS, of) : '—'))
        .join(' / ');
    console.log(
      `| ${w.name} | ${(flops / 1e9).toFixed(3)} | ${msOf(ms.wasm)} | ${msOf(ms.blas)} | ${msOf(ms.xsmm)} | ${msOf(ms.torch)} | ` +
        `${ratio(ms.wasm, ms.blas).toFixed(2)}× | ${has(ms.xsmm) ? `${ratio(ms.blas, ms.xsmm).toFixed(2)}×` : '—'} | ` +
        `${has(ms.torch) ? `${ratio(ms[f], ms.torch).toFixed(2)}× (${label[f]})` : '—'} | ${shares(peak)} | ${shares(blasPeak)} |`,
    );
  }
  const find = (s: string) => results.find((r) => r.w.name.startsWith(s));
  const target = (label: string, r: Result | undefined, value: (r: Result) => number, ok: (v: number) => boolean, goal: string) => {
    if (!r) return;
    const v = value(r);
    console.log(
      `${label.padEnd(52)} ${Number.isFinite(v) ? `${v.toFixed(2)}×` : 'not measured'}  (target ${goal}: ${Number.isFinite(v) ? (ok(v) ? 'met' : 'NOT met') : '—'})`,
    );
  };
  console.log('');
  const speedup = (r: Result) => ratio(r.ms.wasm, r.ms.blas);
  const vsTorch = (r: Result) => (r.ms.torch.length ? ratio(r.ms.blas, r.ms.torch) : Number.NaN);
  // the speed-up target is set for one BLAS thread (the wasm side always has one)
  target(
    `MLP step, wasm ÷ wasm+BLAS (${THREADS} thread${THREADS === 1 ? '' : 's'})`,
    find('MLP'),
    speedup,
    (v) => v >= 2,
    THREADS === 1 ? '≥ 2' : '≥ 2 at 1 thread',
  );
  target('charlm dense step, wasm ÷ wasm+BLAS', find('charlm'), speedup, (v) => v >= 1.5, '≥ 1.5');
  target('MLP step, wasm+BLAS ÷ PyTorch', find('MLP'), vsTorch, (v) => v <= 2, '≤ 2');
  target('MoE layer T=1024, wasm+BLAS ÷ PyTorch', find('MoE layer T=1024'), vsTorch, (v) => v <= 2, '≤ 2');

  // Issue 22's targets: on the fastest path, against the machine's peak.
  console.log(`
issue 22 targets (fastest path = the faster of wasm+BLAS and wasm+libxsmm, per workload; ${THREADS} thread(s)):`);
  for (const r of results) {
    const f = fastest(r);
    target(
      `${r.w.name.slice(0, 40)} ÷ PyTorch (${label[f]})`,
      r,
      (x) => (has(x.ms.torch) ? ratio(x.ms[f], x.ms.torch) : Number.NaN),
      (v) => v <= 1,
      '≤ 1.0',
    );
  }
  const mlp = find('MLP');
  if (mlp) {
    const f = fastest(mlp);
    const share = mlp.flops / (median(mlp.ms[f]) * 1e6) / (peak * THREADS);
    console.log(
      `${`MLP Adam step, share of the machine's peak (${label[f]})`.padEnd(52)} ${machine ? `${(100 * share).toFixed(0)}%` : 'not measured'}  (target ≥ 50%: ${machine ? (share >= 0.5 ? 'met' : 'NOT met') : '— (no machine peak)'})`,
    );
  }
  console.log(`${'cpu-tier smoke suite (npm start) ≤ 2 min'.padEnd(52)} not measured here (time npm start on an idle machine)`);

  // The issue 11 / 22 targets read a MoE layer against the dense FFN of its active parameters; each
  // side against itself, so the library cancels out (workloads ran in turn: a ratio of medians).
  console.log('\nMoE layer ÷ dense FFN with the same active parameters, each side against itself:');
  for (const [moeName, ffnName, goal] of [
    ['MoE layer T=128, d=256, 16 experts top-1 of 1d', 'dense FFN T=128, d=256, 1d', 1.5],
    ['MoE layer T=128, d=256, 16 experts top-1 of 4d', 'dense FFN T=128, d=256, 4d', 1.5],
    ['MoE layer T=1024, d=256, 8 experts top-1 of 4d', 'dense FFN T=1024, d=256, 4d', 1.2],
  ] as const) {
    const m = find(moeName);
    const f = find(ffnName);
    if (!m || !f) continue;
    const of = (side: Side) => (has(m.ms[side]) && has(f.ms[side]) ? median(m.ms[side]) / median(f.ms[side]) : Number.NaN);
    const show = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'not measured');
    const best = Math.min(of('blas'), Number.isFinite(of('xsmm')) ? of('xsmm') : Number.POSITIVE_INFINITY);
    console.log(
      `  ${moeName.slice('MoE layer '.length).padEnd(38)} wasm+BLAS ${show(of('blas'))} · wasm+libxsmm ${show(of('xsmm'))} · PyTorch ${show(of('torch'))}  (target ≤ ${goal}×, best middlepath path: ${best <= goal ? 'met' : 'NOT met'})`,
    );
  }
  if (jitLines.length)
    console.log(
      `\nlibxsmm JIT, first calls (in each workload's counted and warm-up steps, off the timed rounds):\n  ${jitLines.join('\n  ')}`,
    );

  for (const r of results) {
    for (const { side, kernels } of r.profile) {
      const total = kernels.reduce((s, [, t]) => s + t, 0);
      const matmul = kernels.filter(([n]) => /MatMul/.test(n)).reduce((s, [, t]) => s + t, 0);
      console.log(
        `\nwhere a ${label[side]} step goes — ${r.w.name}: kernels ${total.toFixed(1)} ms (tf.profile, one step), matmuls ${((100 * matmul) / total).toFixed(0)}%:`,
      );
      console.log(
        `  ${kernels
          .slice(0, 10)
          .map(([n, t]) => `${n} ${t.toFixed(1)}`)
          .join(' · ')}`,
      );
    }
  }
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s · load avg now ${loadavg()[0]?.toFixed(2)}`);
}

try {
  await main();
} catch (e) {
  console.error(`bench:peer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
