/**
 * The power calculation the protocol's seed counts come from, read from the exploratory
 * records: per task, the spread of per-seed log multipliers (executed FLOPs to the target
 * in force, each architecture against the reference on the same seed), pooled over the
 * architectures as a root mean square, and what that spread lets n seed pairs detect.
 *
 *   node bin/run-ts.js harness/protocol/power-table.ts [--records results/runs]
 *
 * Seeds whose pair is censored (a side short of the target, or only bounded) carry no
 * log ratio and are left out of the spread; the table counts them.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleVariance } from 'simple-statistics';
import { bySeed, costsOf } from '../findings/analysis.ts';
import { readValidRecords } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { targetInForce } from '../stats/cost-to-target.ts';
import { minimumDetectableMultiplier, type PowerSettings, pairsFor } from '../stats/power.ts';

export interface TaskSpread {
  task: string;
  /** root mean square over architectures of the per-seed log multipliers' SD */
  sd: number | null;
  /** architectures that contributed, with their SD and exact pairs */
  archs: { name: string; sd: number; pairs: number; censored: number }[];
}

/** The spread of log multipliers against `reference` on one task and tier. */
export function spreadOf(
  records: readonly RunRecord[],
  task: string,
  tier: 'cpu',
  reference: string,
  seeds: (s: number) => boolean,
): TaskSpread {
  const target = targetInForce(task, tier);
  const mine = records.filter((r) => r.task.id === task && r.task.tier === tier && r.status === 'completed' && seeds(r.task.seed));
  const ref = mine.filter((r) => r.architecture.name === reference);
  const names = [...new Set(mine.map((r) => r.architecture.name))].filter((n) => n !== reference && n !== 'dense').sort();
  const archs: TaskSpread['archs'] = [];
  if (target.value === null) return { task, sd: null, archs };
  for (const name of names) {
    const pairs = bySeed(
      ref,
      mine.filter((r) => r.architecture.name === name),
    );
    const logs = pairs.flatMap(([a, b]) => {
      const ca = costsOf(a, target.value).executedFlops;
      const cb = costsOf(b, target.value).executedFlops;
      return ca.status === 'reached' && cb.status === 'reached' && ca.cost > 0 && cb.cost > 0 ? [Math.log(ca.cost / cb.cost)] : [];
    });
    if (logs.length >= 2)
      archs.push({ name, sd: Math.sqrt(sampleVariance(logs)), pairs: logs.length, censored: pairs.length - logs.length });
  }
  const sd = archs.length ? Math.sqrt(archs.reduce((s, a) => s + a.sd ** 2, 0) / archs.length) : null;
  return { task, sd, archs };
}

export function powerLines(spreads: readonly TaskSpread[], target: number, s: PowerSettings, ns: readonly number[]): string[] {
  return spreads.map((t) => {
    if (t.sd === null) return `${t.task}: no spread (no target, or fewer than 2 exact pairs)`;
    const mdes = ns.map((n) => `n=${n}: ${minimumDetectableMultiplier(t.sd as number, n, s)?.toFixed(2)}×`).join(', ');
    const need = pairsFor(t.sd, target, s);
    const per = t.archs.map((a) => `${a.name} ${a.sd.toFixed(3)} (${a.pairs} pairs, ${a.censored} censored)`).join('; ');
    return `${t.task}: sd of log multiplier ${t.sd.toFixed(3)}; MDE ${mdes}; pairs for ${target}×: ${need ?? '> 1000'}\n  ${per}`;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: 'results/runs' }, reference: { type: 'string', default: 'dense-block' } },
  });
  const records = readValidRecords(values.records as string);
  const tasks = [...new Set(records.map((r) => r.task.id))].sort();
  const spreads = tasks.map((t) => spreadOf(records, t, 'cpu', values.reference as string, (s) => s < 5));
  for (const line of powerLines(spreads, 1.25, { alpha: 0.05, power: 0.8 }, [5, 10, 20])) console.log(line);
}

const self = fileURLToPath(import.meta.url);
if (process.argv.slice(1, 3).some((a) => resolve(a) === self)) await main();
