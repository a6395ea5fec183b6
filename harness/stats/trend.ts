/**
 * A trend over a ladder of budgets, fitted so that the pairing is respected: the same seed
 * shares its initial weights across rungs, so its points are not independent. The slope is
 * fitted on the rung means of the per-seed log ratios (for a balanced ladder it equals the
 * mean of the seeds' own slopes), and its standard error is the larger of two: the seeds'
 * own slopes (seed as a random effect: the seeds are the replicates) and the rung means'
 * residuals about the line (curvature the seeds share). Equivalence (no trend) is a TOST
 * on that slope against a per-doubling margin fixed in advance.
 */
import { linearRegression, mean, sampleVariance } from 'simple-statistics';
import { tQuantile, tTwoSidedP } from '../math/distributions.ts';
import { type Difference, type Equivalence, tost } from './tests.ts';

/** One seed's log ratio at one rung; x is log₂ of the rung's compute. */
export interface LadderPoint {
  seed: number;
  x: number;
  y: number;
}

export interface RungMeanSlope {
  /** the slope of y on x (per doubling, in log units) with its interval and two-sided p */
  slope: Difference;
  /** where the standard error came from */
  seFrom: 'seed slopes' | 'rung residuals';
  rungs: number;
  seeds: number;
}

/** Rungs are the distinct x; points of one rung share its x exactly (a ladder's rung compute). */
export function rungMeanSlope(points: readonly LadderPoint[], confidence = 0.95): RungMeanSlope | null {
  const byX = new Map<number, number[]>();
  for (const p of points) byX.set(p.x, [...(byX.get(p.x) ?? []), p.y]);
  const rungs = [...byX.entries()].sort(([a], [b]) => a - b).map(([x, ys]) => [x, mean(ys)] as [number, number]);
  if (rungs.length < 2) return null;
  const { m, b } = linearRegression(rungs);
  const xs = rungs.map(([x]) => x);
  const mx = mean(xs);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  // each seed's own slope (over the rungs it has)
  const bySeed = new Map<number, LadderPoint[]>();
  for (const p of points) bySeed.set(p.seed, [...(bySeed.get(p.seed) ?? []), p]);
  const slopes = [...bySeed.values()].flatMap((ps) => {
    if (new Set(ps.map((p) => p.x)).size < 2) return [];
    return [linearRegression(ps.map((p) => [p.x, p.y])).m];
  });
  const candidates: { se: number; df: number; from: RungMeanSlope['seFrom'] }[] = [];
  if (slopes.length >= 2)
    candidates.push({ se: Math.sqrt(sampleVariance(slopes) / slopes.length), df: slopes.length - 1, from: 'seed slopes' });
  if (rungs.length >= 3) {
    const rss = rungs.reduce((s, [x, y]) => s + (y - (m * x + b)) ** 2, 0);
    candidates.push({ se: Math.sqrt(rss / (rungs.length - 2) / sxx), df: rungs.length - 2, from: 'rung residuals' });
  }
  const n = slopes.length;
  const pick = candidates.sort((p, q) => q.se - p.se)[0];
  if (!pick)
    return {
      slope: { effect: m, lo: null, hi: null, se: null, df: null, p: null, n },
      seFrom: 'seed slopes',
      rungs: rungs.length,
      seeds: n,
    };
  const q = tQuantile(1 - (1 - confidence) / 2, pick.df);
  const p = pick.se > 0 ? tTwoSidedP(m / pick.se, pick.df) : m === 0 ? 1 : 0;
  return {
    slope: { effect: m, lo: m - q * pick.se, hi: m + q * pick.se, se: pick.se, df: pick.df, p, n },
    seFrom: pick.from,
    rungs: rungs.length,
    seeds: n,
  };
}

/** TOST of "no trend": the per-doubling factor exp(slope) within [1/margin, margin]. */
export function noTrend(s: RungMeanSlope, perDoublingMargin: number): Equivalence {
  return tost(s.slope, Math.log(perDoublingMargin));
}

/** Orders of magnitude an interval may span before its figure is "not estimable". */
export const ESTIMABLE_SPAN = 100;

/** Why a ratio's interval says nothing: it spans more than two orders of magnitude (or has no end). */
export function notEstimable(lo: number | null, hi: number | null): string | null {
  if (lo === null || hi === null) return null;
  if (!(lo > 0) || !Number.isFinite(hi) || hi / lo > ESTIMABLE_SPAN) return 'not estimable (interval spans > 2 orders of magnitude)';
  return null;
}
