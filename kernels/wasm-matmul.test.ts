/**
 * The registered wasm BatchMatMul/_FusedMatMul against the pure-JS cpu backend.
 * Every case runs for real on the wasm backend (asserted), under both transpose plans.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKernels, unregisterKernels } from './index.ts';
import { BROADCAST_CASES, CASES, COMBOS, randomData, relErr, shapesFor } from './matmul-cases.ts';
import {
  matMulLayoutPlan,
  registerWasmMatMulKernels,
  type TransposePlan,
  unregisterWasmMatMulKernels,
  WASM_MATMUL_KERNELS,
  wasmMatMulKernelsRegistered,
  wasmMatMulRoute,
} from './wasm-matmul.ts';
import { useWasmBackend } from './wasm-setup.ts';

const REL_TOL = 1e-4;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

interface Operand {
  shape: number[];
  data: Float32Array;
}

function operand(shape: number[], seed: number): Operand {
  return { shape, data: randomData(sizeOf(shape), seed) };
}

/** Runs fn with `backend` active and returns its outputs as plain arrays. */
async function on(backend: 'wasm' | 'cpu', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (backend === 'wasm') await useWasmBackend();
  else await tf.setBackend('cpu');
  expect(tf.getBackend()).toBe(backend);
  const outs = tf.tidy(fn);
  const data = await Promise.all(outs.map(async (t) => new Float32Array(await t.data())));
  tf.dispose(outs);
  await useWasmBackend();
  return data;
}

/** Runs `fn` on wasm and `reference` (default: `fn`) on cpu and compares every output. */
async function expectSameOnCpu(fn: () => tf.Tensor[], reference: () => tf.Tensor[] = fn): Promise<void> {
  const got = await on('wasm', fn);
  const want = await on('cpu', reference);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w === undefined || g === undefined) throw new Error('missing output');
    expect(w.some((v) => v !== 0)).toBe(true); // not a vacuous comparison
    expect(Number.isFinite(relErr(g, w))).toBe(true);
    expect(relErr(g, w)).toBeLessThanOrEqual(REL_TOL);
  }
}

beforeAll(async () => {
  await useWasmBackend();
  expect(tf.getBackend()).toBe('wasm');
});

afterAll(() => {
  unregisterWasmMatMulKernels();
});

describe('registration', () => {
  it('replaces the stock kernels, is idempotent and restores them', () => {
    unregisterWasmMatMulKernels();
    const stock = WASM_MATMUL_KERNELS.map((k) => tf.getKernel(k, 'wasm').kernelFunc);
    expect(wasmMatMulKernelsRegistered()).toBe(false);

    expect(registerKernels('wasm')).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul']));
    const ours = WASM_MATMUL_KERNELS.map((k) => tf.getKernel(k, 'wasm').kernelFunc);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).not.toBe(stock[i]);

    // A second call must not wrap our kernel in another layer.
    registerWasmMatMulKernels();
    const again = WASM_MATMUL_KERNELS.map((k) => tf.getKernel(k, 'wasm').kernelFunc);
    expect(again).toEqual(ours);

    unregisterKernels('wasm');
    const restored = WASM_MATMUL_KERNELS.map((k) => tf.getKernel(k, 'wasm').kernelFunc);
    expect(restored).toEqual(stock);
    unregisterWasmMatMulKernels(); // second call is a no-op
    expect(WASM_MATMUL_KERNELS.map((k) => tf.getKernel(k, 'wasm').kernelFunc)).toEqual(stock);
  });

  it('registers nothing for backends it does not cover', () => {
    expect(registerKernels('cpu')).toEqual([]);
    expect(registerKernels('webgl')).toEqual([]);
  });

  it("'cheapest' takes both of its paths over the test cases", () => {
    const seen = new Set<string>();
    for (const c of CASES) {
      for (const [tA, tB] of COMBOS) {
        const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
        seen.add(matMulLayoutPlan(a, b, tA, tB, 'cheapest'));
      }
    }
    expect([...seen].sort()).toEqual(['none', 'operands', 'output']);
    // A·Bᵀ with a big B: transposing A and the small product moves fewer elements.
    expect(matMulLayoutPlan([4, 8], [64, 8], false, true, 'cheapest')).toBe('output');
    expect(matMulLayoutPlan([4, 8], [64, 8], false, true, 'operands')).toBe('operands');
    // Aᵀ·Bᵀ with a long inner dim: only the small product is transposed.
    expect(matMulLayoutPlan([64, 4], [4, 64], true, true, 'cheapest')).toBe('output');
    expect(matMulLayoutPlan([4, 64], [64, 4], true, true, 'cheapest')).toBe('operands');
  });
});

