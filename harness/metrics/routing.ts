/**
 * Routing legibility of one routed layer, accumulated over the held-out batches of an
 * evaluation point (see research/metrics.md): expert load and its balance, router entropy,
 * and how much expert choice says about the task's group label.
 *
 * Agreement with the label is recorded twice: `nmi` (the first-order-corrected,
 * min-normalised figure of older records, kept for them) and `ami` (Vinh et al. 2010) with
 * its permutation null; read `ami` against `amiNull.p95`.
 *
 * Everything is counted on the CPU in float64 from `dataSync` reads; no tensor is created,
 * so `add` is safe inside or outside `tf.tidy` and disposes nothing.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RoutingTrace } from '../architecture.ts';
import type { RoutingLayerStats } from '../results/record.ts';
import { amiWithNull, marginals, mutualInformation } from './agreement.ts';

export interface RoutingAccumulator {
  readonly layer: string;
  readonly experts: number;
  /**
   * Count one batch. `groups` is int32 [B] or [B, L]; it is flattened row-major to the
   * trace's T rows. When T is a whole multiple of the group count (a per-example label
   * with per-token routing), each label is repeated for its T/size consecutive rows.
   */
  add(trace: RoutingTrace, groups: tf.Tensor): void;
  result(): RoutingLayerStats;
}

