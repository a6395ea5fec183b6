/**
 * The BLAS-backed kernels (wasm+blas on the system BLAS, wasm+libxsmm on libxsmm's JIT)
 * against the wasm kernels, on the same inputs in one process: matmuls in every transpose
 * combination, batched and broadcast, fused bias + each activation, their gradients, the
 * grouped expert matmuls, a MoE layer, the FLOP ledger, the losses of a few training steps,
 * and leaks. Used by blas-matmul.test.ts and xsmm-matmul.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildContext } from '../harness/build-context.ts';
import { collectFingerprint, hardwareClass } from '../harness/measure/fingerprint.ts';
import { installFlopCounter } from '../harness/measure/flops.ts';
import { groupedKernelsAvailable, groupedLinear } from '../harness/nn/grouped-matmul.ts';
import { moe } from '../harness/nn/moe.ts';
import { fingerprint } from '../harness/results/record.ts';
import { type Blas, describeBlas } from './blas.ts';
import { blasInUse, blasMatMulKernelsRegistered } from './blas-matmul.ts';
import { registerKernels } from './index.ts';
import { BROADCAST_CASES, CASES, type Case, COMBOS, randomData, relErr, shapesFor } from './matmul-cases.ts';
import { useWasmBackend } from './wasm-setup.ts';

export const REL_TOL = 2e-5;

export interface BlasSuite {
  /** 'BLAS', 'libxsmm': names the describe block */
  title: string;
  /** the library, or null with `why` (the suite is then skipped) */
  blas: Blas | null;
  why: string;
  /** the harness backend name that runs on it */
  backend: 'wasm+blas' | 'wasm+libxsmm';
  /** what the fingerprint's backend must start with */
  library: RegExp;
}