describe('routing', () => {
  it('the BatchMatMul cases take both routes, batched and not', () => {
    const seen = new Set<string>();
    for (const c of [...CASES, ...BROADCAST_CASES]) {
      const batched = sizeOf(c.batchA) > 1 || sizeOf(c.batchB) > 1;
      for (const [tA, tB] of COMBOS) {
        const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
        seen.add(`${batched ? 'batched' : 'single'}:${wasmMatMulRoute(a, b, tA, tB)}`);
      }
    }
    expect([...seen].sort()).toEqual(['batched:loop', 'batched:xnnpack', 'single:loop', 'single:xnnpack']);
  });

  it('sends big products to XNNPACK and tiny ones to the stock loop', () => {
    expect(wasmMatMulRoute([256, 512], [256, 2048], true, false)).toBe('xnnpack');
    expect(wasmMatMulRoute([8, 128, 256], [8, 256, 128], false, false)).toBe('xnnpack');
    expect(wasmMatMulRoute([8, 128, 256], [256, 128], false, false)).toBe('xnnpack');
    expect(wasmMatMulRoute([64, 4, 4], [64, 4, 4], false, false)).toBe('loop');
    expect(wasmMatMulRoute([3, 2], [3, 2], true, false)).toBe('loop');
    // Untransposed and unbatched: the stock kernel is XNNPACK already.
    expect(wasmMatMulRoute([2, 2], [2, 2], false, false)).toBe('xnnpack');
  });
});

const PLANS: TransposePlan[] = ['operands', 'cheapest'];

