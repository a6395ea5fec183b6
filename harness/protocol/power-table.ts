/**
 * The power calculation the protocol's seed counts come from, read from the exploratory
 * records: per task, the spread of per-seed log multipliers (executed FLOPs to the target
 * in force, each architecture against the reference on the same seed), pooled over the
 * architectures as a root mean square, and what that spread lets n seed pairs detect.
 *
 *   node bin/run-ts.js harness/protocol/power-table.ts [--records results/runs]            (version 1's table)
 *   node bin/run-ts.js harness/protocol/power-table.ts --design v2                         (version 2's)
 *
 * --records may be given more than once. Version 2's design reads, by default, the exploratory
 * records and version 1's (moved to results/superseded/protocol-v1/runs when v2 was frozen), and
 * no record run under v2 itself, so the command its protocol file names prints the same table
 * after the freeze, and while v2's runs accumulate, as before it.
 *
 * Version 1 read the targets in force and the paired spreads of exploratory seeds 0-4. Version 2
 * reads each task's target by its own rule (the tolerance bound from ten reference seeds: the
 * exploratory 0-4 and v1's target-setting 1000-1004), every seed pair the records hold (the
 * exploratory seeds and v1's comparison seeds), and the placebo's own spread: the log ratio
 * between two different seeds of the reference, √2 × the SD of its log costs over the seeds
 * that set no target (over all of them where fewer than 3 others are recorded).
 *
 * Seeds whose pair is censored (a side short of the target, or only bounded) carry no
 * log ratio and are left out of the spread; the table counts them.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleVariance } from 'simple-statistics';
import { bySeed, costsOf } from '../findings/analysis.ts';
import { readValidRecords } from '../results/files.ts';
import { supersededDir } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { targetInForce } from '../stats/cost-to-target.ts';
import { equivalenceLogMargin, minimumDetectableMultiplier, type PowerSettings, pairsFor, pairsForEquivalence } from '../stats/power.ts';
import { suggestToleranceTarget } from '../stats/targets.ts';

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
  target: { value: number } | { value: null } = targetInForce(task, tier),
): TaskSpread {
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

/** Version 2's design inputs for one task: its tolerance target, the paired spread, and the placebo's own. */
export interface DesignRow {
  task: string;
  target: number | null;
  /** reference seeds outside the target-setting ones (all, where fewer than 3 others) that reach the target, of those read */
  reached: [number, number];
  /** the budget share at which the median such seed reaches it */
  medianShare: number | null;
  paired: TaskSpread;
  /** SD of the log ratio of two different reference seeds' costs: √2 × the SD of their log costs */
  placeboSd: number | null;
}

export function designRow(
  records: readonly RunRecord[],
  task: string,
  reference: string,
  setting: readonly number[],
  rule: { holdFrom: number; coverage: number; confidence: number },
): DesignRow {
  const mine = records.filter((r) => r.task.id === task && r.task.tier === 'cpu' && r.status === 'completed');
  const ref = mine.filter((r) => r.architecture.name === reference);
  const t = suggestToleranceTarget(
    ref.filter((r) => setting.includes(r.task.seed)),
    rule.holdFrom,
    rule.coverage,
    rule.confidence,
  );
  const empty = { task, target: null, reached: [0, 0] as [number, number], medianShare: null, placeboSd: null };
  if (!t) return { ...empty, paired: { task, sd: null, archs: [] } };
  // every reference seed: where only the target-setting ones are recorded (mnist, parity: seeds 0-4)
  // they are the only estimate of the spread there is, slightly narrow since they set the target
  const others = ref.filter((r) => !setting.includes(r.task.seed));
  const rest = others.length >= 3 ? others : ref;
  const readings = rest.map((r) => ({ c: costsOf(r, t.value).executedFlops, end: r.curve.at(-1)?.flops ?? 0 }));
  const logs = readings.flatMap(({ c }) => (c.status === 'reached' && c.cost > 0 ? [Math.log(c.cost)] : []));
  const shares = readings.flatMap(({ c, end }) => (c.status === 'reached' && end > 0 ? [c.cost / end] : [])).sort((a, b) => a - b);
  return {
    task,
    target: t.value,
    reached: [logs.length, rest.length],
    medianShare: shares.length ? (shares[Math.floor(shares.length / 2)] as number) : null,
    paired: spreadOf(records, task, 'cpu', reference, () => true, { value: t.value }),
    placeboSd: logs.length >= 3 ? Math.SQRT2 * Math.sqrt(sampleVariance(logs)) : null,
  };
}

