/**
 * The scaling study: each architecture's final loss at every rung of the budget ladder
 * (harness/tasks/ladder.ts), its fitted curve, and how its gap to dense moves with compute.
 * Pure: records in, figures out; the README's section and the /scaling page both read it.
 *
 * Every comparison is seed-paired (seed s of an architecture against seed s of dense: the
 * same data order and initial draw) and on log scale:
 * - loss ratio at a rung: the geometric mean of L_arch/L_dense over seeds, with its t-interval;
 * - compute multiplier at a rung: the compute dense's own fitted line (seed s) needs to reach
 *   the architecture's loss, over the compute the architecture used (> 1: it saves compute),
 *   marked extrapolated when dense's line is read outside the budgets it was run at;
 * - trend: the slope of log(L_arch/L_ref) on log₂ of the rung's budget, fitted on the rung
 *   means (harness/stats/trend.ts: the same seed shares its initial weights across rungs),
 *   as the factor the ratio changes per doubling; its directional tests and its TOST against
 *   the protocol's per-doubling margin are Holm-corrected across every task in the
 *   protocol's trend families. Below 1, the architecture gains on the reference.
 * The reference is dense-block, the like-for-like control. The placebo is dense against
 * itself (seeds 5–9 paired with 0–4): only dense has ten seeds on the ladder.
 *
 * Quality and executed FLOPs do not depend on the CPU: the same backend and kernel reproduce a
 * record bit for bit on another machine, so the study pools hardware classes (seconds are not used).
 */

import { tQuantile } from '../math/distributions.ts';
import type { Protocol } from '../results/protocol.ts';
import type { QualityMetric, RunRecord, TierName } from '../results/record.ts';
import { computeFor, fallsMeasurably, fitScaling, lossOf, type ScalingFit, type ScalingPoint } from '../stats/scaling-fit.ts';
import { holm, logScaleMean, tost } from '../stats/tests.ts';
import { type LadderPoint, type RungMeanSlope, rungMeanSlope } from '../stats/trend.ts';
import { LADDER } from '../tasks/ladder.ts';
import { TASK_INFOS } from '../tiers.ts';
import { directionalP } from './claims.ts';
import { identicalSeeds } from './identity.ts';

/** The like-for-like reference; dense stays the placebo's, the only architecture with ten seeds on the ladder. */
export const SCALING_BASELINE = 'dense-block';
export const PLACEBO_ARCH = 'dense';
/** Dense's placebo seeds are paired with seed − PLACEBO_OFFSET. */
export const PLACEBO_OFFSET = 5;
export const PLACEBO_NAME = 'dense (placebo: seeds 5–9 against 0–4)';

/** A geometric mean on log scale with its interval and the test of "no effect" (ratio 1). */
export interface LogEstimate {
  value: number;
  lo: number | null;
  hi: number | null;
  p: number | null;
  n: number;
}

export interface RungPoint extends ScalingPoint {
  quality: number;
  recordId: string;
}

export interface RungFigures {
  tier: TierName;
  share: number;
  budgetFlops: number;
  points: RungPoint[];
  /** L_arch / L_dense, seed-paired; null without pairs */
  lossRatio: LogEstimate | null;
  /** dense-equivalent compute / own compute, seed-paired; null where dense's line cannot say */
  multiplier: (LogEstimate & { extrapolated: boolean; unreached: number }) | null;
  /** why there is no multiplier: no fitted dense curve, a flat one, every seed beyond it, or no pair */
  multiplierNote: string | null;
}

export type TrendVerdict =
  | 'gains on dense-block'
  | 'loses ground to dense-block'
  | 'no trend (TOST)'
  | 'inconclusive'
  | 'no verdict: below the test-set floor'
  | 'identical to dense-block: not tested'
  | 'not tested';

/** The protocol's trend rules. */
export const trendRulesOf = (p: Pick<Protocol, 'margins' | 'power'>): TrendRules => ({
  perDoubling: p.margins.perDoubling,
  alpha: p.power.alpha,
  power: p.power.power,
});

/** The settings a trend is judged by: the protocol's per-doubling margin and α, the power its MDE assumes. */
export interface TrendRules {
  perDoubling: number;
  alpha: number;
  power: number;
}

export interface ArchScaling {
  arch: string;
  family: string;
  rungs: RungFigures[];
  fit: ScalingFit | null;
  /** why there is no fit */
  fitError: string | null;
  /** factor by which L_arch/L_ref changes per doubling of compute, fitted on rung means */
  trend: Trend | null;
  verdict: TrendVerdict;
}

