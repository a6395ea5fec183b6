/**
 * The compare page's emphasis: which of two architectures is better on a figure, only where
 * the difference is significant (harness/stats/tests.ts). Pure.
 */
import { bySeed } from '../../harness/findings/analysis.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { pairedT, welchT } from '../../harness/stats/tests.ts';

/** Significance level for emphasis: a "better" figure is bold only when its test says so. */
const ALPHA = 0.05;

export interface Verdict {
  side: 'a' | 'b' | null;
  /** the two-sided p-value, null when there were too few runs to test */
  p: number | null;
  test: string;
}

/**
 * Which side is better on a figure, and only where the difference is significant: the
 * paired t-test on the seeds both ran (harness/stats/tests.ts), else Welch's test on all
 * runs; fewer than two runs a side, or p ≥ 0.05: neither is bold.
 */
export function significance(
  a: readonly RunRecord[],
  b: readonly RunRecord[],
  pick: (r: RunRecord) => number | null,
  higher: boolean,
): Verdict {
  const ok = (r: RunRecord) => {
    const v = pick(r);
    return v !== null && Number.isFinite(v);
  };
  const xa = a.filter(ok);
  const xb = b.filter(ok);
  const pairs = bySeed(xa, xb);
  let d: { effect: number; p: number | null } | null = null;
  let test = '';
  if (pairs.length >= 2) {
    d = pairedT(
      pairs.map(([x]) => pick(x) as number),
      pairs.map(([, y]) => pick(y) as number),
    );
    test = `paired t-test on ${pairs.length} shared seeds`;
  } else if (xa.length >= 2 && xb.length >= 2) {
    d = welchT(
      xa.map((r) => pick(r) as number),
      xb.map((r) => pick(r) as number),
    );
    test = `Welch t-test, ${xa.length} and ${xb.length} runs`;
  }
  if (!d || d.p === null) return { side: null, p: null, test: 'too few runs to test' };
  const side = d.p < ALPHA && d.effect !== 0 ? (d.effect > 0 === higher ? 'a' : 'b') : null;
  return { side, p: d.p, test };
}
