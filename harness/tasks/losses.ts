/**
 * The training loss of each kind of task, from its TaskSpec alone (no data): the confined
 * child computes the loss it differentiates without loading a task, and the tasks use the
 * same functions, so both paths minimise the same thing.
 */
import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../architecture.ts';
import { crossEntropy } from './scoring.ts';
import { IMPORTANCE } from './superposition.info.ts';
import type { Batch } from './types.ts';

/** Σ_i I_i (x_i − x'_i)² per example, with superposition's importances I_i = 0.7^i. */
export function weightedSquaredError(output: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.square(tf.sub(output, target)), tf.tensor1d(IMPORTANCE)), -1) as tf.Tensor1D);
}

/** The mean loss over a batch that training minimises for a task of this spec. */
export function trainingLoss(spec: TaskSpec): (output: tf.Tensor, batch: Pick<Batch, 'y'>) => tf.Scalar {
  if (spec.output.kind === 'reconstruction')
    return (output, batch) => tf.tidy(() => tf.mean(weightedSquaredError(output, batch.y)) as tf.Scalar);
  return (output, batch) => crossEntropy(output, batch.y);
}
