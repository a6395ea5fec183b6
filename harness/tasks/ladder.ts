/**
 * The scaling study's budget ladder: the cpu tier's model at ⅛, ¼ and ½ of its FLOP budget,
 * each rung its own tier so its runs, keys and boards stay apart from the cpu tier's. A rung
 * trains with its own full learning-rate schedule (warm-up and cosine over its own budget),
 * never a truncated longer run. Model size, batch and learning rate are the cpu tier's: the
 * ladder varies training compute alone, and the rates tuned at the full budget serve every
 * rung (results/tuning/cpu.json).
 */
import type { TierName } from './tiers.ts';
import type { TierSettings } from './types.ts';

export type LadderRung = Extract<TierName, 'cpu-eighth' | 'cpu-quarter' | 'cpu-half'>;

/** Each rung and its share of the cpu tier's budget, smallest first. */
export const LADDER_RUNGS: readonly { tier: LadderRung; share: number }[] = [
  { tier: 'cpu-eighth', share: 1 / 8 },
  { tier: 'cpu-quarter', share: 1 / 4 },
  { tier: 'cpu-half', share: 1 / 2 },
];

/** The whole ladder, rungs then the cpu tier itself (share 1), smallest first. */
export const LADDER: readonly { tier: TierName; share: number }[] = [...LADDER_RUNGS, { tier: 'cpu', share: 1 }];

const RUNG_TARGET = {
  value: null,
  reason: 'a rung of the scaling study: compared at equal compute through the fitted ladder (README, Scaling), not by cost to a target',
} as const;

/** The rungs' settings, derived from the cpu tier's so the two never drift apart. */
export function ladderTiers(cpu: TierSettings): Record<LadderRung, TierSettings> {
  const rung = (share: number): TierSettings => ({ ...cpu, budgetFlops: cpu.budgetFlops * share, target: RUNG_TARGET });
  return Object.fromEntries(LADDER_RUNGS.map((r) => [r.tier, rung(r.share)])) as Record<LadderRung, TierSettings>;
}

/** The tier whose tuning a tier trains with: a rung uses the cpu tier's. */
export function tuningTierOf(tier: TierName): TierName {
  return LADDER_RUNGS.some((r) => r.tier === tier) ? 'cpu' : tier;
}
