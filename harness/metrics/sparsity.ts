/** Sparsity of activations, gradients and updates: cheap counts at evaluation points. */
import * as tf from '@tensorflow/tfjs';
import { harnessReads } from '../measure/flops.ts';

/** Values with magnitude at or below this count as zero (ReLU zeros are exact; GELU's are not). */
export const ZERO_EPSILON = 1e-6;

/** How many entries of a hidden activation are (near) zero, and of how many. */
export function activationSparsity(activation: tf.Tensor): { zeros: number; total: number } {
  const zeros = tf.tidy(() => tf.sum(tf.cast(tf.lessEqual(tf.abs(activation), ZERO_EPSILON), 'float32')).dataSync()[0] as number);
  return { zeros, total: activation.size };
}

/**
 * Share of entries that are non-zero across tensors: with gradients, the gradient density;
 * with Δθ = θ_after − θ_before, the update density (Adam moves parameters whose gradient
 * was zero, so only Δθ tells whether an update was really sparse).
 */
export function densityOfChange(tensors: tf.Tensor[]): number {
  let nonZero = 0;
  let total = 0;
  for (const t of tensors) {
    // the harness's own read (a sampled step's density), not the architecture's
    nonZero += harnessReads(() => tf.tidy(() => tf.sum(tf.cast(tf.notEqual(t, 0), 'float32')).dataSync()[0] as number));
    total += t.size;
  }
  return total > 0 ? nonZero / total : 0;
}
