/**
 * wasm+libxsmm: the wrapper's sgemm against a float64 reference (every transpose, tiles,
 * strides, alpha/beta, the shapes routed to the system BLAS forced onto libxsmm too), its JIT
 * statistics, the FMA peak loop, the one-pass Adam against tfjs's Adam, and then the shared
 * kernel suite (test/support/blas-suite.ts) with libxsmm in place of the BLAS.
 * Needs the wrapper that npm install builds (kernels/native/build.mjs, from Debian's
 * libxsmm-dev); without it the suite is skipped with the reason — except with
 * MIDDLEPATH_REQUIRE_XSMM=1 (.ci/run sets it after installing libxsmm-dev), where it fails.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { installFlopCounter } from '../harness/measure/flops.ts';
import { blasKernelSuite } from '../test/support/blas-suite.ts';
import { type Blas, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS } from './blas.ts';
import { FusedAdamOptimizer } from './fused-adam.ts';
import { registerKernels } from './index.ts';
import { randomData } from './matmul-cases.ts';
import { useWasmBackend } from './wasm-setup.ts';
import { loadXsmmBlas, preferSystemBlas, type Xsmm, xsmmBlas } from './xsmm.ts';

let xsmm: Xsmm | null = null;
let blas: Blas | null = null;
let why = '';
try {
  ({ xsmm, blas } = await loadXsmmBlas());
} catch (e) {
  why = (e as Error).message;
}
if (xsmm === null && process.env.MIDDLEPATH_REQUIRE_XSMM === '1') throw new Error(`MIDDLEPATH_REQUIRE_XSMM=1 (CI) but: ${why}`);

/** float64 row-major reference of C = alpha·op(A)·op(B) + beta·C */
function reference(
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): Float64Array {
  const out = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i] as number;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[tA ? p * lda + i : i * lda + p] as number) * (b[tB ? j * ldb + p : p * ldb + j] as number);
      out[i * ldc + j] = alpha * s + beta * (c[i * ldc + j] as number);
    }
  return out;
}

