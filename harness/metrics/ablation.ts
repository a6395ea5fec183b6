/**
 * Modularity by ablation: mask one expert of a routed layer at a time, re-evaluate on the
 * held-out set, and see which groups (classes, subtasks) lose quality. Run at the end of
 * a run: it costs E + 1 evaluations.
 */
import type { Legibility } from '../results/record.ts';
import { permutation, rng } from '../tasks/random.ts';
import { type PermutationNull, summariseNull } from './agreement.ts';

export type AblationStats = NonNullable<Legibility['ablation']>;

/**
 * Quality per group: an array indexed by group, or a Scorer's `subQualities` record (its
 * keys, in the unmasked result's order, are the matrix's columns).
 */
export type GroupQualities = readonly number[] | Readonly<Record<string, number>>;

function asVector(q: GroupQualities, keys: readonly string[] | null, what: string): number[] {
  const values = Array.isArray(q)
    ? (q as readonly number[]).slice()
    : (keys ?? []).map((key) => {
        const v = (q as Readonly<Record<string, number>>)[key];
        if (v === undefined) throw new Error(`expert ablation: ${what} has no quality for group '${key}'`);
        return v;
      });
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`expert ablation: ${what} has a non-finite quality ${v}`);
  return values;
}

/**
 * matrix[e][g] = quality drop on group g when expert e is masked, signed so that a
 * positive drop is always worse: baseline − masked where higher is better (accuracy),
 * masked − baseline where lower is better (bits per character, MSE).
 */
export function ablationMatrix(baseline: GroupQualities, masked: readonly GroupQualities[], higherIsBetter: boolean): number[][] {
  const keys = Array.isArray(baseline) ? null : Object.keys(baseline);
  const base = asVector(baseline, keys, 'the unmasked evaluation');
  return masked.map((m, e) => {
    const q = asVector(m, keys, `the evaluation with expert ${e} masked`);
    if (q.length !== base.length)
      throw new Error(`expert ablation: expert ${e}'s evaluation has ${q.length} groups, the unmasked one ${base.length}`);
    return q.map((v, g) => (higherIsBetter ? (base[g] as number) - v : v - (base[g] as number)));
  });
}

/**
 * Diagonal dominance of an ablation matrix, in [0, 1]. With d⁺ = max(drop, 0) (a group
 * that improves when an expert is masked counts as unaffected), each expert e has a top
 * drop t_e = max_g d⁺[e][g] on its most-affected group g*_e and a rest r_e = mean over
 * g ≠ g*_e of d⁺[e][g]; then
 *
 *   dominance = Σ_e (t_e − r_e) / Σ_e t_e
 *
 * 1: masking any expert hurts exactly one group; 0: each expert's removal hurts all
 * groups alike (or nothing at all, or there is only one group). Weighting by t_e means
 * experts whose removal changes nothing do not count either way. It asks whether each
 * expert is specialised, not whether experts own different groups — read the matrix (or
 * the routing NMI) for that. Noise in the drops raises it slightly (the max of noisy
 * values), so compare it against a dense model's near-uniform case, not against 0.
 */
export function diagonalDominance(matrix: readonly (readonly number[])[]): number {
  let gap = 0;
  let top = 0;
  for (const row of matrix) {
    if (row.length < 2) continue;
    const d = row.map((v) => Math.max(0, v));
    const max = Math.max(...d);
    const rest = (d.reduce((a, b) => a + b, 0) - max) / (d.length - 1);
    gap += max - rest;
    top += max;
  }
  return top > 0 ? Math.min(1, Math.max(0, gap / top)) : 0;
}

/**
 * The ablation record of one routed layer: evaluates once unmasked (null) and once with
 * each expert 0..E−1 masked, then builds the matrix and its diagonal dominance.
 * Null, after the one unmasked evaluation, when the task reports fewer than two groups
 * (charlm and superposition score no subQualities): a matrix without groups would show
 * dominance 0 as if it had been measured.
 */
export function expertAblation(
  layer: string,
  experts: number,
  evaluateWithMask: (maskedExpert: number | null) => GroupQualities,
  opts: { higherIsBetter: boolean },
): AblationStats | null {
  if (!Number.isInteger(experts) || experts < 1)
    throw new RangeError(`expert ablation (${layer}): experts must be a positive integer, got ${experts}`);
  const baseline = evaluateWithMask(null);
  if ((Array.isArray(baseline) ? baseline.length : Object.keys(baseline).length) < 2) return null;
  const masked = Array.from({ length: experts }, (_, e) => evaluateWithMask(e));
  const matrix = ablationMatrix(baseline, masked, opts.higherIsBetter);
  return { layer, matrix, diagonalDominance: diagonalDominance(matrix) };
}

/** Per-example scores of one evaluation (unmasked or with one expert masked), in held-out order. */
export type ExampleScores = Float64Array;

/** Mean score per group (groups 0..count−1; an empty group scores 0). */
function groupMeans(groups: Int32Array, scores: ExampleScores, count: number): number[] {
  const sum = new Array<number>(count).fill(0);
  const n = new Array<number>(count).fill(0);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as number;
    sum[g] = (sum[g] as number) + (scores[i] as number);
    n[g] = (n[g] as number) + 1;
  }
  return sum.map((s, g) => ((n[g] as number) > 0 ? s / (n[g] as number) : 0));
}

/**
 * The label-blind null of diagonal dominance: the same statistic after the held-out
 * examples' group labels are permuted (one permutation for the unmasked and every masked
 * evaluation, so group sizes and every expert's effect are kept), `permutations` times.
 * It is what dominance reads when the "groups" are arbitrary sets no model could know:
 * the floor set by noise and by experts that matter to some examples more than others.
 * A dominance is about the labels only where it stands above the null's 95th percentile.
 */
export function dominanceNull(
  groups: Int32Array,
  unmasked: ExampleScores,
  masked: readonly ExampleScores[],
  opts: { higherIsBetter: boolean; permutations: number; seed: string },
): PermutationNull {
  for (const m of [unmasked, ...masked])
    if (m.length !== groups.length) throw new Error(`dominance null: ${m.length} example scores for ${groups.length} examples`);
  const count = groups.reduce((m, g) => Math.max(m, g + 1), 0);
  const random = rng(opts.seed);
  const scores: number[] = [];
  for (let p = 0; p < opts.permutations; p++) {
    const order = permutation(groups.length, random);
    const shuffled = order.map((i) => groups[i] as number);
    const base = groupMeans(shuffled, unmasked, count);
    const matrix = ablationMatrix(
      base,
      masked.map((m) => groupMeans(shuffled, m, count)),
      opts.higherIsBetter,
    );
    scores.push(diagonalDominance(matrix));
  }
  return summariseNull(scores);
}
