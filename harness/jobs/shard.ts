/**
 * Static slices of a suite for array jobs (SLURM --array, Kubernetes Indexed Jobs):
 * `--shard i/N` takes slice i of N. Every shard computes the same partition from the same
 * plan, so the N slices cover the suite exactly once, and each holds about 1/N of the
 * expected run time (longest-processing-time-first greedy), not 1/N of the runs.
 */
import { InvalidArgumentError } from 'commander';

export interface Shard {
  /** 1-based, as SLURM_ARRAY_TASK_ID usually is */
  index: number;
  count: number;
}

/** Commander parser for `--shard i/N` (1 ≤ i ≤ N). */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InvalidArgumentError(`expected i/N with 1 ≤ i ≤ N (e.g. 3/16), got '${value}'`);
  }
  return { index, count };
}

/**
 * The items of shard `index` of `count`. Items are placed heaviest first on the lightest
 * shard so far; ties are broken by `id`, so the partition depends only on the items
 * (never on their order, the clock or what is already recorded).
 */
export function shardOf<T>(items: readonly T[], shard: Shard, weight: (item: T) => number, id: (item: T) => string): T[] {
  const order = [...items].sort((a, b) => weight(b) - weight(a) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  const loads = new Array<number>(shard.count).fill(0);
  const mine = new Set<T>();
  for (const item of order) {
    let lightest = 0;
    for (let s = 1; s < shard.count; s++) if ((loads[s] as number) < (loads[lightest] as number)) lightest = s;
    loads[lightest] = (loads[lightest] as number) + weight(item);
    if (lightest === shard.index - 1) mine.add(item);
  }
  // suite order within the shard, as a one-process run would go
  return items.filter((item) => mine.has(item));
}
