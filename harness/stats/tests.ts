/**
 * The tests behind the verdicts: paired and unpaired (Welch) t-tests on differences, two
 * one-sided tests (TOST) for equivalence within a margin stated in advance, and Holm's
 * step-down correction across a family of verdicts. Pure arithmetic on numbers.
 */
import { mean, sampleVariance } from 'simple-statistics';
import { tCdf, tQuantile, tTwoSidedP } from '../math/distributions.ts';

/** An effect (a − b, or a mean log ratio) with its two-sided interval and p-value. */
export interface Difference {
  /** the estimated effect */
  effect: number;
  /** the interval's ends; null with fewer than 2 values on a side (no spread to estimate) */
  lo: number | null;
  hi: number | null;
  /** the standard error; null as lo and hi are */
  se: number | null;
  df: number | null;
  /** two-sided p-value of "no effect"; null as lo and hi are */
  p: number | null;
  /** pairs (paired) or the smaller group (Welch) */
  n: number;
}

export const CONFIDENCE = 0.95;

function finite(xs: readonly number[]): number[] {
  const bad = xs.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`a test needs finite values, got ${bad}`);
  return [...xs];
}

/** A t statistic's test; a zero standard error is certain: p = 0 for an effect, 1 for none. */
function fromStatistic(effect: number, se: number, df: number, n: number, confidence: number): Difference {
  const q = tQuantile(1 - (1 - confidence) / 2, df);
  const p = se > 0 ? tTwoSidedP(effect / se, df) : effect === 0 ? 1 : 0;
  return { effect, lo: effect - q * se, hi: effect + q * se, se, df, p, n };
}

/** The one-sample t-test of mean(d) = 0: the paired test when d are per-seed differences. */
export function oneSampleT(d: readonly number[], confidence = CONFIDENCE): Difference {
  const v = finite(d);
  if (v.length === 0) throw new RangeError('a paired test needs at least one pair');
  const effect = mean(v);
  if (v.length < 2) return { effect, lo: null, hi: null, se: null, df: null, p: null, n: v.length };
  return fromStatistic(effect, Math.sqrt(sampleVariance(v) / v.length), v.length - 1, v.length, confidence);
}

/** A geometric mean with its t-interval, from the logarithms of positive figures (costs, ratios): never below 0. */
export function logScaleMean(
  logs: readonly number[],
  confidence = CONFIDENCE,
): { value: number; lo: number | null; hi: number | null; logs: Difference } {
  const t = oneSampleT(logs, confidence);
  return { value: Math.exp(t.effect), lo: t.lo === null ? null : Math.exp(t.lo), hi: t.hi === null ? null : Math.exp(t.hi), logs: t };
}

/** Paired t-test of a − b, pair by pair (same seed on both sides, so the pair shares its noise). */
export function pairedT(a: readonly number[], b: readonly number[], confidence = CONFIDENCE): Difference {
  if (a.length !== b.length) throw new RangeError(`paired values must come in pairs: ${a.length} against ${b.length}`);
  return oneSampleT(
    a.map((x, i) => x - (b[i] as number)),
    confidence,
  );
}

/** Welch's unpaired t-test of a − b, for runs that share no seed. */
export function welchT(a: readonly number[], b: readonly number[], confidence = CONFIDENCE): Difference {
  const x = finite(a);
  const y = finite(b);
  if (x.length === 0 || y.length === 0) throw new RangeError('an unpaired test needs values on both sides');
  const effect = mean(x) - mean(y);
  const n = Math.min(x.length, y.length);
  if (n < 2) return { effect, lo: null, hi: null, se: null, df: null, p: null, n };
  const vx = sampleVariance(x) / x.length;
  const vy = sampleVariance(y) / y.length;
  const se = Math.sqrt(vx + vy);
  // Welch–Satterthwaite; with no spread on either side any df serves
  const df = se > 0 ? (vx + vy) ** 2 / (vx ** 2 / (x.length - 1) + vy ** 2 / (y.length - 1)) : x.length + y.length - 2;
  return fromStatistic(effect, se, df, n, confidence);
}

/** Two one-sided tests of |effect| < margin, from a paired or unpaired difference. */
export interface Equivalence {
  margin: number;
  /** max of the two one-sided p-values: equivalence shown at level α when p < α */
  p: number | null;
  /** the (1 − 2α) interval, the one TOST reads: equivalence iff it lies inside ±margin */
  lo: number | null;
  hi: number | null;
}

export function tost(d: Difference, margin: number, alpha = 1 - CONFIDENCE): Equivalence {
  if (!(margin > 0)) throw new RangeError(`an equivalence margin must be positive, got ${margin}`);
  if (d.se === null || d.df === null) return { margin, p: null, lo: null, hi: null };
  const { effect, se, df } = d;
  const q = tQuantile(1 - alpha, df);
  if (se === 0) {
    const inside = Math.abs(effect) < margin;
    return { margin, p: inside ? 0 : 1, lo: effect, hi: effect };
  }
  const pLower = 1 - tCdf((effect + margin) / se, df); // H0: effect ≤ −margin
  const pUpper = tCdf((effect - margin) / se, df); // H0: effect ≥ +margin
  return { margin, p: Math.max(pLower, pUpper), lo: effect - q * se, hi: effect + q * se };
}

/**
 * Holm–Bonferroni adjusted p-values, in the input's order: the k-th smallest p is scaled by
 * (m − k + 1), then made non-decreasing and capped at 1. Rejecting where adjusted p < α
 * keeps the family-wise error at α. Nulls (tests that could not run) stay null and do not
 * count toward m.
 */
export function holm(ps: readonly (number | null)[]): (number | null)[] {
  const tested = ps.flatMap((p, i) => (p === null ? [] : [{ p, i }])).sort((a, b) => a.p - b.p);
  const m = tested.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  tested.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}