describe.skipIf(xsmm === null)(
  `libxsmm wrapper (${xsmm ? `libxsmm ${xsmm.version}, JIT target ${xsmm.target}` : `skipped: ${why}`})`,
  () => {
    const SHAPES: Array<[string, number, number, number]> = [
      ['tiny', 3, 5, 4],
      ['expert rows', 8, 40, 96],
      ['crosses the 64 × 256 tiles', 130, 300, 70],
      ['few rows, long inner (routed to the BLAS by default)', 9, 33, 1030],
      ['one row', 1, 17, 9],
    ];
    const COMBOS = [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const;

    it.each(SHAPES)('%s: every transpose, padded leading dimensions, alpha and beta, agree with float64', (_, m, n, k) => {
      if (!xsmm) return;
      let seed = 100;
      for (const [tA, tB] of COMBOS) {
        for (const [alpha, beta] of [
          [1, 0],
          [1, 1],
          [2, 0.5],
        ] as const) {
          const pad = 3; // leading dimensions wider than the matrices: views into bigger tensors
          const lda = (tA ? m : k) + pad;
          const ldb = (tB ? k : n) + pad;
          const ldc = n + pad;
          const a = randomData((tA ? k : m) * lda, seed++);
          const b = randomData((tB ? n : k) * ldb, seed++);
          const c = randomData(m * ldc, seed++);
          const want = reference(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          const jit = xsmm.sgemm(tA ? 1 : 0, tB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          expect(jit).toBe(1); // the JIT ran it, not the plain loop
          let err = 0;
          let scale = 0;
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              err = Math.max(err, Math.abs((c[i * ldc + j] as number) - (want[i * ldc + j] as number)));
              scale = Math.max(scale, Math.abs(want[i * ldc + j] as number));
            }
          expect(scale).toBeGreaterThan(0);
          expect(err / scale).toBeLessThanOrEqual(2e-6 * Math.sqrt(k) + 1e-6);
          // the padding between rows of C is untouched
          if (m > 1) expect(c[n]).toBe(randomData(m * ldc, seed - 1)[n]);
        }
      }
    });

    it('routes per the stated rule: A·Bᵀ with few rows and a long inner dimension to the system BLAS, the rest to libxsmm', () => {
      if (!xsmm) return;
      expect(preferSystemBlas(false, true, 8, 256, 1024)).toBe(true);
      expect(preferSystemBlas(false, true, 32, 256, 1024)).toBe(false);
      expect(preferSystemBlas(false, false, 8, 256, 1024)).toBe(false);
      expect(preferSystemBlas(true, true, 8, 256, 1024)).toBe(false);
      const calls: string[] = [];
      const spy: Blas = {
        info: { library: 'openblas', path: 'spy', version: null, kernel: 'Spy', threads: 1, coretype: null },
        sgemm: () => void calls.push('blas'),
        setThreads: null,
      };
      const routed = xsmmBlas(xsmm, spy);
      expect(routed.info.library).toBe('libxsmm');
      expect(xsmm.kernelsVersion).toBe(2); // the wrapper built from this xsmm.c
      expect(routed.info.kernel).toBe(`${xsmm.target} kernels v2 + openblas Spy`);
      const a = randomData(8 * 1024, 1);
      const b = randomData(256 * 1024, 2);
      const c = new Float32Array(8 * 256);
      routed.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, 8, 256, 1024, 1, a, 1024, b, 1024, 0, c, 256);
      expect(calls).toEqual(['blas']);
      expect(c.every((v) => v === 0)).toBe(true); // the spy ran it, not libxsmm
      routed.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, 8, 256, 1024, 1, a, 1024, b, 256, 0, c, 256);
      expect(calls).toEqual(['blas']);
      expect(c.some((v) => v !== 0)).toBe(true);
      expect(xsmmBlas(xsmm, null).info).toMatchObject({ library: 'libxsmm', kernel: `${xsmm.target} kernels v2`, threads: 1 });
      expect(xsmmBlas({ ...xsmm, kernelsVersion: 1 }, null).info.kernel).toBe(xsmm.target); // version 1 keeps its old class
    });

    it('generates each shape once and counts the time it took', () => {
      if (!xsmm) return;
      const [m, n, k] = [11, 37, 29]; // a shape no other test uses
      const a = randomData(m * k, 5);
      const b = randomData(k * n, 6);
      const c = new Float32Array(m * n);
      const before = xsmm.jitStats();
      xsmm.sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
      const first = xsmm.jitStats();
      expect(first.kernels).toBe(before.kernels + 1);
      expect(first.seconds).toBeGreaterThan(before.seconds);
      for (let i = 0; i < 5; i++) xsmm.sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
      const later = xsmm.jitStats();
      expect([later.kernels, later.seconds]).toEqual([first.kernels, first.seconds]);
      expect(later.lookups).toBe(first.lookups + 5);
    });

    it('the FMA peak loop runs at the widest width and reports a positive rate', async () => {
      if (!xsmm) return;
      const cpuinfo = await import('node:fs').then((fs) => fs.readFileSync('/proc/cpuinfo', 'utf8'));
      expect(xsmm.fmaWidth).toBe(/\bavx512f\b/.test(cpuinfo) ? 512 : /\bfma\b/.test(cpuinfo) ? 256 : 0);
      if (xsmm.fmaWidth) expect(xsmm.fmaGflops(1e6)).toBeGreaterThan(1);
    });

    it("one-pass Adam gives tfjs's Adam update (3 steps)", async () => {
      if (!xsmm) return;
      await tf.setBackend('cpu');
      const n = 1003;
      const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
      const p0 = randomData(n, 7);
      const grads = [randomData(n, 8), randomData(n, 9), randomData(n, 10)];
      const v = tf.variable(tf.tensor1d(p0));
      const opt = tf.train.adam(lr, b1, b2, eps);
      for (const g of grads) opt.applyGradients([{ name: v.name, tensor: tf.tensor1d(g) }]);
      const want = v.dataSync();
      const p = new Float32Array(p0);
      const m1 = new Float32Array(n);
      const m2 = new Float32Array(n);
      grads.forEach((g, t) => {
        xsmm?.adam(n, p, m1, m2, g, lr, b1, b2, eps, 1 - b1 ** (t + 1), 1 - b2 ** (t + 1));
      });
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs((p[i] as number) - (want[i] as number)));
      expect(err).toBeLessThan(1e-6);
      expect(p.some((x, i) => x !== p0[i])).toBe(true);
      opt.dispose();
      v.dispose();
      await useWasmBackend();
    });
  },
);

