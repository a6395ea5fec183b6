/**
 * The leaderboard's arithmetic, pure so it can be tested on hand-made numbers:
 * intervals over seeds, geometric means, Pareto frontiers and the compute multiplier.
 */
import { sampleStandardDeviation, mean as ssMean } from 'simple-statistics';
import { tQuantile } from '../math/distributions.ts';
import type { Interval } from './types.ts';

/** The 97.5% quantile of Student's t with df degrees of freedom (two-sided 95%). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be ≥ 1, got ${df}`);
  return tQuantile(0.975, Math.floor(df));
}

/** Mean and 95% Student-t interval; n = 1 gives lo = hi = mean. Throws on no values. */
export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) throw new RangeError('meanInterval needs at least one value');
  const m = ssMean(values as number[]);
  if (n === 1) return { mean: m, lo: m, hi: m, n };
  const half = (tQuantile975(n - 1) * sampleStandardDeviation(values as number[])) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n };
}

/** exp(mean(log x)); null when empty or any value is not positive (a log would be undefined). */
export function geometricMean(values: readonly number[]): number | null {
  if (values.length === 0 || values.some((v) => !(v > 0))) return null;
  return Math.exp(values.reduce((a, v) => a + Math.log(v), 0) / values.length);
}

/**
 * Combine per-task intervals into one 'all tasks' figure: the geometric mean of the
 * means, of the lower and of the upper ends. A summary band, not a t-interval; n is the
 * number of tasks. A lower end at or below 0 (a wide interval from few seeds) has no
 * logarithm: the combined lower end is then 0, the honest bound. Null when any mean or
 * upper end is not positive.
 */
export function geometricInterval(intervals: readonly Interval[]): Interval | null {
  const m = geometricMean(intervals.map((i) => i.mean));
  const hi = geometricMean(intervals.map((i) => i.hi));
  if (m === null || hi === null) return null;
  const lo = intervals.some((i) => !(i.lo > 0)) ? 0 : (geometricMean(intervals.map((i) => i.lo)) ?? 0);
  return { mean: m, lo, hi, n: intervals.length };
}

/**
 * Which points are on the Pareto frontier of (cost lower-better, quality): a point is on
 * it when no other point is at least as cheap and at least as good, and strictly one of
 * the two. Identical points are all on it. Points with a null cost are never on it.
 */
export function paretoFrontier(points: readonly { cost: number | null; quality: number }[], higherIsBetter: boolean): boolean[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  const atLeast = (a: number, b: number) => (higherIsBetter ? a >= b : a <= b);
  return points.map((p, i) => {
    if (p.cost === null || !Number.isFinite(p.cost) || !Number.isFinite(p.quality)) return false;
    const pc = p.cost;
    return !points.some(
      (o, j) =>
        j !== i &&
        o.cost !== null &&
        Number.isFinite(o.cost) &&
        o.cost <= pc &&
        atLeast(o.quality, p.quality) &&
        (o.cost < pc || better(o.quality, p.quality)),
    );
  });
}

/** One curve as (cost so far, quality) pairs in order of cost. */
export type Curve = readonly { x: number; quality: number }[];

/** Relative slack so that a mean recomputed in another order still counts as reached. */
const REACH_EPS = 1e-9;

function reaches(q: number, target: number, higherIsBetter: boolean): boolean {
  const slack = REACH_EPS * Math.max(1, Math.abs(target));
  return higherIsBetter ? q >= target - slack : q <= target + slack;
}

/**
 * The cost at which a curve first reaches `target`, reading between eval points with
 * linear interpolation in log(cost). Before the first eval point there is nothing to
 * read, so a curve already there at its first point reaches it at that point's cost.
 * Points with cost ≤ 0 have no logarithm and are skipped. Null when never reached.
 */
export function costToReach(curve: Curve, target: number, higherIsBetter: boolean): number | null {
  const pts = curve.filter((p) => p.x > 0 && Number.isFinite(p.x) && Number.isFinite(p.quality));
  for (let i = 0; i < pts.length; i++) {
    const b = pts[i] as { x: number; quality: number };
    if (!reaches(b.quality, target, higherIsBetter)) continue;
    const a = pts[i - 1];
    if (!a || b.quality === a.quality) return b.x;
    const t = Math.min(1, Math.max(0, (target - a.quality) / (b.quality - a.quality)));
    if (t === 1) return b.x; // exact, without a round trip through logarithms
    return Math.exp(Math.log(a.x) + t * (Math.log(b.x) - Math.log(a.x)));
  }
  return null;
}

