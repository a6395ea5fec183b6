/**
 * What a task's verdicts rest on besides its data: how its target was set, and the
 * sampling error of its held-out set. The test set is one draw shared by every seed, so
 * seed intervals leave its error out, and a difference smaller than about twice it is not
 * a finding whatever the seeds say.
 */

/**
 * Standard error of an accuracy p on groups of n_g examples weighted w_g (Σw = 1):
 * √(p(1 − p) · Σ w_g² / n_g), at the same accuracy p in every group. One group of n is
 * the binomial √(p(1 − p)/n).
 */
export function accuracyStandardError(p: number, groups: readonly { weight: number; size: number }[]): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`an accuracy lies in [0, 1], got ${p}`);
  const spread = groups.reduce((s, g) => s + (g.weight * g.weight) / g.size, 0);
  return Math.sqrt(p * (1 - p) * spread);
}

/** How a cpu-tier target was set (harness/stats/targets.ts has the rule; `npm run targets` recomputes it), from which dense seeds. */
export function cpuTargetBasis(seeds: string): string {
  return `dense’s cpu-tier seeds ${seeds}: ${TARGET_RULE}`;
}

/** The rule every target follows (harness/stats/targets.ts), in words. */
export const TARGET_RULE =
  'the worst quality any dense seed holds over the last three quarters of its budget, rounded to 3 significant digits in the easier direction, so every dense seed reaches it by a quarter of its training and stays there. The constants in force were set by this rule from the tuned cpu-tier regeneration at harness 0.2.0.';

/** What a tier without dense runs says instead of a target. */
export const NO_TARGET = { value: null, reason: 'no dense runs on this tier yet' } as const;