export interface Trend extends LogEstimate {
  /** TOST of "no trend" against the per-doubling margin: its (1 − 2α) interval's ends, as factors */
  tostLo: number | null;
  tostHi: number | null;
  /** directional p's (gains: slope < 0; loses: slope > 0) and the TOST p, raw and Holm-adjusted across tasks */
  pGains: number | null;
  pLoses: number | null;
  pNone: number | null;
  holmGains: number | null;
  holmLoses: number | null;
  holmNone: number | null;
  /** the smallest per-doubling factor the slope's spread detects, at α */
  mde: number | null;
  /** every rung's mean quality difference from the reference under twice the test set's standard error */
  belowFloor: boolean;
  seFrom: RungMeanSlope['seFrom'];
}

export interface TaskScaling {
  task: string;
  metric: QualityMetric;
  /** the ladder's tiers that have runs of this task, smallest first */
  tiers: TierName[];
  archs: ArchScaling[];
  placebo: ArchScaling | null;
}

const completed = (r: RunRecord) => r.status === 'completed' && r.final !== null && r.task.variantSeed === null;

/**
 * The records the study reads: completed, standard-data runs on the ladder's tiers, one per
 * key (a run repeated on another machine reproduces its figures; the latest is kept).
 */
export function ladderRecords(records: readonly RunRecord[]): RunRecord[] {
  const tiers = new Set<string>(LADDER.map((l) => l.tier));
  const byKey = new Map<string, RunRecord>();
  for (const r of records) {
    // the ladder is the exploratory set's: a protocol-stamped run never joins it
    if (!tiers.has(r.task.tier) || !completed(r) || r.protocol !== undefined) continue;
    const seen = byKey.get(r.key);
    if (!seen || seen.finishedAt < r.finishedAt) byKey.set(r.key, r);
  }
  return [...byKey.values()];
}

/** Tasks whose ladder has runs below the cpu tier (a cpu tier alone is one point, not a study). */
export function ladderTasks(records: readonly RunRecord[]): string[] {
  return [
    ...new Set(
      ladderRecords(records)
        .filter((r) => r.task.tier !== 'cpu')
        .map((r) => r.task.id),
    ),
  ].sort();
}

function pointsOf(records: readonly RunRecord[], metric: QualityMetric, seedShift = 0): RungPoint[] {
  return records.flatMap((r) => {
    const quality = r.final?.quality;
    if (quality === undefined) return [];
    return [
      {
        seed: r.task.seed - seedShift,
        compute: r.flops.executed,
        loss: lossOf(quality, metric.higherIsBetter),
        quality,
        recordId: r.id,
      },
    ];
  });
}

function estimate(logs: readonly number[]): LogEstimate | null {
  if (logs.length === 0) return null;
  const m = logScaleMean(logs);
  return { value: m.value, lo: m.lo, hi: m.hi, p: m.logs.p, n: logs.length };
}

function tryFit(points: readonly ScalingPoint[]): { fit: ScalingFit | null; fitError: string | null } {
  try {
    return { fit: fitScaling(points), fitError: null };
  } catch (e) {
    return { fit: null, fitError: (e as Error).message };
  }
}

