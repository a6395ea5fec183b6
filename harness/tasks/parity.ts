/**
 * Multitask sparse parity (Michaud et al. 2023, "The Quantization Model of Neural
 * Scaling"): the input holds a one-hot subtask id and n data bits; subtask t's label is the
 * parity of its own k data bits. Subtasks are drawn with Zipf frequencies, so the frequent
 * ones are learned first and the rare ones test capacity — the shape of the "many rare
 * features" that superposition packs.
 */
import * as tf from '@tensorflow/tfjs';
import { DATA_BITS, EVAL_BATCH, EVAL_PER_SUBTASK, INPUT, K, parityInfo, SUBTASKS, subtaskWeights } from './parity.info.ts';
import { permutation, rng, sampleIndex } from './random.ts';
import { classificationScorer, crossEntropy } from './scoring.ts';
import type { Batch, Task, TaskData } from './types.ts';
/** Which data bits each subtask's parity reads; fixed by the data seed. */
export function paritySubsets(dataSeed: number): number[][] {
  const random = rng('parity', 'subsets', dataSeed);
  return Array.from({ length: SUBTASKS }, () => [...permutation(DATA_BITS, random).slice(0, K)].sort((a, b) => a - b));
}

function sample(subtasks: Int32Array, subsets: number[][], random: () => number): Batch {
  const count = subtasks.length;
  const x = new Float32Array(count * INPUT);
  const y = new Int32Array(count);
  for (let e = 0; e < count; e++) {
    const t = subtasks[e] as number;
    x[e * INPUT + t] = 1;
    const bits = new Uint8Array(DATA_BITS);
    for (let b = 0; b < DATA_BITS; b++) {
      bits[b] = random() < 0.5 ? 1 : 0;
      x[e * INPUT + SUBTASKS + b] = bits[b] as number;
    }
    let parity = 0;
    for (const b of subsets[t] as number[]) parity ^= bits[b] as number;
    y[e] = parity;
  }
  return { x: tf.tensor2d(x, [count, INPUT]), y: tf.tensor1d(y, 'int32'), groups: tf.tensor1d(subtasks, 'int32') };
}

export const parity: Task = {
  ...parityInfo,
  load({ runSeed, dataSeed, split = 'test' }): TaskData {
    const subsets = paritySubsets(dataSeed);
    const cumulative = new Float64Array(SUBTASKS);
    subtaskWeights.reduce((acc, w, i) => {
      cumulative[i] = acc + w;
      return acc + w;
    }, 0);
    const trainStream = rng('parity', 'train', dataSeed, runSeed);
    // Generated data: the validation set is fresh examples drawn like the test set, on streams of its own.
    const evalName = split === 'test' ? 'eval' : 'validation';
    const evalStream = rng('parity', evalName, dataSeed);
    // The held-out set: EVAL_PER_SUBTASK examples of every subtask, in one fixed shuffled
    // order cut into equal mixed batches. Batches of one subtask would let routing that
    // depends on the rest of the batch (expert choice) read the label off the batch.
    const order = permutation(SUBTASKS * EVAL_PER_SUBTASK, rng('parity', `${evalName}-order`, dataSeed));
    const evalSubtasks = Int32Array.from(order, (i) => Math.floor(i / EVAL_PER_SUBTASK));
    const evalBatches = Array.from({ length: evalSubtasks.length / EVAL_BATCH }, (_, b) =>
      sample(evalSubtasks.subarray(b * EVAL_BATCH, (b + 1) * EVAL_BATCH), subsets, evalStream),
    );
    return {
      nextTrainBatch(batchSize) {
        const ts = new Int32Array(batchSize);
        for (let i = 0; i < batchSize; i++) ts[i] = sampleIndex(cumulative, trainStream);
        return sample(ts, subsets, trainStream);
      },
      evalBatches,
      loss: (output, batch) => crossEntropy(output, batch.y),
      scorer: () => classificationScorer((g) => `subtask ${g}`, subtaskWeights),
      dispose() {
        for (const b of evalBatches) tf.dispose([b.x, b.y, b.groups]);
      },
    };
  },
};