/** Shannon entropy (nats) of non-negative weights, normalised by their sum; 0 for an empty list. */
export function entropy(weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i] as number;
  if (!(total > 0)) return 0;
  let h = 0;
  for (let i = 0; i < weights.length; i++) {
    const p = (weights[i] as number) / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/**
 * Balance of an expert load f (shares summing to 1): MaxVio = (max f − mean f)/mean f,
 * coefficient of variation = population std / mean, effective experts = exp(H(f)).
 * All zero when nothing was routed.
 */
export function loadBalance(load: readonly number[]): { maxVio: number; coefficientOfVariation: number; effectiveExperts: number } {
  const total = load.reduce((a, b) => a + b, 0);
  if (load.length === 0 || !(total > 0)) return { maxVio: 0, coefficientOfVariation: 0, effectiveExperts: 0 };
  const mean = total / load.length;
  const max = Math.max(...load);
  const variance = load.reduce((a, f) => a + (f - mean) ** 2, 0) / load.length;
  return {
    maxVio: Math.max(0, (max - mean) / mean),
    coefficientOfVariation: Math.sqrt(variance) / mean,
    effectiveExperts: Math.exp(entropy(load)),
  };
}

/**
 * Normalised mutual information between group Y (rows) and expert Z (columns) of a count
 * table counts[y][z], chance-adjusted to first order:
 *
 *   NMI = (I − b) / (min(H(Y), H(Z)) − b),  b = (G'−1)(E'−1) / (2N),  clipped to [0, 1]
 *
 * with plug-in entropies in nats, N the total count and G', E' the occupied rows and
 * columns. Why this normalisation:
 * - min(H(Y), H(Z)) rather than H(Y): with fewer experts than groups (10 digits, 8
 *   experts; 65 characters, 8 experts) I ≤ H(Z) < H(Y), so I/H(Y) could never reach 1.
 *   Dividing by the smaller entropy gives 1 exactly when one variable determines the
 *   other: every group always goes to one expert (Z = f(Y), fewer experts than groups),
 *   or every expert serves one group (Y = f(Z), more experts than groups); one-to-one
 *   routing is the case where both hold.
 * - b is the plug-in estimator's expected value under independence (2N·Î ~ χ² with
 *   (G'−1)(E'−1) degrees of freedom): without it a 2,000-example held-out set with 10
 *   groups and 8 experts shows NMI ≈ 0.01 for routing that ignores the group.
 *   Subtracting b from the denominator too keeps deterministic routing at exactly 1.
 * Undefined cases (one group or one expert occupied, or too few examples for the table
 * so that min H ≤ b) give 0: nothing about the group can be read from the routing.
 */
export function normalizedMutualInformation(counts: readonly (readonly number[])[]): number {
  const { rows, cols, n } = marginals(counts);
  if (!(n > 0)) return 0;
  const hY = entropy(rows);
  const hZ = entropy(cols);
  const mi = mutualInformation(counts);
  const bias = ((rows.length - 1) * (cols.length - 1)) / (2 * n);
  const denominator = Math.min(hY, hZ) - bias;
  // Rounding: a one-to-one table gives I and min H that differ in the last bits.
  if (!(denominator > 1e-12)) return 0;
  return Math.min(1, Math.max(0, (mi - bias) / denominator));
}

/** Label permutations of the AMI null: enough for a stable 95th percentile, cheap (E[MI] is computed once). */
export const AMI_PERMUTATIONS = 100;

/** AMI of group and top-1 expert, with its permutation null (seeded by the layer's name: reproducible). */
function agreementWithNull(layer: string, groups: number[], experts: number[]): Pick<RoutingLayerStats, 'ami' | 'amiNull'> {
  const { ami, null: amiNull } = amiWithNull(Int32Array.from(groups), Int32Array.from(experts), {
    permutations: AMI_PERMUTATIONS,
    seed: `routing-ami-null:${layer}`,
  });
  return { ami, amiNull: { ...amiNull, method: 'group labels permuted over the held-out rows' } };
}

/** Rows of `size` elements along the last axis of a tensor of `total` elements (a rank-1 tensor is one column). */
function rowWidth(t: tf.Tensor): number {
  return t.rank <= 1 ? 1 : (t.shape[t.rank - 1] as number);
}

/**
 * An accumulator for one routed layer. `experts` is E; `groupCount` is
 * TaskSpec.groups.count. Load counts every routed slot (all k choices per row); the
 * count table and NMI use the top-1 choice (column 0). A negative assignment entry
 * means "no expert" (a token dropped at capacity) and is not counted.
 */
export function createRoutingAccumulator(layer: string, experts: number, groupCount: number): RoutingAccumulator {
  if (!Number.isInteger(experts) || experts < 1)
    throw new RangeError(`routing metrics (${layer}): experts must be a positive integer, got ${experts}`);
  if (!Number.isInteger(groupCount) || groupCount < 1)
    throw new RangeError(`routing metrics (${layer}): groupCount must be a positive integer, got ${groupCount}`);
  const slots = new Float64Array(experts);
  // top-1 (group, expert) pairs in held-out order, for AMI's permutation null
  const pairGroups: number[] = [];
  const pairExperts: number[] = [];
  const counts = Array.from({ length: groupCount }, () => new Array<number>(experts).fill(0));
  let entropySum = 0;
  let entropyRows = 0;
  const logE = Math.log(experts);

  return {
    layer,
    experts,
    add(trace: RoutingTrace, groups: tf.Tensor) {
      if (trace.layer !== layer)
        throw new Error(`routing metrics: a trace of layer '${trace.layer}' was given to the accumulator of '${layer}'`);
      if (trace.experts !== experts)
        throw new Error(`routing metrics (${layer}): the trace says ${trace.experts} experts, the layer was declared with ${experts}`);
      const k = rowWidth(trace.assignment);
      const assignment = trace.assignment.dataSync();
      const rows = k > 0 ? assignment.length / k : 0;
      const g = groups.dataSync();
      if (g.length === 0 || rows % g.length !== 0)
        throw new Error(
          `routing metrics (${layer}): ${rows} routed rows cannot be matched to ${g.length} group labels (shape [${groups.shape}])`,
        );
      const repeat = rows / g.length;

      for (let t = 0; t < rows; t++) {
        const group = g[Math.floor(t / repeat)] as number;
        if (!Number.isInteger(group) || group < 0 || group >= groupCount)
          throw new RangeError(`routing metrics (${layer}): group label ${group} is outside [0, ${groupCount})`);
        for (let j = 0; j < k; j++) {
          const e = assignment[t * k + j] as number;
          if (e < 0) continue;
          if (!Number.isInteger(e) || e >= experts)
            throw new RangeError(`routing metrics (${layer}): expert index ${e} is outside [0, ${experts})`);
          slots[e] = (slots[e] as number) + 1;
          if (j === 0) {
            (counts[group] as number[])[e] = ((counts[group] as number[])[e] as number) + 1;
            pairGroups.push(group);
            pairExperts.push(e);
          }
        }
      }

      const probabilities = trace.probabilities;
      if (probabilities) {
        if (rowWidth(probabilities) !== experts)
          throw new Error(`routing metrics (${layer}): probabilities have ${rowWidth(probabilities)} columns, expected ${experts}`);
        const p = probabilities.dataSync();
        if (p.length !== rows * experts)
          throw new Error(`routing metrics (${layer}): probabilities have ${p.length / experts} rows, the assignment ${rows}`);
        for (let t = 0; t < rows; t++) {
          const row = p.subarray(t * experts, (t + 1) * experts);
          for (let e = 0; e < experts; e++) {
            const v = row[e] as number;
            if (!Number.isFinite(v) || v < 0)
              throw new RangeError(`routing metrics (${layer}): router probability ${v} is not a finite non-negative number`);
          }
          // Renormalised per row (entropy() divides by the sum): gates that were
          // renormalised over the top-k are still a distribution over E.
          entropySum += experts > 1 ? entropy(row) / logE : 0;
          entropyRows++;
        }
      }
    },
    result(): RoutingLayerStats {
      const total = slots.reduce((a, b) => a + b, 0);
      const load = Array.from(slots, (c) => (total > 0 ? c / total : 0));
      return {
        layer,
        experts,
        load,
        ...loadBalance(load),
        // Averaged over the rows that came with probabilities; null when none did.
        routingEntropy: entropyRows > 0 ? Math.min(1, Math.max(0, entropySum / entropyRows)) : null,
        nmi: normalizedMutualInformation(counts),
        ...agreementWithNull(layer, pairGroups, pairExperts),
        counts: counts.map((row) => [...row]),
      };
    },
  };
}
