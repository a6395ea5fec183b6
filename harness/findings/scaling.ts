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
 * - trend: per seed, the slope of log(L_arch/L_dense) on log C across the rungs, as the factor
 *   the ratio changes per doubling of compute; a t-test over seeds, Holm-adjusted over a
 *   task's architectures. Below 1, the architecture gains on dense as compute grows.
 * The placebo is dense against itself: seeds 5–9 paired with 0–4 on the same statistics.
 *
 * Quality and executed FLOPs do not depend on the CPU: the same backend and kernel reproduce a
 * record bit for bit on another machine, so the study pools hardware classes (seconds are not used).
 */

import type { QualityMetric, RunRecord, TierName } from '../results/record.ts';
import { computeFor, fallsMeasurably, fitScaling, lossOf, type ScalingFit, type ScalingPoint } from '../stats/scaling-fit.ts';
import { type Difference, holm, logScaleMean, oneSampleT } from '../stats/tests.ts';
import { LADDER } from '../tasks/ladder.ts';

export const SCALING_BASELINE = 'dense';
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

export type TrendVerdict = 'gains on dense' | 'loses ground to dense' | 'no trend detected' | 'not tested';

export interface ArchScaling {
  arch: string;
  family: string;
  rungs: RungFigures[];
  fit: ScalingFit | null;
  /** why there is no fit */
  fitError: string | null;
  /** factor by which L_arch/L_dense changes per doubling of compute */
  trend: (LogEstimate & { pHolm: number | null }) | null;
  verdict: TrendVerdict;
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
    if (!tiers.has(r.task.tier) || !completed(r)) continue;
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
): Omit<ArchScaling, 'trend' | 'verdict'> & { slopes: number[] } {
  const denseRange = [...dense.values()].flat().map((p) => p.compute);
  const lo = Math.min(...denseRange);
  const hi = Math.max(...denseRange);
  const rungs: RungFigures[] = [];
  // inverting a curve that may be flat gives any compute at all: only a fall measured over the seeds is read
  const denseFalls = denseFit !== null && fallsMeasurably(denseFit);
  const ratiosBySeed = new Map<number, { x: number; y: number }[]>();
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
      const series = ratiosBySeed.get(p.seed) ?? [];
      series.push({ x: Math.log2(p.compute), y: r });
      ratiosBySeed.set(p.seed, series);
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
          ? 'dense has no fitted curve'
          : !denseFalls
            ? 'none: dense’s curve is flat'
            : unreached
              ? `every seed beyond what dense’s fitted curve reaches (${unreached})`
              : 'no seed paired with dense',
    });
  }
  // the slope of log ratio on log₂ C, seed by seed: its exp is the factor per doubling
  const slopes = [...ratiosBySeed.values()].flatMap((xy) => {
    if (new Set(xy.map((v) => v.x)).size < 2) return [];
    const mx = xy.reduce((s, v) => s + v.x, 0) / xy.length;
    const my = xy.reduce((s, v) => s + v.y, 0) / xy.length;
    const sxx = xy.reduce((s, v) => s + (v.x - mx) ** 2, 0);
    return [xy.reduce((s, v) => s + (v.x - mx) * (v.y - my), 0) / sxx];
  });
  const { fit, fitError } = tryFit([...own.values()].flat());
  return { arch, family, rungs, fit, fitError, slopes };
}

function trendOf(slopes: readonly number[]): LogEstimate | null {
  if (slopes.length === 0) return null;
  const t: Difference = oneSampleT(slopes);
  const exp = (x: number | null) => (x === null ? null : Math.exp(x));
  return { value: Math.exp(t.effect), lo: exp(t.lo), hi: exp(t.hi), p: t.p, n: t.n };
}

function verdictOf(trend: { value: number; pHolm: number | null } | null): TrendVerdict {
  if (!trend || trend.pHolm === null) return 'not tested';
  if (trend.pHolm >= 0.05) return 'no trend detected';
  return trend.value < 1 ? 'gains on dense' : 'loses ground to dense';
}

const byRung = (points: readonly RungPoint[], tierOf: ReadonlyMap<string, TierName>) => {
  const m = new Map<TierName, RungPoint[]>();
  for (const p of points) {
    const tier = tierOf.get(p.recordId);
    if (tier) m.set(tier, [...(m.get(tier) ?? []), p]);
  }
  return m;
};

/** The study for one task, or null without dense runs on at least two rungs. */
export function scalingOf(task: string, records: readonly RunRecord[]): TaskScaling | null {
  const mine = ladderRecords(records).filter((r) => r.task.id === task);
  const first = mine[0];
  if (!first) return null;
  const metric = first.task.metric;
  const tierOf = new Map(mine.map((r) => [r.id, r.task.tier]));
  const denseRecords = mine.filter((r) => r.architecture.name === SCALING_BASELINE);
  const dense = byRung(
    pointsOf(
      denseRecords.filter((r) => r.task.seed < PLACEBO_OFFSET),
      metric,
    ),
    tierOf,
  );
  if (dense.size < 2) return null;
  const denseFit = tryFit([...dense.values()].flat()).fit;

  const names = [...new Set(mine.map((r) => r.architecture.name))].sort((a, b) =>
    a === SCALING_BASELINE ? -1 : b === SCALING_BASELINE ? 1 : a.localeCompare(b),
  );
  const raw = names.map((name) => {
    const rs = mine.filter((r) => r.architecture.name === name && (name !== SCALING_BASELINE || r.task.seed < PLACEBO_OFFSET));
    return compare(name, rs[0]?.architecture.family ?? 'other', byRung(pointsOf(rs, metric), tierOf), dense, denseFit);
  });
  const placeboPoints = pointsOf(
    denseRecords.filter((r) => r.task.seed >= PLACEBO_OFFSET),
    metric,
    PLACEBO_OFFSET,
  );
  const placeboRaw = placeboPoints.length ? compare(PLACEBO_NAME, 'dense', byRung(placeboPoints, tierOf), dense, denseFit) : null;

  // Holm over the architectures compared with dense (dense itself has no trend against itself)
  const trends = raw.map((a) => (a.arch === SCALING_BASELINE ? null : trendOf(a.slopes)));
  const adjusted = holm(trends.map((t) => t?.p ?? null));
  const archs = raw.map(({ slopes: _, ...a }, i) => {
    const t = trends[i] ?? null;
    const trend = t && { ...t, pHolm: adjusted[i] ?? null };
    return { ...a, trend, verdict: verdictOf(trend) };
  });
  let placebo: ArchScaling | null = null;
  if (placeboRaw) {
    const { slopes, ...a } = placeboRaw;
    const t = trendOf(slopes);
    const trend = t && { ...t, pHolm: t.p };
    placebo = { ...a, trend, verdict: verdictOf(trend) };
  }
  const present = new Set(mine.map((r) => r.task.tier));
  return { task, metric, tiers: LADDER.map((l) => l.tier).filter((t) => present.has(t)), archs, placebo };
}

/** The study for every task with a ladder, in the given order. */
export function scalingStudy(records: readonly RunRecord[], order: readonly string[]): TaskScaling[] {
  const tasks = new Set(ladderTasks(records));
  return order.filter((t) => tasks.has(t)).flatMap((t) => scalingOf(t, records) ?? []);
}
