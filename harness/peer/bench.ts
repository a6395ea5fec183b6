/**
 * `npm run bench:peer`: middlepath's training speed against the tool people would use instead.
 * Each workload (harness/peer/workloads.ts) runs on middlepath's wasm kernels, on wasm+BLAS
 * (kernels/blas-matmul.ts) and on PyTorch's CPU backend (torch_peer.py, same shapes, fp32),
 * in interleaved rounds — the order reverses every round — so a neighbour's burst on this
 * shared machine hits all sides alike. Ratios are taken within each round; the median round
 * is printed.
 *
 * Threads: MIDDLEPATH_BLAS_THREADS (default 1 here) for the middlepath BLAS and for PyTorch
 * (torch.set_num_threads, OPENBLAS_NUM_THREADS, OMP_NUM_THREADS); the wasm kernels use one.
 * Peak: the best of 10 native sgemm 1024³ calls on one thread of the loaded BLAS — a measured
 * single-core peak for that BLAS kernel (not the datasheet figure). Each side's share is its
 * GFLOP/s ÷ (peak × threads); FLOPs per step are middlepath's executed FLOP count.
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
import { type Blas, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, describeBlas, loadBlas, registerKernels } from '../../kernels/index.ts';
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
  const peak = singleCorePeak(blas);
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

  console.log('# bench:peer — middlepath (wasm, wasm+BLAS) vs PyTorch on the CPU, fp32, same shapes');
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
  }
  console.log(
    `threads: wasm 1 (SIMD, no threads) · wasm+BLAS ${blas.info.threads ?? 'system'} · PyTorch ${torch ? THREADS : '—'} (MIDDLEPATH_BLAS_THREADS=${THREADS})`,
  );
  console.log(
    `single-core peak (measured): ${peak.toFixed(1)} GFLOP/s = best of 10 native sgemm 1024³, 1 thread, ${blas.info.library} kernel ${blas.info.kernel ?? '?'}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds × ${STEPS} steps per side; ms = median over rounds of the round's mean; ratios = median of per-round ratios\n`,
  );

  interface Result {
    w: Workload;
    flops: number;
    ms: Record<'wasm' | 'blas' | 'torch', number[]>;
    profile: Array<[string, number]>;
  }
  const results: Result[] = [];
  for (const [i, w] of workloads.entries()) {
    const inst = w.setup();
    // FLOPs of one step, counted on the BLAS kernels (the same arithmetic on every side).
    const counter = installFlopCounter('wasm');
    counter.active = true;
    await inst.step();
    counter.active = false;
    const flops = counter.totals.total;
    counter.uninstall();
    const useBlas = (on: boolean) => registerKernels('wasm', on ? { blas } : {});
    useBlas(false);
    await inst.step(); // warm-up on each kernel set
    useBlas(true);
    await inst.step();
    if (torch) await torch.ask({ define: `w${i}`, spec: w.spec });
    const ms: Result['ms'] = { wasm: [], blas: [], torch: [] };
    const sides = (['wasm', 'blas', 'torch'] as const).filter((s) => s !== 'torch' || torch);
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        if (side === 'torch') {
          const got = (await torch?.ask({ workload: `w${i}`, steps: STEPS })) as { ms: number[] };
          ms.torch.push(mean(got.ms));
          continue;
        }
        useBlas(side === 'blas');
        const times: number[] = [];
        for (let s = 0; s < STEPS; s++) {
          const t = performance.now();
          await inst.step();
          times.push(performance.now() - t);
        }
        ms[side].push(mean(times));
      }
    }
    useBlas(true);
    const prof = /MLP|MoE layer T=1024|T=128, d=256, 16/.test(w.name) ? await profile(inst.step) : [];
    inst.dispose();
    results.push({ w, flops, ms, profile: prof });
    process.stderr.write(`  done: ${w.name}\n`);
  }
  torch?.stop();

  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / (b[i] as number)));
  const share = (flops: number, msPerStep: number, threads: number) =>
    `${((100 * flops) / (msPerStep * 1e6) / (peak * threads)).toFixed(0)}%`;
  console.log(
    '| workload | GFLOP/step | wasm ms | wasm+BLAS ms | PyTorch ms | wasm ÷ wasm+BLAS | wasm+BLAS ÷ PyTorch | share of peak: wasm / wasm+BLAS / PyTorch |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { w, flops, ms } of results) {
    const t = ms.torch.length ? median(ms.torch) : Number.NaN;
    console.log(
      `| ${w.name} | ${(flops / 1e9).toFixed(3)} | ${median(ms.wasm).toFixed(1)} | ${median(ms.blas).toFixed(1)} | ${ms.torch.length ? t.toFixed(1) : 'not measured'} | ` +
        `${ratio(ms.wasm, ms.blas).toFixed(2)}× | ${ms.torch.length ? `${ratio(ms.blas, ms.torch).toFixed(2)}×` : '—'} | ` +
        `${share(flops, median(ms.wasm), 1)} / ${share(flops, median(ms.blas), THREADS)} / ${ms.torch.length ? share(flops, t, THREADS) : '—'} |`,
    );
  }
  const find = (s: string) => results.find((r) => r.w.name.startsWith(s));
  const target = (label: string, r: Result | undefined, value: (r: Result) => number, ok: (v: number) => boolean, goal: string) => {
    if (!r) return;
    const v = value(r);
    console.log(
      `${label.padEnd(44)} ${Number.isFinite(v) ? `${v.toFixed(2)}×` : 'not measured'}  (target ${goal}: ${Number.isFinite(v) ? (ok(v) ? 'met' : 'NOT met') : '—'})`,
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

  // The issue 11 targets read a MoE layer against the dense FFN of its active parameters; each
  // side against itself, so the BLAS cancels out (workloads ran in turn: a ratio of medians).
  console.log('\nMoE layer ÷ dense FFN with the same active parameters, each side against itself:');
  for (const [moeName, ffnName, goal] of [
    ['MoE layer T=128, d=256, 16 experts top-1 of 1d', 'dense FFN T=128, d=256, 1d', 1.5],
    ['MoE layer T=128, d=256, 16 experts top-1 of 4d', 'dense FFN T=128, d=256, 4d', 1.5],
    ['MoE layer T=1024, d=256, 8 experts top-1 of 4d', 'dense FFN T=1024, d=256, 4d', 1.2],
  ] as const) {
    const m = find(moeName);
    const f = find(ffnName);
    if (!m || !f) continue;
    const of = (side: 'blas' | 'torch') =>
      m.ms[side].length && f.ms[side].length ? `${(median(m.ms[side]) / median(f.ms[side])).toFixed(2)}×` : 'not measured';
    console.log(
      `  ${moeName.slice('MoE layer '.length).padEnd(38)} middlepath wasm+BLAS ${of('blas')} · PyTorch ${of('torch')}  (target ≤ ${goal}×)`,
    );
  }

  for (const r of results.filter((x) => x.profile.length)) {
    const total = r.profile.reduce((s, [, t]) => s + t, 0);
    const matmul = r.profile.filter(([n]) => /MatMul/.test(n)).reduce((s, [, t]) => s + t, 0);
    console.log(
      `\nwhere a wasm+BLAS step goes — ${r.w.name}: kernels ${total.toFixed(1)} ms (tf.profile, one step), matmuls ${((100 * matmul) / total).toFixed(0)}%:`,
    );
    console.log(
      `  ${r.profile
        .slice(0, 8)
        .map(([n, t]) => `${n} ${t.toFixed(1)}`)
        .join(' · ')}`,
    );
  }
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s · load avg now ${loadavg()[0]?.toFixed(2)}`);
}

try {
  await main();
} catch (e) {
  console.error(`bench:peer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