export function blasKernelSuite({ title, blas, why, backend, library }: BlasSuite): void {
  const rand = (shape: number[], seed: number) =>
    tf.tensor(
      randomData(
        shape.reduce((p, d) => p * d, 1),
        seed,
      ),
      shape,
    );

  /** Runs fn with the BLAS kernels registered or not, returning its outputs as arrays. */
  function on(withBlas: boolean, fn: () => tf.Tensor[]): Float32Array[] {
    registerKernels('wasm', withBlas && blas ? { blas } : {});
    expect(blasMatMulKernelsRegistered()).toBe(withBlas);
    const outs = tf.tidy(fn);
    const data = outs.map((t) => new Float32Array(t.dataSync()));
    tf.dispose(outs);
    return data;
  }

  function expectAgree(fn: () => tf.Tensor[]): void {
    const want = on(false, fn);
    const got = on(true, fn);
    expect(got.length).toBe(want.length);
    expect(want.some((w) => w.some((v) => v !== 0))).toBe(true); // not a vacuous comparison
    want.forEach((w, i) => {
      const e = relErr(got[i] as Float32Array, w);
      expect(Number.isFinite(e)).toBe(true);
      expect(e).toBeLessThanOrEqual(REL_TOL);
    });
  }

  const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;

  const shapes = (c: Case, tA: boolean, tB: boolean) => shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);

  beforeAll(async () => {
    await useWasmBackend();
  });
  afterAll(() => {
    registerKernels('wasm'); // leave the process on the plain wasm kernels
  });

  describe.skipIf(blas === null)(`${title} kernels vs wasm kernels (${blas ? describeBlas(blas.info) : `skipped: ${why}`})`, () => {
    it('registers over wasm with a BLAS and comes off without one', () => {
      if (!blas) return;
      const names = registerKernels('wasm', { blas });
      expect(names).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul', 'GroupedMatMul', 'GroupedMatMulGrad']));
      expect(blasInUse()).toEqual(blas.info);
      expect(groupedKernelsAvailable()).toBe(true);
      registerKernels('wasm');
      expect(blasInUse()).toBeNull();
      expect(groupedKernelsAvailable()).toBe(false);
    });

    it('the fingerprint names the BLAS, and the record schema takes it', async () => {
      if (!blas) return;
      registerKernels('wasm', { blas });
      const fp = await collectFingerprint({ backend, backendVersion: '4.22.0', device: 'cpu' });
      expect(fp.backend).toBe(`wasm+${describeBlas(blas.info)}`);
      expect(fp.backend).toMatch(library);
      expect(fingerprint.parse(fp).blas).toEqual({
        library: blas.info.library,
        version: blas.info.version,
        kernel: blas.info.kernel,
        threads: blas.info.threads,
      });
      expect(hardwareClass(fp)).toContain(`· wasm+${blas.info.library}`);
      registerKernels('wasm');
      const plain = await collectFingerprint({ backend: 'wasm', backendVersion: '4.22.0', device: 'cpu' });
      expect([plain.backend, plain.blas]).toEqual(['wasm', undefined]);
    });

    describe.each([...CASES, ...BROADCAST_CASES])('$name', (c) => {
      it.each(COMBOS)('matMul(transposeA=%s, transposeB=%s) and its gradients', (tA, tB) => {
        const { a, b } = shapes(c, tA, tB);
        expectAgree(() => {
          const x = rand(a, 1);
          const y = rand(b, 2);
          const out = tf.matMul(x, y, tA, tB);
          // tfjs's own matmul gradient cannot reduce over broadcast batch dims: forward only there
          if (String(c.batchA) !== String(c.batchB)) return [out];
          const w = rand(out.shape, 3); // weights the loss so every output entry has its own gradient
          const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, tA, tB), w)))([x, y]);
          return [out, ...grads];
        });
      });
    });

    describe.each(CASES)('fused $name', (c) => {
      it.each(ACTIVATIONS)('bias + %s, every transpose, with gradients', (activation) => {
        for (const [tA, tB] of COMBOS) {
          const { a, b } = shapes(c, tA, tB);
          expectAgree(() => {
            const x = rand(a, 4);
            const y = rand(b, 5);
            const bias = rand([c.n], 6);
            const prelu = activation === 'prelu' ? tf.abs(rand([c.n], 7)) : undefined;
            const f = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
              tf.fused.matMul({
                a: p,
                b: q,
                transposeA: tA,
                transposeB: tB,
                bias: r,
                activation,
                preluActivationWeights: prelu,
                leakyreluAlpha: 0.3,
              });
            const out = f(x, y, bias);
            if (String(c.batchA) !== String(c.batchB)) return [out];
            const w = rand(out.shape, 8);
            return [out, ...tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(f(p, q, r), w)))([x, y, bias])];
          });
        }
      });
    });

    it('a scalar bias (against the cpu backend: the wasm kernels read a [1] bias as [n])', async () => {
      const fn = () => [tf.fused.matMul({ a: rand([3, 8, 12], 9), b: rand([3, 12, 5], 10), bias: rand([1], 11), activation: 'relu' })];
      const got = on(true, fn)[0] as Float32Array;
      await tf.setBackend('cpu');
      const want = new Float32Array(tf.tidy(() => (fn()[0] as tf.Tensor).dataSync()));
      await useWasmBackend();
      expect(relErr(got, want)).toBeLessThanOrEqual(REL_TOL);
    });

    it('grouped expert matmuls (with an empty group) match per-expert matmuls, forward and gradients', () => {
      const counts = [5, 0, 9, 3];
      const rows = counts.reduce((s, c) => s + c, 0);
      const fn = () => {
        const x = rand([rows, 12], 20);
        const ws = counts.map((_, e) => rand([12, 7], 21 + e));
        const bs = counts.map((_, e) => rand([7], 31 + e));
        const w = rand([rows, 7], 40);
        // the empty group (expert 1) is held fixed: the per-expert path gives it no gradient at all
        const at1 = (list: tf.Tensor[]) => [list[0], ws[1], list[1], list[2]] as tf.Tensor[];
        const loss = (xx: tf.Tensor, w0: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, b0: tf.Tensor, b2: tf.Tensor, b3: tf.Tensor) =>
          tf.sum(tf.mul(tf.relu(groupedLinear(xx as tf.Tensor2D, at1([w0, w2, w3]), [b0, bs[1], b2, b3] as tf.Tensor[], counts)), w));
        const params = [x, ws[0], ws[2], ws[3], bs[0], bs[2], bs[3]] as tf.Tensor[];
        const out = groupedLinear(x as tf.Tensor2D, ws, bs, counts);
        const grads = tf.grads(loss as (...a: tf.Tensor[]) => tf.Tensor)(params);
        return [out, ...grads];
      };
      expectAgree(fn);
      // the empty group's weights got an exact zero gradient on the grouped path
      registerKernels('wasm', blas ? { blas } : {});
      const zero = tf.tidy(() => {
        const w1 = tf.variable(rand([12, 7], 22));
        const g = tf.variableGrads(
          () =>
            tf.sum(
              groupedLinear(
                rand([rows, 12], 20) as tf.Tensor2D,
                [rand([12, 7], 21), w1, rand([12, 7], 23), rand([12, 7], 24)],
                null,
                counts,
              ),
            ) as tf.Scalar,
          [w1],
        ).grads;
        const out = tf
          .abs(g[w1.name] as tf.Tensor)
          .max()
          .dataSync()[0];
        w1.dispose();
        return out;
      });
      expect(zero).toBe(0);
    });

    it.each([
      ['top-1, 8 experts, 4 of them idle', { experts: 8, hidden: 24, router: { kind: 'top-k', k: 1 } }, 5],
      [
        'top-2, gelu, no bias, capacity 1',
        { experts: 4, hidden: 16, router: { kind: 'top-k', k: 2 }, activation: 'gelu', bias: false, capacityFactor: 1 },
        40,
      ],
    ] as const)('a MoE layer (%s): grouped kernels give the per-expert output and gradients', (_, options, rows) => {
      let builds = 0;
      const run = () => {
        const ctx = createBuildContext(7, `${title}-moe-${builds++}`);
        const layer = moe(ctx, 'moe', 12, options);
        const x = rand([rows, 12], 60);
        const vars = ctx.created.map((c) => c.variable);
        const { value, grads } = tf.variableGrads(() => {
          const r = layer.apply(x, { training: true });
          return tf.add(tf.sum(tf.square(r.output)), r.auxLoss ?? 0) as tf.Scalar;
        }, vars);
        const out = [value, ...vars.map((v) => grads[v.name] as tf.Tensor)];
        ctx.dispose();
        return out;
      };
      expectAgree(run);
    });

    it('the FLOP ledger counts a MoE step the same with grouped kernels (real rows only, no padding)', async () => {
      const flopsOf = async (withBlas: boolean) => {
        registerKernels('wasm', withBlas && blas ? { blas } : {});
        const ctx = createBuildContext(8, `${title}-moe-flops-${withBlas}`);
        const layer = moe(ctx, 'moe', 16, { experts: 4, hidden: 32, router: { kind: 'hash' } });
        // x a variable: its gradient is requested, as below any other layer (the grouped backward always computes dx)
        const x = tf.variable(rand([24, 16], 70));
        const assignment = tf.tensor1d(
          Array.from({ length: 24 }, (_, i) => [0, 1, 1, 2, 3, 3, 3, 0][i % 8] as number),
          'int32',
        );
        const counter = installFlopCounter('wasm');
        counter.active = true;
        tf.tidy(() => {
          tf.variableGrads(() => tf.sum(layer.apply(x, { training: true, assignment }).output) as tf.Scalar, [...ctx.variables(), x]);
        });
        counter.uninstall();
        ctx.dispose();
        tf.dispose([x, assignment]);
        return counter.totals;
      };
      const plain = await flopsOf(false);
      const grouped = await flopsOf(true);
      expect(grouped.total).toBeGreaterThan(0);
      // bias adds move from 'elementwise' (per-expert Add) to 'matmul' (inside GroupedMatMul); the total is the same
      expect(grouped.total).toBe(plain.total);
    });

    it('a training step gives the same losses (MLP 32→64→10, Adam, 5 steps)', () => {
      const losses = (withBlas: boolean) =>
        on(withBlas, () => {
          const w1 = tf.variable(tf.mul(rand([32, 64], 50), 0.3));
          const b1 = tf.variable(tf.zeros([64]));
          const w2 = tf.variable(tf.mul(rand([64, 10], 51), 0.3));
          const x = rand([48, 32], 52);
          const y = tf.oneHot(
            tf.tensor1d(
              Array.from({ length: 48 }, (_, i) => (i * 7) % 10),
              'int32',
            ),
            10,
          );
          const opt = tf.train.adam(0.01);
          const out: tf.Tensor[] = [];
          for (let s = 0; s < 5; s++) {
            const l = opt.minimize(
              () =>
                tf.losses.softmaxCrossEntropy(
                  y,
                  tf.matMul(tf.fused.matMul({ a: x as tf.Tensor2D, b: w1, bias: b1, activation: 'relu' }), w2),
                ) as tf.Scalar,
              true,
            );
            out.push(l as tf.Scalar);
          }
          opt.dispose();
          const result = [tf.stack(out)];
          tf.dispose([w1, b1, w2]);
          return result;
        })[0] as Float32Array;
      const plain = losses(false);
      const withBlas = losses(true);
      expect(plain[4]).toBeLessThan(plain[0] as number); // it trains
      for (let i = 0; i < 5; i++)
        expect(Math.abs((withBlas[i] as number) - (plain[i] as number))).toBeLessThan(1e-4 * Math.abs(plain[i] as number));
    });

    it('leaks no tensors and no backend buffers', () => {
      registerKernels('wasm', blas ? { blas } : {});
      const run = () => {
        for (const [tA, tB] of COMBOS) {
          const c = CASES.find((x) => x.batchA.length > 0 && x.batchA[0] === x.batchB[0]) as Case;
          const { a, b } = shapes(c, tA, tB);
          tf.matMul(rand(a, 1), rand(b, 2), tA, tB).dataSync();
          tf.fused
            .matMul({ a: rand(a, 1), b: rand(b, 2), transposeA: tA, transposeB: tB, bias: tf.ones([11]), activation: 'relu' })
            .dataSync();
        }
        groupedLinear(rand([6, 4], 1) as tf.Tensor2D, [rand([4, 3], 2), rand([4, 3], 3)], null, [2, 4]).dataSync();
      };
      tf.tidy(run);
      const backend = tf.engine().backend;
      const tensors = tf.memory().numTensors;
      const buffers = backend.numDataIds();
      tf.tidy(run);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(buffers);
    });
  });
}
