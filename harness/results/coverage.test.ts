/**
 * The committed suites are complete: every published cell (task × tier × architecture with
 * any record) has a record for each of the seeds its suite ran — the tier's seeds at this
 * harness version, the seeds most of its cells have in an older suite (0.1.0 ran three) — so
 * no table or fit quietly rests on fewer seeds than it says.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TASK_INFOS } from '../tiers.ts';
import { HARNESS_VERSION } from '../version.ts';
import { readValidRecords } from './files.ts';
import type { RunRecord } from './record.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

function missingSeeds(records: readonly RunRecord[]): string[] {
  const cells = new Map<string, Set<number>>();
  for (const r of records) {
    if (r.task.variantSeed !== null || r.task.tier === 'smoke') continue;
    const k = `${r.task.id} · ${r.task.tier} · ${r.harnessVersion} · ${r.architecture.name}`;
    cells.set(k, (cells.get(k) ?? new Set()).add(r.task.seed));
  }
  // an older suite's seed count: the one most of its cells have
  const modal = new Map<string, number>();
  const tally = new Map<string, Map<number, number>>();
  for (const [k, seeds] of cells) {
    const suite = k.split(' · ').slice(1, 3).join(' · ');
    const t = tally.get(suite) ?? new Map<number, number>();
    t.set(seeds.size, (t.get(seeds.size) ?? 0) + 1);
    tally.set(suite, t);
  }
  for (const [suite, t] of tally) modal.set(suite, [...t.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0);
  return [...cells.entries()].flatMap(([k, seeds]) => {
    const [task, tier, version] = k.split(' · ');
    const info = TASK_INFOS.find((t) => t.spec.id === task);
    const want =
      version === HARNESS_VERSION ? (info?.tiers[tier as RunRecord['task']['tier']]?.seeds ?? 0) : (modal.get(`${tier} · ${version}`) ?? 0);
    const lacking = Array.from({ length: want }, (_, s) => s).filter((s) => !seeds.has(s));
    return lacking.length ? [`${k}: no record for seed(s) ${lacking.join(', ')}`] : [];
  });
}

const parsed = (dir: string) => readValidRecords(resolve(ROOT, dir));

describe('committed records cover their cells', () => {
  it('results/runs: every published cell has all its seeds', () => {
    expect(missingSeeds(parsed('results/runs'))).toEqual([]);
  });

  it('the missing-seed check finds a gap', () => {
    const cpu = parsed('results/runs').filter((r) => r.task.tier === 'cpu' && r.task.id === 'mnist');
    expect(cpu.length).toBeGreaterThan(0);
    const withoutSeed1 = cpu.filter((r) => !(r.architecture.name === 'hash' && r.task.seed === 1));
    expect(missingSeeds(withoutSeed1)).toEqual([`mnist · cpu · ${cpu[0]?.harnessVersion} · hash: no record for seed(s) 1`]);
  });
});
