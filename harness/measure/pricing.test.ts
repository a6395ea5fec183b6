/**
 * Every priced matmul and convolution kernel against a hand count: the multiply-adds enumerated
 * one by one on a small random shape (seeded), forward and both backward products, through the
 * real tfjs kernels with the FLOP counter installed. A price that forgets a dimension (Conv3D's
 * backward once left out the kernel depth) fails here.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { type FlopCounter, installFlopCounter } from './flops.ts';

const rand = seedrandom('pricing');
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** Multiply-adds of a 'valid', stride-1 convolution, enumerated: each (output position, tap, input channel) once. */
function convMacs(spatial: number[], kernel: number[], batch: number, inC: number, outC: number, depthwise = false): number {
  let macs = 0;
  const out = spatial.map((s, i) => s - (kernel[i] as number) + 1);
  const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  for (let o = 0; o < count(out); o++) {
    for (let k = 0; k < count(kernel); k++) macs += depthwise ? 1 : inC;
  }
  return macs * batch * outC;
}

describe('FLOP prices against a hand count', () => {
  let counter: FlopCounter;
  beforeAll(async () => {
    const b = await selectBackend('cpu');
    counter = installFlopCounter(b.tfjsName);
  });
  afterAll(() => counter.uninstall());

  /** conv FLOPs and matmul FLOPs counted for fn (forward and gradients), by kernel name */
  function counted(fn: () => void): { conv: number; matmul: number } {
    counter.reset();
    counter.active = true;
    try {
      tf.tidy(fn);
    } finally {
      counter.active = false;
    }
    return { conv: counter.totals.byKind.conv, matmul: counter.totals.byKind.matmul };
  }

  it('BatchMatMul, every transpose: forward and both gradients = 3 · 2·M·N·K', () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const [m, n, k] = [between(2, 9), between(2, 9), between(2, 9)];
      let macs = 0;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) macs++;
      const a = tf.randomNormal(ta ? [k, m] : [m, k]);
      const b = tf.randomNormal(tb ? [n, k] : [k, n]);
      const { matmul } = counted(() => {
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, ta, tb)))([a, b]);
      });
      expect(matmul, `transposeA ${ta}, transposeB ${tb}`).toBe(3 * 2 * macs);
      tf.dispose([a, b]);
    }
  });

  it('Conv2D: forward, backprop to input and to filter each cost the enumerated multiply-adds', () => {
    const [b, h, w, kh, kw, inC, outC] = [
      between(1, 3),
      between(5, 8),
      between(5, 8),
      between(1, 3),
      between(1, 3),
      between(1, 4),
      between(1, 4),
    ];
    const x = tf.randomNormal([b, h, w, inC]);
    const f = tf.randomNormal([kh, kw, inC, outC]);
    const forward = counted(() => {
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid');
    });
    const all = counted(() => {
      tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'valid')))([x, f]);
    });
    const macs = convMacs([h, w], [kh, kw], b, inC, outC);
    expect(forward.conv).toBe(2 * macs);
    expect(all.conv).toBe(3 * 2 * macs);
    tf.dispose([x, f]);
  });

  it('Conv3D: forward, backprop to input and to filter — the kernel depth counted in each', () => {
    const [b, d, h, w] = [between(1, 2), between(4, 6), between(4, 6), between(4, 6)];
    const [kd, kh, kw, inC, outC] = [between(2, 3), between(1, 3), between(1, 3), between(1, 3), between(1, 3)];
    const x = tf.randomNormal([b, d, h, w, inC]);
    const f = tf.randomNormal([kd, kh, kw, inC, outC]);
    const forward = counted(() => {
      tf.conv3d(x as tf.Tensor5D, f as tf.Tensor5D, 1, 'valid');
    });
    const all = counted(() => {
      tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.conv3d(xx as tf.Tensor5D, ff as tf.Tensor5D, 1, 'valid')))([x, f]);
    });
    const macs = convMacs([d, h, w], [kd, kh, kw], b, inC, outC);
    expect(forward.conv).toBe(2 * macs);
    expect(all.conv).toBe(3 * 2 * macs);
    tf.dispose([x, f]);
  });

  it('DepthwiseConv2dNative: each output channel reads one input channel', () => {
    const [b, h, w, kh, kw, inC, mult] = [
      between(1, 3),
      between(5, 8),
      between(5, 8),
      between(1, 3),
      between(1, 3),
      between(2, 4),
      between(1, 3),
    ];
    const x = tf.randomNormal([b, h, w, inC]);
    const f = tf.randomNormal([kh, kw, inC, mult]);
    const forward = counted(() => {
      tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid');
    });
    expect(forward.conv).toBe(2 * convMacs([h, w], [kh, kw], b, inC, inC * mult, true));
    tf.dispose([x, f]);
  });
});