describe.each(PLANS)("registered kernels, plan '%s'", (plan) => {
  beforeAll(() => {
    registerWasmMatMulKernels({ plan });
    expect(wasmMatMulKernelsRegistered()).toBe(true);
  });

  describe.each(CASES)('$name', (c) => {
    it.each(COMBOS)('BatchMatMul transposeA=%s transposeB=%s matches cpu', async (tA, tB) => {
      const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
      const A = operand(a, 1);
      const B = operand(b, 2);
      await expectSameOnCpu(() => [tf.matMul(tf.tensor(A.data, A.shape), tf.tensor(B.data, B.shape), tA, tB)]);
    });

    it.each(COMBOS)('fused matmul + bias + relu, transposeA=%s transposeB=%s matches cpu', async (tA, tB) => {
      const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
      const A = operand(a, 3);
      const B = operand(b, 4);
      const bias = operand([c.n], 5);
      await expectSameOnCpu(() => {
        const ta = tf.tensor(A.data, A.shape);
        const tb = tf.tensor(B.data, B.shape);
        return [
          tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB, bias: tf.tensor(bias.data), activation: 'relu' }),
          // no bias: the 'cheapest' plan may compute this one transposed
          tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB, activation: 'relu' }),
          tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB, activation: 'leakyrelu', leakyreluAlpha: 0.3 }),
        ];
      });
    });
  });

  describe.each(BROADCAST_CASES)('$name', (c) => {
    it.each(COMBOS)('BatchMatMul transposeA=%s transposeB=%s matches cpu', async (tA, tB) => {
      const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
      const A = operand(a, 21);
      const B = operand(b, 22);
      const outBatch = c.batchA.length >= c.batchB.length ? [...c.batchA] : [...c.batchB];
      const r = outBatch.length;
      for (let i = 0; i < r; i++) {
        const da = c.batchA[c.batchA.length - r + i] ?? 1;
        const db = c.batchB[c.batchB.length - r + i] ?? 1;
        outBatch[i] = Math.max(da, db);
      }
      const full = (shape: number[]) => [...outBatch, ...shape.slice(-2)];
      await expectSameOnCpu(
        () => [tf.matMul(tf.tensor(A.data, A.shape), tf.tensor(B.data, B.shape), tA, tB)],
        () => [
          tf.matMul(
            tf.broadcastTo(tf.tensor(A.data, A.shape), full(A.shape)),
            tf.broadcastTo(tf.tensor(B.data, B.shape), full(B.shape)),
            tA,
            tB,
          ),
        ],
      );
    });
  });

  it.each(COMBOS)('fused relu6, sigmoid and elu, batched, transposeA=%s transposeB=%s', async (tA, tB) => {
    const { a, b } = shapesFor([3], [3], 7, 64, 9, tA, tB);
    const A = operand(a, 23);
    const B = operand(b, 24);
    const bias = operand([9], 25);
    await expectSameOnCpu(() => {
      const ta = tf.tensor(A.data, A.shape);
      const tb = tf.tensor(B.data, B.shape);
      // Scaled so relu6 clips at both ends.
      const big = tf.mul(tb, 4);
      const tbias = tf.tensor(bias.data);
      return (['relu6', 'sigmoid', 'elu'] as const).map((activation) =>
        tf.fused.matMul({ a: ta, b: big, transposeA: tA, transposeB: tB, bias: tbias, activation }),
      );
    });
  });

  it.each(COMBOS)('fused matmul with prelu weights, transposeA=%s transposeB=%s', async (tA, tB) => {
    const { a, b } = shapesFor([2], [2], 6, 60, 12, tA, tB);
    const A = operand(a, 6);
    const B = operand(b, 7);
    const perChannel = operand([12], 8);
    const perPosition = operand([6, 12], 26);
    await expectSameOnCpu(() => {
      const ta = tf.tensor(A.data, A.shape);
      const tb = tf.tensor(B.data, B.shape);
      return [perChannel, perPosition].map((w) =>
        tf.fused.matMul({
          a: ta,
          b: tb,
          transposeA: tA,
          transposeB: tB,
          bias: tf.ones([12]),
          activation: 'prelu',
          preluActivationWeights: tf.tensor(w.data, w.shape),
        }),
      );
    });
  });

  it('leaks no tensors and no backend buffers', () => {
    // Warm up once so any one-off allocations are not counted.
    const run = () => {
      for (const c of CASES) {
        for (const [tA, tB] of COMBOS) {
          const { a, b } = shapesFor(c.batchA, c.batchB, c.m, c.k, c.n, tA, tB);
          const ta = tf.tensor(operand(a, 9).data, a);
          const tb = tf.tensor(operand(b, 10).data, b);
          tf.matMul(ta, tb, tA, tB).dataSync();
          tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB, bias: tf.ones([c.n]), activation: 'relu' }).dataSync();
          tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB }).dataSync();
        }
      }
    };
    tf.tidy(run);
    const backend = tf.engine().backend;
    const tensorsBefore = tf.memory().numTensors;
    const buffersBefore = backend.numDataIds();
    tf.tidy(run);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // The transposed intermediates never reach the engine: only the backend's count sees them.
    expect(backend.numDataIds()).toBe(buffersBefore);
  });

  it('survives many batched calls (views into operand memory are dropped cleanly)', () => {
    const backend = tf.engine().backend;
    const before = backend.numDataIds();
    const a = tf.tensor(operand([8, 16, 24], 27).data, [8, 16, 24]);
    const b = tf.tensor(operand([8, 24, 12], 28).data, [8, 24, 12]);
    const first = tf.matMul(a, b);
    const want = first.dataSync().slice();
    for (let i = 0; i < 300; i++) {
      // Interleave allocations of other sizes so freed/reused memory would show up.
      const junk = tf.ones([1000 + i]);
      const c = tf.matMul(a, b, false, false);
      const got = c.dataSync();
      if (i % 50 === 0 || i === 299) expect(Array.from(got)).toEqual(Array.from(want));
      c.dispose();
      junk.dispose();
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(operand([8, 16, 24], 27).data));
    tf.dispose([a, b, first]);
    expect(backend.numDataIds()).toBe(before);
  });

  it.each(COMBOS)('gradients of matMul(transposeA=%s, transposeB=%s) match cpu', async (tA, tB) => {
    const { a, b } = shapesFor([2], [2], 7, 9, 5, tA, tB);
    const A = operand(a, 11);
    const B = operand(b, 12);
    const W = operand([2, 7, 5], 13); // weights the loss so each output entry gets its own gradient
    await expectSameOnCpu(() => {
      const w = tf.tensor(W.data, W.shape);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), w));
      return tf.grads(f)([tf.tensor(A.data, A.shape), tf.tensor(B.data, B.shape)]);
    });
  });

  it('gradients through a two-layer MLP with fused bias+relu match cpu', async () => {
    const X = operand([16, 12], 14);
    const W1 = operand([12, 20], 15);
    const B1 = operand([20], 16);
    const W2 = operand([20, 6], 17);
    const labels = Array.from({ length: 16 }, (_, i) => (i * 7) % 6);
    await expectSameOnCpu(() => {
      const x = tf.tensor(X.data, X.shape);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 6);
      const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor) => {
        const h = tf.fused.matMul({ a: x as tf.Tensor2D, b: w1 as tf.Tensor2D, bias: b1, activation: 'relu' });
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(h, w2));
      };
      return tf.grads(loss)([tf.tensor(W1.data, W1.shape), tf.tensor(B1.data), tf.tensor(W2.data, W2.shape)]);
    });
  });
});