/** One architecture's ladder against dense's (both already split by rung). */
function compare(
  arch: string,
  family: string,
  own: ReadonlyMap<TierName, RungPoint[]>,
  dense: ReadonlyMap<TierName, RungPoint[]>,
  denseFit: ScalingFit | null,
  refName: string = SCALING_BASELINE,
): Omit<ArchScaling, 'trend' | 'verdict'> & { ladder: LadderPoint[]; qualityGaps: number[] } {
  const denseRange = [...dense.values()].flat().map((p) => p.compute);
  const lo = Math.min(...denseRange);
  const hi = Math.max(...denseRange);
  const rungs: RungFigures[] = [];
  // inverting a curve that may be flat gives any compute at all: only a fall measured over the seeds is read
  const denseFalls = denseFit !== null && fallsMeasurably(denseFit);
  // per seed and rung: x = log₂ of the rung's share of the budget (exact doublings), y = log ratio
  const ladder: LadderPoint[] = [];
  const qualityGaps: number[] = [];
  for (const l of LADDER) {
    const points = own.get(l.tier);
    if (!points?.length) continue;
    const denseAt = new Map((dense.get(l.tier) ?? []).map((p) => [p.seed, p]));
    const logRatios: number[] = [];
    const logMultipliers: number[] = [];
    let extrapolated = false;
    let unreached = 0;
    for (const p of points) {
      const d = denseAt.get(p.seed);
      if (!d || !(p.loss > 0) || !(d.loss > 0)) continue;
      const r = Math.log(p.loss / d.loss);
      logRatios.push(r);
      ladder.push({ seed: p.seed, x: Math.log2(l.share), y: r });
      const line = denseFit?.lines.find((x) => x.seed === p.seed);
      if (!denseFit || !denseFalls || !line) continue;
      const need = computeFor({ a: line.a, alpha: line.alpha, floor: denseFit.floor }, p.loss);
      if (need === null) {
        unreached++;
        continue;
      }
      if (need < lo || need > hi) extrapolated = true;
      logMultipliers.push(Math.log(need / p.compute));
    }
    const paired = points.flatMap((p) => {
      const d = denseAt.get(p.seed);
      return d ? [p.quality - d.quality] : [];
    });
    if (paired.length) qualityGaps.push(Math.abs(paired.reduce((s2, x) => s2 + x, 0) / paired.length));
    const m = estimate(logMultipliers);
    rungs.push({
      tier: l.tier,
      share: l.share,
      budgetFlops: Math.min(...points.map((p) => p.compute)),
      points,
      lossRatio: estimate(logRatios),
      multiplier: m && { ...m, extrapolated, unreached },
      multiplierNote: m
        ? null
        : !denseFit
          ? `${refName} has no fitted curve`
          : !denseFalls
            ? `none: ${refName}’s curve is flat`
            : unreached
              ? `every seed beyond what ${refName}’s fitted curve reaches (${unreached})`
              : `no seed paired with ${refName}`,
    });
  }
  const { fit, fitError } = tryFit([...own.values()].flat());
  return { arch, family, rungs, fit, fitError, ladder, qualityGaps };
}

/** The trend on rung means with its tests (Holm comes later, across tasks); null without two rungs. */
function trendOf(ladder: readonly LadderPoint[], gaps: readonly number[], floor: number | null, rules: TrendRules): Trend | null {
  const fit = rungMeanSlope(ladder);
  if (!fit) return null;
  const s = fit.slope;
  const exp = (x: number | null) => (x === null ? null : Math.exp(x));
  const eq = tost(s, Math.log(rules.perDoubling), rules.alpha);
  const mde =
    s.se === null || s.df === null ? null : Math.exp((tQuantile(1 - rules.alpha / 2, s.df) + tQuantile(rules.power, s.df)) * s.se);
  return {
    value: Math.exp(s.effect),
    lo: exp(s.lo),
    hi: exp(s.hi),
    p: s.p,
    n: fit.seeds,
    tostLo: exp(eq.lo),
    tostHi: exp(eq.hi),
    // gains on the reference: the loss ratio falls (slope < 0)
    pGains: directionalP(s, 'less'),
    pLoses: directionalP(s, 'greater'),
    pNone: eq.p,
    holmGains: null,
    holmLoses: null,
    holmNone: null,
    mde,
    belowFloor: floor !== null && gaps.length > 0 && gaps.every((g) => g < 2 * floor),
    seFrom: fit.seFrom,
  };
}

function verdictOf(t: Trend | null, alpha: number): TrendVerdict {
  if (!t || t.p === null) return 'not tested';
  const gains = (t.holmGains ?? 1) < alpha;
  const loses = (t.holmLoses ?? 1) < alpha;
  if ((gains || loses) && t.belowFloor) return 'no verdict: below the test-set floor';
  if (gains) return 'gains on dense-block';
  if (loses) return 'loses ground to dense-block';
  if ((t.holmNone ?? 1) < alpha) return 'no trend (TOST)';
  return 'inconclusive';
}

const byRung = (points: readonly RungPoint[], tierOf: ReadonlyMap<string, TierName>) => {
  const m = new Map<TierName, RungPoint[]>();
  for (const p of points) {
    const tier = tierOf.get(p.recordId);
    if (tier) m.set(tier, [...(m.get(tier) ?? []), p]);
  }
  return m;
};

