/** Legibility metrics, computed at evaluation points (see research/metrics.md). */
import type { Legibility } from '../results/record.ts';

export { type AblationStats, ablationMatrix, diagonalDominance, dominanceNull, expertAblation, type GroupQualities } from './ablation.ts';
export { adjustedMutualInformation, amiWithNull, type PermutationNull } from './agreement.ts';
export { createRoutingAccumulator, entropy, loadBalance, normalizedMutualInformation, type RoutingAccumulator } from './routing.ts';
export { activationSparsity, densityOfChange, ZERO_EPSILON } from './sparsity.ts';
export { featureInterference, type SuperpositionStats, superpositionStats, type WeightLayout, type Weights } from './superposition.ts';

export function emptyLegibility(): Legibility {
  return { activationSparsity: null, updateDensity: null, gradientDensity: null, routing: [], superposition: null, ablation: null };
}