/**
 * The seed-averaged curve: every curve read (log-linearly) at the union of their eval
 * costs, from the latest first point on, each holding its final value after its own end
 * (runs stop a step past the budget, so their ends differ slightly). Its last value is
 * therefore the mean of the final qualities.
 */
export function meanCurve(curves: readonly Curve[]): Curve {
  const clean = curves
    .map((c) => c.filter((p) => p.x > 0 && Number.isFinite(p.x) && Number.isFinite(p.quality)))
    .filter((c) => c.length > 0);
  if (clean.length === 0) return [];
  const start = Math.max(...clean.map((c) => (c[0] as { x: number }).x));
  const xs = [...new Set(clean.flatMap((c) => c.map((p) => p.x)))].filter((x) => x >= start).sort((a, b) => a - b);
  const sums = new Float64Array(xs.length);
  // xs ascend, so each curve is walked once with a moving segment index
  for (const c of clean) {
    let seg = 1;
    const last = c[c.length - 1] as { x: number; quality: number };
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k] as number;
      if (x >= last.x || c.length === 1) {
        sums[k] = (sums[k] as number) + last.quality;
        continue;
      }
      while (seg < c.length - 1 && (c[seg] as { x: number }).x < x) seg++;
      const a = c[seg - 1] as { x: number; quality: number };
      const b = c[seg] as { x: number; quality: number };
      const t = b.x === a.x ? 1 : (Math.log(x) - Math.log(a.x)) / (Math.log(b.x) - Math.log(a.x));
      sums[k] = (sums[k] as number) + a.quality + t * (b.quality - a.quality);
    }
  }
  return xs.map((x, k) => ({ x, quality: (sums[k] as number) / clean.length }));
}

export interface MultiplierResult {
  value: Interval | null;
  note: string | null;
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/** Dense's side of the multiplier on one slice and cost axis, computed once for every row. */
export type DenseReference = { ok: true; target: number; cost: number; runs: number } | { ok: false; note: string };

/**
 *   target    = mean final quality over the dense runs
 *   cost      = cost at which the seed-averaged dense curve first reaches target
 */
export function denseReference(
  dense: readonly { curve: Curve; final: number }[],
  higherIsBetter: boolean,
  axisName = 'FLOPs',
): DenseReference {
  if (dense.length === 0) return { ok: false, note: 'no completed dense runs on this task, tier and hardware class' };
  const target = dense.reduce((s, d) => s + d.final, 0) / dense.length;
  const cost = costToReach(meanCurve(dense.map((d) => d.curve)), target, higherIsBetter);
  if (cost === null || !(cost > 0)) {
    return { ok: false, note: `dense's averaged curve has no ${axisName} reading at its final quality` };
  }
  return { ok: true, target, cost, runs: dense.length };
}

/**
 * The compute multiplier of an architecture against dense on one (task, tier, hardware
 * class), on one cost axis: per run, dense's cost (see denseReference) ÷ the cost at
 * which that run's own curve first reaches dense's final quality; the interval is over
 * runs (seeds). Null with a note when there are no dense runs, or when any run never
 * reached the target within its budget (a mean over only the runs that did would
 * flatter the architecture). The dense architecture itself is the baseline, 1 by
 * definition.
 */
export function multiplierAgainst(
  ref: DenseReference,
  runs: readonly Curve[],
  higherIsBetter: boolean,
  isBaseline = false,
): MultiplierResult {
  if (!ref.ok) return { value: null, note: ref.note };
  if (runs.length === 0) return { value: null, note: 'no completed runs' };
  if (isBaseline) return { value: { mean: 1, lo: 1, hi: 1, n: runs.length }, note: null };
  const costs = runs.map((c) => costToReach(c, ref.target, higherIsBetter));
  const reached = costs.filter((c): c is number => c !== null && c > 0);
  if (reached.length < costs.length) {
    const missed = costs.length - reached.length;
    return {
      value: null,
      note:
        reached.length === 0
          ? `never reached dense's final quality (${fmt(ref.target)}) within budget: multiplier < 1`
          : `${missed} of ${costs.length} seeds never reached dense's final quality (${fmt(ref.target)}) within budget`,
    };
  }
  return { value: meanInterval(reached.map((c) => ref.cost / c)), note: null };
}

/** denseReference and multiplierAgainst in one call. */
export function computeMultiplier(args: {
  dense: readonly { curve: Curve; final: number }[];
  runs: readonly Curve[];
  higherIsBetter: boolean;
  isBaseline?: boolean;
  axisName?: string;
}): MultiplierResult {
  const ref = denseReference(args.dense, args.higherIsBetter, args.axisName);
  return multiplierAgainst(ref, args.runs, args.higherIsBetter, args.isBaseline ?? false);
}
