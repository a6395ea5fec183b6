/**
 * What the findings' statistics read from the records of one task: the task's target,
 * margin and test-set error in force, each run's cost-to-target (computed from its curve
 * against the target in force, never a figure a record stored), and the
 * seed pairs the paired tests and multipliers run on.
 */
import type { CostReading, CostToTarget, RunRecord, TierName } from '../results/record.ts';
import { type CostToTargetAxis, costToTargetAt, targetInForce } from '../stats/cost-to-target.ts';
import { type CostPair, type Multiplier, pairedMultiplier } from '../stats/multiplier.ts';
import { logScaleMean } from '../stats/tests.ts';
import { TASK_INFOS } from '../tiers.ts';

/** The constants a task's verdicts are judged against, as the task's info states them. */
export interface VerdictConstants {
  /** null where the tier has no target; targetNote says why */
  target: number | null;
  targetNote: string;
  /** TOST margin, metric units */
  margin: number;
  /** test-set standard error, metric units; null where not measured, testSetNote says why */
  testSetError: number | null;
  testSetNote: string;
}

export function constantsOf(task: string, tier: TierName): VerdictConstants | null {
  const info = TASK_INFOS.find((t) => t.spec.id === task);
  if (!info) return null;
  const t = targetInForce(task, tier);
  const s = info.statistics;
  return {
    target: t.value,
    targetNote: t.value === null ? t.reason : t.basis,
    margin: s.equivalenceMargin,
    testSetError: s.testSet.standardError,
    testSetNote: s.testSet.basis,
  };
}

/** A run's cost-to-target against `target`, from its curve (harness/stats/cost-to-target.ts). */
export const costsOf = (r: RunRecord, target: number): CostToTarget => costToTargetAt(r, target);

/** The runs that share a seed with another set, as [mine, theirs] in seed order. */
export function bySeed<T extends { task: { seed: number } }>(a: readonly T[], b: readonly T[]): [T, T][] {
  const theirs = new Map(b.map((r) => [r.task.seed, r]));
  return [...a]
    .sort((x, y) => x.task.seed - y.task.seed)
    .flatMap((r): [T, T][] => {
      const o = theirs.get(r.task.seed);
      return o ? [[r, o]] : [];
    });
}

/** Cost pairs on one axis: dense's run and the architecture's for each pair of runs given. */
export function costPairs(pairs: readonly [RunRecord, RunRecord][], target: number, axis: CostToTargetAxis): CostPair[] {
  return pairs.map(([dense, arch]) => ({
    seed: arch.task.seed,
    dense: costsOf(dense, target)[axis],
    arch: costsOf(arch, target)[axis],
  }));
}

/** The seed-paired multiplier of `arch` against `dense` runs on one axis. */
export function multiplierOf(dense: readonly RunRecord[], arch: readonly RunRecord[], target: number, axis: CostToTargetAxis): Multiplier {
  return pairedMultiplier(costPairs(bySeed(dense, arch), target, axis));
}

/**
 * The placebo's pairs: dense against dense on disjoint seeds. Dense's seeds in order, the
 * first half paired with the second (0–4 against 5–9 for ten seeds: s ↔ s + 5); an odd
 * seed out is left out. The first half plays "dense", the second "the architecture".
 */
export function placeboPairs(dense: readonly RunRecord[]): [RunRecord, RunRecord][] {
  const sorted = [...dense].sort((a, b) => a.task.seed - b.task.seed);
  const half = Math.floor(sorted.length / 2);
  return sorted.slice(0, half).map((r, i) => [r, sorted[i + half] as RunRecord]);
}

/** Cost-to-target over an architecture's seeds on one axis. */
export type CostSummary =
  /** every seed reached it past its first evaluation point: geometric mean, t-interval on the logs */
  | { kind: 'estimate'; value: number; lo: number | null; hi: number | null; n: number }
  /** some seeds censored: how many reached it, how many only by a bound, the largest bound */
  | { kind: 'counts'; n: number; reached: number; bounds: number; boundAtMost: number | null }
  | { kind: 'not measured'; reason: string };

export function costSummary(readings: readonly CostReading[]): CostSummary {
  const unmeasured = readings.find((r) => r.status === 'not measured');
  if (unmeasured?.status === 'not measured') return { kind: 'not measured', reason: unmeasured.reason };
  const exact = readings.flatMap((r) => (r.status === 'reached' && r.cost > 0 ? [r.cost] : []));
  if (exact.length === readings.length && exact.length > 0) {
    const { value, lo, hi } = logScaleMean(exact.map(Math.log));
    return { kind: 'estimate', value, lo, hi, n: exact.length };
  }
  const bounds = readings.flatMap((r) => (r.status === 'bound' ? [r.cost] : []));
  return {
    kind: 'counts',
    n: readings.length,
    reached: exact.length + bounds.length,
    bounds: bounds.length,
    boundAtMost: bounds.length ? Math.max(...bounds) : null,
  };
}
