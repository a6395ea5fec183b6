import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dense from '../../baselines/dense.ts';
import { selectBackend } from '../backend.ts';
import { createBuildContext } from '../build-context.ts';
import { charlm } from '../tasks/charlm.ts';
import { crossEntropy } from '../tasks/scoring.ts';
import { costOf, type FlopCounter, installFlopCounter, MOVEMENT, UnpricedKernelError } from './flops.ts';

/** Chinchilla appendix F, training = 3 × forward, without the embedding lookup (a gather executes no multiplies). */
function chinchillaTrainingFlops(p: { seq: number; vocab: number; d: number; layers: number; heads: number; ffn: number }): number {
  const { seq: S, vocab: V, d, layers, heads: H, ffn } = p;
  const k = d / H;
  const perLayer =
    2 * 3 * S * d * k * H + 2 * S * S * k * H + 3 * H * S * S + 2 * S * S * k * H + 2 * S * k * H * d + 2 * S * (2 * d * ffn);
  return 3 * (layers * perLayer + 2 * S * d * V);
}

describe.each(['cpu', 'wasm'] as const)('executed FLOP counter on %s', (backendName) => {
  let counter: FlopCounter;
  beforeAll(async () => {
    const b = await selectBackend(backendName);
    counter = installFlopCounter(b.tfjsName);
  });
  afterAll(() => counter.uninstall());

  it('counts an MLP training step exactly as the hand count', () => {
    const [B, I, H, O] = [32, 64, 128, 10];
    const w1 = tf.variable(tf.randomNormal([I, H], 0, 0.1, 'float32', 1));
    const w2 = tf.variable(tf.randomNormal([H, O], 0, 0.1, 'float32', 2));
    const x = tf.randomNormal([B, I], 0, 1, 'float32', 3);
    const y = tf.tensor1d(
      Array.from({ length: B }, (_, i) => i % O),
      'int32',
    );
    counter.reset();
    counter.active = true;
    tf.tidy(() => {
      tf.variableGrads(() => crossEntropy(tf.matMul(tf.relu(tf.matMul(x, w1)), w2), y), [w1, w2]);
    });
    counter.active = false;
    // forward 2BIH + 2BHO; backward: dW2 2BHO, dh 2BHO, dW1 2BIH — no dx for the input layer.
    expect(counter.totals.byKind.matmul).toBe(2 * B * I * H + 3 * 2 * B * H * O + 2 * B * I * H);
    // relu forward (B·H) and its gradient's step mask + multiply (2·B·H) are elementwise
    expect(counter.totals.byKind.elementwise).toBeGreaterThanOrEqual(3 * B * H);
    tf.dispose([w1, w2, x, y]);
  });

  it('counts an elementwise op and a reduction by their element counts', () => {
    const a = tf.ones([7, 9]);
    counter.reset();
    counter.active = true;
    tf.tidy(() => tf.sum(tf.add(a, a)));
    counter.active = false;
    expect(counter.totals.byKind.elementwise).toBe(63);
    expect(counter.totals.byKind.reduction).toBe(63);
    a.dispose();
  });

  it('refuses a kernel with no FLOP price in training, naming it; data movement costs zero by name', () => {
    const x = tf.ones([2, 4, 4, 1]) as tf.Tensor4D;
    counter.reset();
    counter.active = true;
    try {
      expect(() => tf.tidy(() => tf.maxPool(x, 2, 2, 'valid'))).toThrow(UnpricedKernelError);
      expect(() => tf.tidy(() => tf.maxPool(x, 2, 2, 'valid'))).toThrow(/kernel MaxPool has no FLOP price/);
      const before = counter.totals.total;
      tf.tidy(() => tf.transpose(tf.reshape(x, [2, 16])));
      expect(counter.totals.total).toBe(before);
    } finally {
      counter.active = false;
      x.dispose();
    }
    // outside training nothing is counted, so nothing is refused
    tf.tidy(() => tf.maxPool(tf.ones([1, 2, 2, 1]) as tf.Tensor4D, 2, 2, 'valid'));
  });

  it('prices every kernel the backend registers, or lists it as movement, or refuses it: no silent zero', () => {
    const names = tf.getKernelsForBackend(backendName === 'wasm' ? 'wasm' : 'cpu').map((k) => k.kernelName);
    const call = {
      inputs: [
        [4, 4],
        [4, 4],
      ],
      outputs: [[4, 4]],
      attrs: {},
    };
    for (const name of names) {
      const cost = costOf(name, call);
      if (cost?.kind === 'movement') expect(MOVEMENT.has(name), name).toBe(true);
      if (cost && cost.kind !== 'movement') expect(cost.flops, name).toBeGreaterThan(0);
    }
  });

  it('counts nothing while inactive', () => {
    counter.reset();
    tf.tidy(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])));
    expect(counter.totals.total).toBe(0);
  });

  it('a char transformer step lands within 2% of the Chinchilla formula', () => {
    const size = charlm.tiers.smoke.size;
    const ctx = createBuildContext(0, `flops-${backendName}`);
    const model = dense.build(charlm.spec, size, ctx);
    const data = charlm.load({ runSeed: 0, dataSeed: 0 });
    const batch = data.nextTrainBatch(4);
    counter.reset();
    counter.active = true;
    tf.tidy(() => {
      tf.variableGrads(() => data.loss(model.forward(batch.x, { training: true }).output, batch), model.variables);
    });
    counter.active = false;
    if (charlm.spec.input.kind !== 'tokens') throw new Error('charlm takes tokens');
    const formula =
      4 *
      chinchillaTrainingFlops({
        seq: charlm.spec.input.length,
        vocab: charlm.spec.input.vocab,
        d: size.width,
        layers: size.depth,
        heads: size.heads,
        ffn: 4 * size.width,
      });
    // The formula counts matrix products and the softmax; layer norms, GELU and the loss are
    // the executed remainder, reported apart.
    const counted = counter.totals.byKind.matmul + counter.totals.byKind.softmax;
    expect(Math.abs(counted - formula) / formula).toBeLessThan(0.02);
    console.log(
      `charlm smoke step (batch 4): executed ${counter.totals.total.toExponential(3)} (matmul+softmax ${counted.toExponential(3)}), Chinchilla ${formula.toExponential(3)}`,
    );
    tf.dispose([batch.x, batch.y]);
    data.dispose();
    ctx.dispose();
  });
});
