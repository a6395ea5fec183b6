/**
 * The tiers and every task's budget in each: the one place these constants live. Free of
 * tfjs, so the site's /methods page renders exactly what the harness runs with.
 */

import { charlmInfo } from './tasks/charlm.info.ts';
import { tuningTierOf } from './tasks/ladder.ts';
import { mnistInfo } from './tasks/mnist.info.ts';
import { parityInfo } from './tasks/parity.info.ts';
import { superpositionInfo } from './tasks/superposition.info.ts';
import { TIERS, type TierName } from './tasks/tiers.ts';
import type { TaskInfo } from './tasks/types.ts';

/** Every tier, smallest budget first. */
export const TIER_NAMES: readonly TierName[] = TIERS;
/**
 * The one tier every command (run, validate, submit, queue add) uses without --tier: smoke, so
 * that a first command finishes in minutes. The published comparisons are at --tier cpu.
 */
export const DEFAULT_TIER: TierName = 'smoke';
/** --tier's help, the same for every command */
export const TIER_HELP = `budget and size tier (default ${DEFAULT_TIER}: seconds per run, a check, not for comparisons; the leaderboard is cpu)`;

/** The tiers a learning rate is tuned on: a ladder rung trains with cpu's rates. */
export const TUNED_TIER_NAMES: readonly TierName[] = TIER_NAMES.filter((t) => tuningTierOf(t) === t);

export const TIER_PURPOSE: Record<TierName, string> = {
  smoke: 'seconds per run: checks that everything works end to end (CI and the README’s first command); not for comparisons',
  'cpu-eighth': 'the scaling ladder: the cpu tier’s model at ⅛ of its budget, with its own schedule',
  'cpu-quarter': 'the scaling ladder: the cpu tier’s model at ¼ of its budget, with its own schedule',
  'cpu-half': 'the scaling ladder: the cpu tier’s model at ½ of its budget, with its own schedule',
  cpu: 'about one to four minutes per run on a 2-core machine: the published CPU leaderboard',
  gpu: 'sized for one modern accelerator: the GPU leaderboard',
};

/** The standard tasks, in suite order, without their data. */
export const TASK_INFOS: readonly TaskInfo[] = [superpositionInfo, parityInfo, mnistInfo, charlmInfo];

/**
 * Memory limits for a tier: tensors may hold the largest allowed model 4 times over
 * (weights, gradients, Adam's two slots) plus 512 MB of activations, at least 1 GB; the
 * process may hold that plus 1.5 GB (Node, tfjs, the task data). The V8 heap holds no
 * tensor data, so 1 GB is ample.
 */
export function limitsFor(tier: TierName): { rssLimitMB: number; tensorLimitMB: number; heapMB: number } {
  const maxParams = Math.max(...TASK_INFOS.map((t) => t.tiers[tier].size.maxParams));
  const tensorLimitMB = Math.max(1024, Math.ceil((16 * maxParams) / 2 ** 20) + 512);
  return { tensorLimitMB, rssLimitMB: tensorLimitMB + 1536, heapMB: 1024 };
}
