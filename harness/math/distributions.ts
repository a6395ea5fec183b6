/**
 * Student's t distribution (and Fisher's F, for nested fits), from jStat (one package, no dependencies; simple-statistics has
 * the t statistic but not its distribution, and @stdlib's t packages pulled in 146 others).
 * Every interval and p-value in the harness reads its quantiles and tail probabilities here.
 */
import jstat from 'jstat';

const { studentt, centralF, noncentralt, normal } = jstat.jStat;

function checkDf(df: number): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`degrees of freedom must be a positive number, got ${df}`);
}

/** P(T ≤ x) for Student's t with df degrees of freedom. */
export function tCdf(x: number, df: number): number {
  checkDf(df);
  return studentt.cdf(x, df);
}

/** The p-quantile of Student's t with df degrees of freedom (p in (0, 1)). */
export function tQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`a quantile's probability must lie in (0, 1), got ${p}`);
  return studentt.inv(p, df);
}

/** Two-sided p-value of a t statistic: P(|T| ≥ |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t)) return Number.NaN;
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

/** P(F ≤ x) for Fisher's F with (df1, df2) degrees of freedom. */
export function fCdf(x: number, df1: number, df2: number): number {
  checkDf(df1);
  checkDf(df2);
  if (!(x > 0)) return 0;
  return centralF.cdf(x, df1, df2);
}

/** The p-quantile of the standard normal. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a quantile's probability must lie in (0, 1), got ${p}`);
  return normal.inv(p, 0, 1);
}

/**
 * The one-sided normal tolerance factor k: with n draws, mean + k·SD bounds at least
 * `coverage` of the population with probability `confidence`. Exact, from the noncentral t:
 * k = t'(confidence; n − 1, z(coverage)·√n) / √n, the quantile found by bisection on its CDF
 * (Natrella's approximation for very large n, where jStat's CDF fails).
 */
export function toleranceFactor(n: number, coverage: number, confidence: number): number {
  if (!(n >= 2) || !Number.isInteger(n)) throw new RangeError(`a tolerance bound needs at least 2 draws, got ${n}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie in (0, 1), got ${confidence}`);
  const delta = normalQuantile(coverage) * Math.sqrt(n);
  if (delta > 25) {
    // jStat's noncentral t CDF breaks down past a noncentrality of about 28 (n ≈ 150 at 99% coverage);
    // there Natrella's approximation is within 0.2% of the exact factor (0.14% at n = 100)
    const zp = normalQuantile(coverage);
    const zg = normalQuantile(confidence);
    const a = 1 - (zg * zg) / (2 * (n - 1));
    const b = zp * zp - (zg * zg) / n;
    return (zp + Math.sqrt(zp * zp - a * b)) / a;
  }
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (noncentralt.cdf(mid, n - 1, delta) < confidence) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2 / Math.sqrt(n);
}
