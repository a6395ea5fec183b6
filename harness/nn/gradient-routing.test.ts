/**
 * Gradient routing: the forward pass is untouched, and an example's gradient reaches only the
 * shared units and its group's block.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import dense from '../../baselines/dense.ts';
import gradientRouted from '../../baselines/gradient-routed.ts';
import { createBuildContext } from '../build-context.ts';
import { parityInfo } from '../tasks/parity.info.ts';
import { blockMasks, routeGradient } from './gradient-routing.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('routeGradient and blockMasks', () => {
  it('pass the value through and multiply only the gradient by the mask', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, -2, 3]]);
      const mask = tf.tensor2d([[1, 0, 1]]);
      expect(routeGradient(x, mask).arraySync()).toEqual([[1, -2, 3]]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(routeGradient(v, mask), tf.tensor2d([[2, 3, 4]]))))(x);
      expect(g.arraySync()).toEqual([[2, 0, 4]]);
    });
  });

  it('keep the shared units for everyone and one block per group (g mod blocks)', () => {
    const ctx = createBuildContext(0, 'masks');
    const m = blockMasks(ctx, 8, 3, 2); // units 0–1 shared; 6 routed units in blocks of 2
    const rows = tf.tidy(() => m.masks(tf.tensor1d([0, 1, 2, 3], 'int32')).arraySync() as number[][]);
    expect(rows).toEqual([
      [1, 1, 1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 1, 1, 0, 0],
      [1, 1, 0, 0, 0, 0, 1, 1],
      [1, 1, 1, 1, 0, 0, 0, 0],
    ]);
    expect(() => blockMasks(ctx, 8, 7, 2)).toThrow(/blocks must be an integer in \[1, 6\]/);
    expect(() => blockMasks(ctx, 8, 2, 8)).toThrow(/shared must be an integer in \[0, 7\]/);
    ctx.dispose();
  });
});

describe('gradient-routed', () => {
  it('computes exactly what dense computes, and confines a group’s update to the shared units and its block', () => {
    const size = parityInfo.tiers.smoke.size;
    const a = createBuildContext(5, 'gr');
    const b = createBuildContext(5, 'dense');
    const routed = gradientRouted.build(parityInfo.spec, size, a);
    const plain = dense.build(parityInfo.spec, size, b);
    const x = tf.randomUniform([6, 40], 0, 1, 'float32', 1);
    const groups = tf.tensor1d([3, 3, 3, 11, 11, 3], 'int32'); // subtasks 3 and 11: both block 3 of 8
    tf.tidy(() => {
      const y = routed.forward(x, { training: true, groups }).output;
      expect(tf.max(tf.abs(tf.sub(y, plain.forward(x, { training: true }).output))).dataSync()[0]).toBe(0);
      const w0 = routed.variables[0] as tf.Variable; // hidden0.w [40, width]
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.square(routed.forward(x, { training: true, groups }).output)) as tf.Scalar,
        routed.variables,
      );
      const g = grads[w0.name] as tf.Tensor;
      const columns = tf.max(tf.abs(g), 0).arraySync() as number[];
      const width = size.width;
      const shared = width / 2;
      const block = (u: number) => Math.floor(((u - shared) * 8) / (width - shared));
      columns.forEach((c, u) => {
        if (u < shared || block(u) === 3) return;
        expect(c, `unit ${u}`).toBe(0);
      });
      expect(columns.slice(0, shared).some((c) => c > 0)).toBe(true);
      expect(columns.filter((_, u) => u >= shared && block(u) === 3).some((c) => c > 0)).toBe(true);
    });
    tf.dispose([x, groups]);
    a.dispose();
    b.dispose();
  });
});
