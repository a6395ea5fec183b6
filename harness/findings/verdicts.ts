/**
 * Verdicts from 95% intervals over seeds. A direction counts as shown only when the
 * intervals separate the predicted way; overlap is inconclusive, and one seed has no
 * interval at all (its lo = hi = mean would make any difference look decisive).
 */
import type { Interval } from '../store/types.ts';

export type VerdictKind = 'as predicted' | 'not as predicted' | 'inconclusive' | 'not run' | 'not testable';

export interface Verdict {
  kind: VerdictKind;
  /** the words shown after the figures, e.g. "inconclusive at 3 seeds (intervals overlap)" */
  text: string;
}

export const asPredicted = (why?: string): Verdict => ({ kind: 'as predicted', text: why ? `as predicted (${why})` : 'as predicted' });
export const notAsPredicted = (why?: string): Verdict => ({
  kind: 'not as predicted',
  text: why ? `not as predicted (${why})` : 'not as predicted',
});
/** No completed run of the architecture on the task: nothing to compare. */
export const notRun: Verdict = { kind: 'not run', text: 'not run' };
export const notTestable = (why: string): Verdict => ({ kind: 'not testable', text: `not testable: ${why}` });

export function inconclusive(seeds: number): Verdict {
  return seeds < 2
    ? { kind: 'inconclusive', text: 'inconclusive at 1 seed (one seed gives no interval)' }
    : { kind: 'inconclusive', text: `inconclusive at ${seeds} seeds (intervals overlap)` };
}

/** A fixed reference value (1 for "no gain") as an interval that is certain. */
export function exactly(value: number): Interval {
  return { mean: value, lo: value, hi: value, n: Number.POSITIVE_INFINITY };
}

/** Where a's interval lies relative to b's: wholly above, wholly below, or overlapping. */
export type Separation = 'above' | 'below' | 'overlap';

export function separation(a: Interval, b: Interval): Separation {
  if (a.lo > b.hi) return 'above';
  if (a.hi < b.lo) return 'below';
  return 'overlap';
}

/** The fewest seeds behind either side; an exact reference does not lower it. */
export function seedsOf(a: Interval, b: Interval): number {
  return Math.min(a.n, b.n);
}

/**
 * Judge "a lies `expected` of b". With fewer than 2 seeds on either side there is no
 * interval, so the answer is inconclusive whatever the point values say.
 */
export function judge(a: Interval, b: Interval, expected: 'above' | 'below'): Verdict {
  const seeds = seedsOf(a, b);
  if (seeds < 2) return inconclusive(seeds);
  const s = separation(a, b);
  if (s === 'overlap') return inconclusive(seeds);
  return s === expected ? asPredicted() : notAsPredicted();
}

/**
 * Which of two quality intervals is better, respecting the metric's direction: 'better'
 * when a is clearly better than b, 'worse' when clearly worse, 'overlap' otherwise, and
 * 'one seed' when either side has no interval.
 */
export function compareQuality(a: Interval, b: Interval, higherIsBetter: boolean): 'better' | 'worse' | 'overlap' | 'one seed' {
  if (seedsOf(a, b) < 2) return 'one seed';
  const s = separation(a, b);
  if (s === 'overlap') return 'overlap';
  return (s === 'above') === higherIsBetter ? 'better' : 'worse';
}
