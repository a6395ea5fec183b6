/**
 * The registered wasm GatherV2, SplitV and UnsortedSegmentSum against the cpu backend, on
 * the shapes MoE dispatch uses and on the cases that fall back to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKernels } from './index.ts';
import { registerWasmRowKernels, unregisterWasmRowKernels, WASM_ROW_KERNELS, wasmRowKernelsRegistered } from './wasm-rows.ts';
import { useWasmBackend } from './wasm-setup.ts';

/** Runs fn on `backend` and returns every output's values and shape. */
async function on(backend: 'wasm' | 'cpu', fn: () => tf.Tensor | tf.Tensor[]): Promise<Array<{ shape: number[]; values: number[] }>> {
  if (backend === 'wasm') await useWasmBackend();
  else await tf.setBackend('cpu');
  expect(tf.getBackend()).toBe(backend);
  const outs = tf.tidy(() => [fn()].flat());
  const result = outs.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(outs);
  await useWasmBackend();
  return result;
}

async function same(fn: () => tf.Tensor | tf.Tensor[]) {
  const wasm = await on('wasm', fn);
  const cpu = await on('cpu', fn);
  expect(wasm.map((o) => o.shape)).toEqual(cpu.map((o) => o.shape));
  wasm.forEach((o, i) => {
    const want = (cpu[i] as { values: number[] }).values;
    expect(o.values.length).toBe(want.length);
    o.values.forEach((v, j) => {
      expect(v).toBeCloseTo(want[j] as number, 5);
    });
  });
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const ids = (values: number[]) => tf.tensor1d(values, 'int32');

beforeAll(async () => {
  await useWasmBackend();
  registerKernels('wasm');
});

afterAll(() => {
  registerWasmRowKernels(); // leave the process as registerKernels set it
});

describe('GatherV2 (wasm, axis 0)', () => {
  it('is registered by registerKernels and by itself idempotently', () => {
    expect(registerKernels('wasm')).toEqual(expect.arrayContaining([...WASM_ROW_KERNELS, 'UnsortedSegmentSum']));
    const ours = tf.getKernel('GatherV2', 'wasm').kernelFunc;
    registerWasmRowKernels();
    expect(tf.getKernel('GatherV2', 'wasm').kernelFunc).toBe(ours);
    unregisterWasmRowKernels();
    expect(wasmRowKernelsRegistered()).toBe(false);
    expect(tf.getKernel('GatherV2', 'wasm').kernelFunc).not.toBe(ours);
    registerWasmRowKernels();
    expect(wasmRowKernelsRegistered()).toBe(true);
  });

  it('gathers rows with repeats, in any order, of 2-D and 3-D tensors', async () => {
    await same(() => tf.gather(rand([50, 7], 1), ids([3, 3, 49, 0, 12, 7, 7, 7])));
    await same(() => tf.gather(rand([10, 3, 4], 2), ids([9, 0, 4])));
    await same(() =>
      tf.gather(
        rand([300, 64], 3),
        tf.tensor1d(
          Array.from({ length: 300 }, (_, i) => (i * 7919) % 300),
          'int32',
        ),
      ),
    );
  });

  it('takes indices of any shape, int32 and bool values, and empty index lists', async () => {
    await same(() =>
      tf.gather(
        rand([6, 5], 4),
        tf.tensor2d(
          [
            [1, 2],
            [5, 0],
            [3, 3],
          ],
          [3, 2],
          'int32',
        ),
      ),
    );
    await same(() =>
      tf.gather(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        ids([2, 0]),
      ),
    );
    await same(() => tf.gather(tf.tensor1d([5, 6, 7, 8]), ids([3, 1])));
    await same(() => tf.gather(tf.tensor1d([true, false, true], 'bool'), ids([1, 2, 0])).toInt());
    await same(() => tf.gather(rand([6, 5], 5), tf.tensor1d([], 'int32')));
  });

  it('gathers along other axes and with batchDims', async () => {
    await same(() => tf.gather(rand([4, 9], 6), ids([8, 1, 1]), 1));
    await same(() => tf.gather(rand([4, 9], 7), ids([8, 0]), -1));
    await same(() =>
      tf.gather(
        rand([3, 5, 2], 8),
        tf.tensor2d(
          [
            [0, 4],
            [2, 2],
            [1, 3],
          ],
          [3, 2],
          'int32',
        ),
        1,
        1,
      ),
    );
    await same(() =>
      tf.gather(
        rand([2, 3, 40, 20], 24),
        tf.tensor2d(
          [
            [39, 0, 7],
            [5, 5, 1],
          ],
          [2, 3],
          'int32',
        ),
        2,
        1,
      ),
    );
  });

  it('is needed: the stock kernel is wrong with batchDims > 0', () => {
    unregisterWasmRowKernels();
    try {
      const got = tf.tidy(() =>
        tf
          .gather(
            tf.tensor3d(
              Array.from({ length: 30 }, (_, i) => i),
              [3, 5, 2],
            ),
            tf.tensor2d(
              [
                [0, 4],
                [2, 2],
                [1, 3],
              ],
              [3, 2],
              'int32',
            ),
            1,
            1,
          )
          .arraySync(),
      );
      // Right: [[[0,1],[8,9]],[[14,15],[14,15]],[[22,23],[26,27]]]. If tfjs fixes it, this fails: keep the fast path, drop the note.
      expect(got).not.toEqual([
        [
          [0, 1],
          [8, 9],
        ],
        [
          [14, 15],
          [14, 15],
        ],
        [
          [22, 23],
          [26, 27],
        ],
      ]);
    } finally {
      registerWasmRowKernels();
    }
  });

  it('refuses an index out of range, as the cpu backend does', () => {
    expect(() => tf.tidy(() => tf.gather(rand([4, 2], 9), ids([0, 4])))).toThrow(/index value 4 is not in \[0, 3\]/);
    expect(() => tf.tidy(() => tf.gather(rand([4, 2], 9), ids([-1])))).toThrow(/not in \[0, 3\]/);
  });

  it('has the same gradient as on cpu (through UnsortedSegmentSum)', async () => {
    const grad = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, ids([4, 1, 1, 0, 4, 4])), rand([6, 3], 11))))(rand([5, 3], 10));
    await same(grad);
  });
});

