/**
 * Student's t distribution (and Fisher's F, for nested fits), from jStat (one package, no dependencies; simple-statistics has
 * the t statistic but not its distribution, and @stdlib's t packages pulled in 146 others).
 * Every interval and p-value in the harness reads its quantiles and tail probabilities here.
 */
import jstat from 'jstat';

const { studentt, centralF } = jstat.jStat;

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