export function designLines(rows: readonly DesignRow[], target: number, s: PowerSettings, ns: readonly number[]): string[] {
  return rows.flatMap((r) => {
    if (r.target === null) return [`${r.task}: no tolerance target (too few reference seeds)`];
    const sd = r.paired.sd;
    const mde = ns.map((n) => `n=${n}: ${sd === null ? '—' : minimumDetectableMultiplier(sd, n, s)?.toFixed(2)}×`).join(', ');
    const eq = ns
      .map((n) => {
        const m = r.placeboSd === null ? null : equivalenceLogMargin(r.placeboSd, n, s);
        return `n=${n}: ${m === null ? '—' : Math.exp(m).toFixed(2)}×`;
      })
      .join(', ');
    return [
      `${r.task}: target ${r.target}; reference seeds reaching it ${r.reached[0]} of ${r.reached[1]}, the median at ${r.medianShare === null ? '—' : `${(100 * r.medianShare).toFixed(0)}%`} of the budget`,
      `  paired: rms sd ${sd === null ? '—' : sd.toFixed(3)}; MDE ${mde}; pairs for ${target}×: ${sd === null ? '—' : (pairsFor(sd, target, s) ?? '> 1000')}`,
      `    ${r.paired.archs.map((a) => `${a.name} ${a.sd.toFixed(3)} (${a.pairs} pairs, ${a.censored} censored)`).join('; ')}`,
      `  placebo: sd ${r.placeboSd === null ? '—' : r.placeboSd.toFixed(3)}; margin shown at 80% power ${eq}; pairs for ${target}×: ${r.placeboSd === null ? '—' : (pairsForEquivalence(r.placeboSd, target, s) ?? '> 1000')}`,
    ];
  });
}

/** Where version 1's records went when version 2 was frozen. */
const V1_RECORDS = join(supersededDir(1), 'runs');

/** Version 2's target-setting seeds for the design: ten reference seeds no comparison used as targets. */
export const V2_DESIGN_SETTING = [0, 1, 2, 3, 4, 1000, 1001, 1002, 1003, 1004];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', multiple: true },
      reference: { type: 'string', default: 'dense-block' },
      design: { type: 'string', default: 'v1' },
    },
  });
  const dirs = values.records ?? (values.design === 'v2' ? ['results/runs', V1_RECORDS] : ['results/runs']);
  // version 2's design read what was recorded before it: its own runs, which land beside the exploratory ones, never enter it
  const before = (r: RunRecord) => values.design !== 'v2' || (r.protocol?.version ?? 0) < 2;
  const records = dirs.flatMap((d) => readValidRecords(d)).filter(before);
  const tasks = [...new Set(records.map((r) => r.task.id))].sort();
  if (values.design === 'v2') {
    const rule = { holdFrom: 0.25, coverage: 0.99, confidence: 0.95 };
    const rows = tasks.map((t) => designRow(records, t, values.reference as string, V2_DESIGN_SETTING, rule));
    console.log(
      `protocol v2 design: tolerance target (${rule.coverage * 100}% of seeds, ${rule.confidence * 100}% confidence, held from ${rule.holdFrom * 100}%) from ${values.reference} seeds ${V2_DESIGN_SETTING.join(' ')}; every seed pair recorded`,
    );
    for (const line of designLines(rows, 1.25, { alpha: 0.05, power: 0.8 }, [5, 10, 20, 30])) console.log(line);
    return;
  }
  if (values.design !== 'v1') throw new Error(`--design takes v1 or v2, got ${values.design}`);
  const spreads = tasks.map((t) => spreadOf(records, t, 'cpu', values.reference as string, (s) => s < 5));
  for (const line of powerLines(spreads, 1.25, { alpha: 0.05, power: 0.8 }, [5, 10, 20])) console.log(line);
}

const self = fileURLToPath(import.meta.url);
if (process.argv.slice(1, 3).some((a) => resolve(a) === self)) await main();
