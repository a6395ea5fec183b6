/** Legibility metrics, computed at evaluation points (see research/metrics.md). */
import type { Legibility } from '../results/record.ts';

export { activationSparsity, densityOfChange, ZERO_EPSILON } from './sparsity.ts';

export function emptyLegibility(): Legibility {
  return { activationSparsity: null, updateDensity: null, gradientDensity: null, routing: [], superposition: null, ablation: null };
}
