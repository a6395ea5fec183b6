/**
 * Toy Models of Superposition (Elhage et al. 2022): n sparse features squeezed through m
 * hidden dimensions. x_i = 0 with probability S, else U[0, 1]; importance I_i = 0.7^i;
 * loss Σ_i I_i (x_i − x'_i)². Below the best no-superposition loss, a model must be packing
 * more than m features into m dimensions.
 */
import * as tf from '@tensorflow/tfjs';
import { trainingLoss, weightedSquaredError } from './losses.ts';
import { rng } from './random.ts';
import { EVAL_BATCH, EVAL_EXAMPLES, N, SPARSITY, superpositionInfo } from './superposition.info.ts';
import type { Batch, Scorer, Task, TaskData } from './types.ts';

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

export const superposition: Task = {
  ...superpositionInfo,
  load({ runSeed, dataSeed, split = 'test' }): TaskData {
    const trainStream = rng('superposition', 'train', dataSeed, runSeed);
    // Generated data: the validation set is fresh examples from the training distribution, on a stream of its own.
    const evalStream = rng('superposition', split === 'test' ? 'eval' : 'validation', dataSeed);
    const evalBatches = Array.from({ length: EVAL_EXAMPLES / EVAL_BATCH }, () => sample(EVAL_BATCH, evalStream));
    return {
      nextTrainBatch: (batchSize) => sample(batchSize, trainStream),
      evalBatches,
      loss: trainingLoss(superpositionInfo.spec),
      scorer(): Scorer {
        let sum = 0;
        let n = 0;
        return {
          add(output, batch) {
            const e = weightedSquaredError(output, batch.y);
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
