/**
 * Where the harness is not looking (issue 8): the confined child's model may compute only
 * while the harness asks — a training step, on the clock and in the ledger. Two things it
 * may not do anywhere else:
 *
 * - dispatch a kernel between requests (a timer or promise the module left behind, running
 *   after the reply: off the clock, and outside the FLOP ledger, which counts per request);
 * - change its weights between requests or while it is evaluated (training on held-out
 *   inputs, or on examples it kept, where neither the clock nor the budget reaches).
 *
 * Weights are watched by identity, not by value: a tfjs Variable changes only by `assign`,
 * which gives it a new data id, so comparing ids costs O(variables) and reads no values. A
 * module that writes into the backend's memory itself is beyond this (freeze.ts says so).
 */
import type * as tf from '@tensorflow/tfjs';

/** The variables watched, each with the data id it held when marked. */
export interface WeightMark {
  variables: readonly tf.Variable[];
  ids: unknown[];
}

// tfjs's Variable keeps its data id as a plain property; read it without going through the module's prototypes
const dataIdOf = (v: tf.Variable): unknown => (v as unknown as { dataId: unknown }).dataId;

/** Mark `variables` as they are now (the list is copied: a later change to the caller's array changes nothing). */
export function markWeights(variables: readonly tf.Variable[]): WeightMark {
  const list = [...variables];
  return { variables: list, ids: list.map(dataIdOf) };
}

/** The first watched variable assigned since `mark`, by name, or null. */
export function weightChangedSince(mark: WeightMark): string | null {
  for (let i = 0; i < mark.variables.length; i++) {
    const v = mark.variables[i] as tf.Variable;
    if (dataIdOf(v) !== mark.ids[i] || v.isDisposed) return v.name;
  }
  return null;
}
