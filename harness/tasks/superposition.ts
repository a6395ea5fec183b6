/**
 * Toy Models of Superposition (Elhage et al. 2022): n sparse features squeezed through m
 * hidden dimensions. x_i = 0 with probability S, else U[0, 1]; importance I_i = 0.7^i;
 * loss Σ_i I_i (x_i − x'_i)². Below the best no-superposition loss, a model must be packing
 * more than m features into m dimensions.
 */
import * as tf from '@tensorflow/tfjs';
import { rng } from './random.ts';
import type { Batch, Scorer, Task, TaskData } from './types.ts';

const N = 20;
const M = 5;
const SPARSITY = 0.9;
const IMPORTANCE = Array.from({ length: N }, (_, i) => 0.7 ** i);
const EVAL_EXAMPLES = 4096;
const EVAL_BATCH = 1024;

/** Best loss with m features represented exactly and a constant (the mean) for the rest. */
export function noSuperpositionLoss(n = N, m = M, sparsity = SPARSITY): number {
  const p = 1 - sparsity;
  const variance = p / 3 - (p / 2) ** 2; // of x = 0 w.p. S, U[0,1] w.p. 1 − S
  let loss = 0;
  for (let i = m; i < n; i++) loss += (IMPORTANCE[i] ?? 0.7 ** i) * variance;
  return loss;
}

function sample(count: number, random: () => number): Batch {
  const x = new Float32Array(count * N);
  const groups = new Int32Array(count).fill(N);
  for (let e = 0; e < count; e++) {
    for (let i = 0; i < N; i++) {
      if (random() >= SPARSITY) {
        x[e * N + i] = random();
        if ((groups[e] as number) === N) groups[e] = i; // the most important active feature
      }
    }
  }
  const xs = tf.tensor2d(x, [count, N]);
  return { x: xs, y: xs, groups: tf.tensor1d(groups, 'int32') };
}

function weightedSquaredError(output: tf.Tensor, batch: Batch): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.square(tf.sub(output, batch.y)), tf.tensor1d(IMPORTANCE)), -1) as tf.Tensor1D);
}

export const superposition: Task = {
  spec: {
    id: 'superposition',
    input: { kind: 'vector', dim: N },
    output: { kind: 'reconstruction', dim: N },
    causal: false,
    groups: { name: 'most important active feature', count: N + 1 },
  },
  title: 'Toy superposition',
  description:
    `Reconstruct ${N} sparse features (each zero with probability ${SPARSITY}, importance 0.7^i) through a ${M}-dimensional bottleneck (Elhage et al. 2022, "Toy Models of Superposition"). ` +
    'Quality is the importance-weighted squared error on a fixed held-out set; below the no-superposition bound the model packs more features than it has dimensions.',
  metric: { name: 'weighted MSE', unit: '', higherIsBetter: false },
  references: {
    noSuperposition: {
      value: noSuperpositionLoss(),
      meaning: `best loss representing the ${M} most important features exactly and outputting the mean for the rest`,
    },
  },
  tiers: {
    smoke: {
      size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
      batchSize: 1024,
      budgetFlops: 2e9,
      evalPoints: 4,
      learningRate: 1e-2,
      timeLimitSeconds: 120,
      seeds: 1,
    },
    cpu: {
      size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
      batchSize: 1024,
      budgetFlops: 1e10,
      evalPoints: 10,
      learningRate: 1e-2,
      timeLimitSeconds: 600,
      seeds: 3,
    },
    gpu: {
      size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
      batchSize: 4096,
      budgetFlops: 3e11,
      evalPoints: 20,
      learningRate: 1e-2,
      timeLimitSeconds: 1800,
      seeds: 5,
    },
  },
  load({ runSeed, dataSeed }): TaskData {
    const trainStream = rng('superposition', 'train', dataSeed, runSeed);
    const evalStream = rng('superposition', 'eval', dataSeed);
    const evalBatches = Array.from({ length: EVAL_EXAMPLES / EVAL_BATCH }, () => sample(EVAL_BATCH, evalStream));
    return {
      nextTrainBatch: (batchSize) => sample(batchSize, trainStream),
      evalBatches,
      loss: (output, batch) => tf.tidy(() => tf.mean(weightedSquaredError(output, batch)) as tf.Scalar),
      scorer(): Scorer {
        let sum = 0;
        let n = 0;
        return {
          add(output, batch) {
            const e = weightedSquaredError(output, batch);
            for (const v of e.dataSync()) sum += v;
            n += e.shape[0];
            e.dispose();
          },
          result: () => ({ quality: sum / n, evalLoss: sum / n, subQualities: {} }),
        };
      },
      dispose() {
        for (const b of evalBatches) tf.dispose([b.x, b.groups]);
      },
    };
  },
};