describe('the comparison itself', () => {
  it('the check above would notice a wrong result', async () => {
    // Guard against a vacuous comparison: a deliberately wrong product must fail it.
    registerWasmMatMulKernels();
    const A = operand([8, 6], 18);
    const B = operand([8, 5], 19);
    const got = await on('wasm', () => [tf.matMul(tf.tensor(A.data, A.shape), tf.tensor(B.data, B.shape), true, false)]);
    const wrong = await on('cpu', () => [
      // Aᵀ·B with A's data read as if it were already [6, 8] (a missing transpose)
      tf.matMul(tf.tensor(A.data, [6, 8]), tf.tensor(B.data, B.shape)),
    ]);
    const g = got[0];
    const w = wrong[0];
    if (g === undefined || w === undefined) throw new Error('missing output');
    expect(relErr(g, w)).toBeGreaterThan(REL_TOL);
  });
});

describe('why the fused kernel is replaced', () => {
  // If one of these starts failing after a tfjs upgrade, the stock kernel was fixed:
  // re-measure and consider dropping the batched path (see README.md).
  it('stock wasm _FusedMatMul gets batched bias and long-inner relu wrong', async () => {
    unregisterWasmMatMulKernels();
    try {
      const A = operand([3, 9, 100], 29);
      const B = operand([3, 100, 11], 30);
      const bias = operand([11], 31);
      const fn = () => [
        tf.fused.matMul({ a: tf.tensor3d(A.data, [3, 9, 100]), b: tf.tensor3d(B.data, [3, 100, 11]), bias: tf.tensor(bias.data) }),
        tf.fused.matMul({ a: tf.tensor3d(A.data, [3, 9, 100]), b: tf.tensor3d(B.data, [3, 100, 11]), activation: 'relu' }),
      ];
      const got = await on('wasm', fn);
      const want = await on('cpu', fn);
      for (let i = 0; i < 2; i++) {
        const g = got[i];
        const w = want[i];
        if (g === undefined || w === undefined) throw new Error('missing output');
        expect(relErr(g, w)).toBeGreaterThan(1e-2);
      }
    } finally {
      registerWasmMatMulKernels();
    }
  });
});