describe.skipIf(xsmm === null)('FusedAdam (one-pass Adam through the wrapper)', () => {
  /** An MLP's Adam steps on wasm with `opt`; returns the losses, the final weights and the FLOPs of the last step. */
  function train(opt: tf.AdamOptimizer, share = false) {
    const init = tf.mul(tf.tensor(randomData(16 * 24, 80), [16, 24]), 0.3);
    const w1 = tf.variable(init); // shares init's memory while init lives (refCount 2)
    if (!share) init.dispose();
    const b1 = tf.variable(tf.zeros([24]));
    const w2 = tf.variable(tf.mul(tf.tensor(randomData(24 * 5, 81), [24, 5]), 0.3));
    const x = tf.tensor(randomData(40 * 16, 82), [40, 16]);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 40 }, (_, i) => (i * 3) % 5),
        'int32',
      ),
      5,
    );
    const loss = () => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2)) as tf.Scalar;
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const l = opt.minimize(loss, true) as tf.Scalar;
      losses.push(l.dataSync()[0] as number);
      l.dispose();
    }
    const counter = installFlopCounter('wasm');
    counter.active = true;
    tf.dispose(opt.minimize(loss, true) ?? []);
    counter.uninstall();
    const weights = [w1, b1, w2].map((v) => new Float32Array(v.dataSync()));
    const initAfter = share ? new Float32Array(init.dataSync()) : null;
    if (initAfter) expect(initAfter).toEqual(new Float32Array(tf.mul(tf.tensor(randomData(16 * 24, 80), [16, 24]), 0.3).dataSync()));
    tf.dispose([w1, b1, w2, x, y, init]);
    opt.dispose();
    return { losses, weights, flops: counter.totals.total, calls: counter.totals.calls, initAfter };
  }

  it("registers with the wrapper on wasm+libxsmm and gives tfjs's Adam: losses, weights, and the same FLOP ledger", () => {
    if (!xsmm || !blas) return;
    registerKernels('wasm');
    const t0 = tf.memory().numTensors;
    const want = train(tf.train.adam(0.02));
    const leftByTfjs = tf.memory().numTensors - t0; // the test's own constants
    expect(registerKernels('wasm', { blas, native: xsmm })).toContain('FusedAdam');
    const t1 = tf.memory().numTensors;
    const got = train(new FusedAdamOptimizer(0.02, 0.9, 0.999, 1e-7));
    expect(tf.memory().numTensors - t1).toBe(leftByTfjs); // the fused update leaks nothing more
    expect(want.losses[3]).toBeLessThan(want.losses[0] as number); // it trains
    for (const [i, l] of got.losses.entries()) expect(Math.abs(l - (want.losses[i] as number))).toBeLessThan(1e-5);
    got.weights.forEach((w, i) => {
      const ref = want.weights[i] as Float32Array;
      for (let j = 0; j < w.length; j++) expect(Math.abs((w[j] as number) - (ref[j] as number))).toBeLessThan(1e-5);
    });
    expect(got.flops).toBe(want.flops);
    expect(got.flops).toBeGreaterThan(0);
    expect(want.calls - got.calls).toBe(3 * 13); // one FusedAdam in place of tfjs's 14 kernels, for each of the 3 variables
    registerKernels('wasm');
  });

  it("a variable sharing its memory with another tensor is updated by tfjs's path, and the other tensor keeps its values", () => {
    if (!xsmm || !blas) return;
    registerKernels('wasm');
    const want = train(tf.train.adam(0.02), true);
    registerKernels('wasm', { blas, native: xsmm });
    const got = train(new FusedAdamOptimizer(0.02, 0.9, 0.999, 1e-7), true);
    for (const [i, l] of got.losses.entries()) expect(Math.abs(l - (want.losses[i] as number))).toBeLessThan(1e-5);
    expect(got.initAfter).toEqual(want.initAfter);
    // w1 shared its memory only until tfjs's path assigned it a new tensor; by the counted step all 3 are fused
    expect(want.calls - got.calls).toBe(3 * 13);
    registerKernels('wasm');
  });
});

blasKernelSuite({ title: 'libxsmm', blas, why, backend: 'wasm+libxsmm', library: /^wasm\+libxsmm 1\.17/ });