describe('SplitV (wasm)', () => {
  it('splits rows by sizes, by count, with −1 and with empty pieces', async () => {
    await same(() => tf.split(rand([20, 6], 12), [3, 0, 9, 8]));
    await same(() => tf.split(rand([12, 2, 3], 13), 4));
    await same(() => tf.split(rand([10, 4], 14), [2, -1, 3]));
    await same(() =>
      tf.split(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        [1, 2],
      ),
    );
  });

  it('splits along the other axes too', async () => {
    await same(() => tf.split(rand([4, 10], 15), [3, 7], 1));
    await same(() => tf.split(rand([2, 3, 6], 16), 3, -1));
    await same(() => tf.split(rand([3, 4, 5, 2], 20), [1, 0, 4], 2));
    await same(() => tf.split(rand([16, 8, 600], 21), [200, 300, 100], -1)); // blocks over 256 values: the block-copy path
  });

  it('has the same gradient as on cpu (concat)', async () => {
    const grad = () =>
      tf.grad((x: tf.Tensor) => {
        const [a, b, c] = tf.split(x, [2, 5, 1]) as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.addN([tf.sum(tf.square(a)), tf.sum(tf.mul(b, 3)), tf.sum(c)]);
      })(rand([8, 4], 17));
    await same(grad);
  });
});

describe('UnsortedSegmentSum (wasm)', () => {
  it('sums rows into segments, dropping out-of-range ids, as on cpu', async () => {
    await same(() => tf.unsortedSegmentSum(rand([9, 4], 18), ids([2, 0, 2, 5, 1, 0, 7, 2, -1]), 6));
    await same(() => tf.unsortedSegmentSum(rand([5, 2, 3], 19), ids([1, 1, 0, 3, 1]), 4));
    await same(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), ids([0, 1, 0, 1]), 2));
    await same(() =>
      tf.unsortedSegmentSum(
        rand([300, 16], 20),
        tf.tensor1d(
          Array.from({ length: 300 }, (_, i) => (i * 31) % 100),
          'int32',
        ),
        100,
      ),
    );
  });

  it('has the same gradient as on cpu (a gather)', async () => {
    const grad = () =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.unsortedSegmentSum(x, ids([2, 0, 2, 1]), 3), rand([3, 5], 22))))(rand([4, 5], 21));
    await same(grad);
  });
});

describe('memory', () => {
  it('leaves no tensor or wasm buffer behind', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    tf.tidy(() => {
      const x = rand([64, 8], 23);
      tf.split(tf.gather(x, ids([5, 1, 63, 0])), [1, 3]);
      tf.grad((v: tf.Tensor) => tf.sum(tf.unsortedSegmentSum(tf.gather(v, ids([1, 2, 1])), ids([0, 0, 1]), 2)))(x);
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
  });
});