/** The study for one task, or null without reference runs on at least two rungs; trends get their Holm values in scalingStudy. */
export function scalingOf(task: string, records: readonly RunRecord[], rules: TrendRules): TaskScaling | null {
  const mine = ladderRecords(records).filter((r) => r.task.id === task);
  const first = mine[0];
  if (!first) return null;
  const metric = first.task.metric;
  const floor = TASK_INFOS.find((t) => t.spec.id === task)?.statistics.testSet.standardError ?? null;
  const tierOf = new Map(mine.map((r) => [r.id, r.task.tier]));
  const refRecords = mine.filter((r) => r.architecture.name === SCALING_BASELINE);
  const ref = byRung(pointsOf(refRecords, metric), tierOf);
  if (ref.size < 2) return null;
  const refFit = tryFit([...ref.values()].flat()).fit;

  const names = [...new Set(mine.map((r) => r.architecture.name))].sort((a, b) =>
    a === SCALING_BASELINE ? -1 : b === SCALING_BASELINE ? 1 : a.localeCompare(b),
  );
  // where dense is dense-block in all but name on every rung (charlm), it is shown and tested in no family
  const rungTiers = [...new Set(refRecords.map((r) => r.task.tier))];
  const sameAsRef = (name: string) =>
    rungTiers.every((tier) => {
      const at = (n: string) => mine.filter((r) => r.architecture.name === n && r.task.tier === tier);
      return identicalSeeds(at(SCALING_BASELINE), at(name)) !== null;
    });
  const archs = names.map((name) => {
    const rs = mine.filter((r) => r.architecture.name === name);
    const { ladder, qualityGaps, ...a } = compare(
      name,
      rs[0]?.architecture.family ?? 'other',
      byRung(pointsOf(rs, metric), tierOf),
      ref,
      refFit,
    );
    const identical = name === PLACEBO_ARCH && sameAsRef(name);
    const trend = name === SCALING_BASELINE || identical ? null : trendOf(ladder, qualityGaps, floor, rules);
    return { ...a, trend, verdict: (identical ? 'identical to dense-block: not tested' : 'not tested') as TrendVerdict };
  });
  // the placebo: dense's seeds 5–9 against its own 0–4, on dense's own fitted curve
  const dense = mine.filter((r) => r.architecture.name === PLACEBO_ARCH);
  const denseLow = byRung(
    pointsOf(
      dense.filter((r) => r.task.seed < PLACEBO_OFFSET),
      metric,
    ),
    tierOf,
  );
  const placeboPoints = pointsOf(
    dense.filter((r) => r.task.seed >= PLACEBO_OFFSET),
    metric,
    PLACEBO_OFFSET,
  );
  let placebo: ArchScaling | null = null;
  if (placeboPoints.length && denseLow.size >= 2) {
    const denseFit = tryFit([...denseLow.values()].flat()).fit;
    const { ladder, qualityGaps, ...a } = compare(PLACEBO_NAME, 'dense', byRung(placeboPoints, tierOf), denseLow, denseFit, PLACEBO_ARCH);
    const trend = trendOf(ladder, qualityGaps, floor, rules);
    if (trend) {
      // the placebo is its own family of one: uncorrected
      trend.holmGains = trend.pGains;
      trend.holmLoses = trend.pLoses;
      trend.holmNone = trend.pNone;
    }
    placebo = { ...a, trend, verdict: verdictOf(trend, rules.alpha) };
  }
  const present = new Set(mine.map((r) => r.task.tier));
  return { task, metric, tiers: LADDER.map((l) => l.tier).filter((t) => present.has(t)), archs, placebo };
}

/**
 * The study for every task with a ladder, in the given order. Each trend family (gains,
 * loses, no trend) is Holm-corrected across every task together, as a cross-task sentence needs.
 */
export function scalingStudy(records: readonly RunRecord[], order: readonly string[], rules: TrendRules): TaskScaling[] {
  const tasks = new Set(ladderTasks(records));
  const study = order.filter((t) => tasks.has(t)).flatMap((t) => scalingOf(t, records, rules) ?? []);
  const trends = study.flatMap((t) => t.archs.flatMap((a) => (a.trend ? [a.trend] : [])));
  const gains = holm(trends.map((t) => t.pGains));
  const loses = holm(trends.map((t) => t.pLoses));
  const none = holm(trends.map((t) => t.pNone));
  trends.forEach((t, i) => {
    t.holmGains = gains[i] ?? null;
    t.holmLoses = loses[i] ?? null;
    t.holmNone = none[i] ?? null;
  });
  for (const t of study) for (const a of t.archs) if (a.trend) a.verdict = verdictOf(a.trend, rules.alpha);
  return study;
}
