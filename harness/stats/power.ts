/**
 * Power of the paired test on per-seed log ratios (the multipliers' test): the smallest
 * effect n seed pairs detect, and the seed pairs an effect needs. The usual t
 * approximation: an effect δ on the log scale is detected with probability `power` when
 * δ ≥ (t₁₋α/₂ + t_power) · sd / √n, both quantiles on n − 1 degrees of freedom. It is
 * what G*Power's "post hoc" shortcut prints, and close to the noncentral-t answer for n ≥ 4.
 */
import { tQuantile } from '../math/distributions.ts';

export interface PowerSettings {
  /** two-sided significance level of the test */
  alpha: number;
  /** probability of detecting an effect of the stated size */
  power: number;
}

export const DEFAULT_POWER: PowerSettings = { alpha: 0.05, power: 0.8 };

/** The smallest |mean log ratio| that n pairs with spread `sd` detect; null below 2 pairs. */
export function minimumDetectableLog(sd: number, n: number, s: PowerSettings = DEFAULT_POWER): number | null {
  if (!(n >= 2) || !Number.isFinite(sd) || sd < 0) return null;
  return ((tQuantile(1 - s.alpha / 2, n - 1) + tQuantile(s.power, n - 1)) * sd) / Math.sqrt(n);
}

/** The smallest detectable multiplier (≥ 1), exp of the log above. */
export function minimumDetectableMultiplier(sd: number, n: number, s: PowerSettings = DEFAULT_POWER): number | null {
  const d = minimumDetectableLog(sd, n, s);
  return d === null ? null : Math.exp(d);
}

/** The seed pairs needed to detect a multiplier `target` (> 1); null where even `max` pairs do not. */
export function pairsFor(sd: number, target: number, s: PowerSettings = DEFAULT_POWER, max = 1000): number | null {
  if (!(target > 1)) throw new RangeError(`a detectable multiplier must exceed 1, got ${target}`);
  const goal = Math.log(target);
  for (let n = 2; n <= max; n++) {
    const d = minimumDetectableLog(sd, n, s);
    if (d !== null && d <= goal) return n;
  }
  return null;
}

/**
 * The equivalence margin (a log ratio) a TOST on n pairs with this SD shows at the given power
 * when the true ratio is 1: (t(1 − α, n − 1) + t(1 − (1 − power)/2, n − 1))·sd/√n, both one-sided
 * tests at α (the TOST's own rule), the power split between the two bounds.
 */
export function equivalenceLogMargin(sd: number, n: number, s: PowerSettings = DEFAULT_POWER): number | null {
  if (!(n >= 2) || !Number.isFinite(sd) || sd < 0) return null;
  return ((tQuantile(1 - s.alpha, n - 1) + tQuantile(1 - (1 - s.power) / 2, n - 1)) * sd) / Math.sqrt(n);
}

/** The pairs a TOST needs to show equivalence within [1/margin, margin] at the given power; null past `max`. */
export function pairsForEquivalence(sd: number, margin: number, s: PowerSettings = DEFAULT_POWER, max = 1000): number | null {
  if (!(margin > 1)) throw new RangeError(`an equivalence margin must exceed 1, got ${margin}`);
  const goal = Math.log(margin);
  for (let n = 2; n <= max; n++) {
    const d = equivalenceLogMargin(sd, n, s);
    if (d !== null && d <= goal) return n;
  }
  return null;
}
