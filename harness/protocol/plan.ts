/**
 * The confirmatory set a protocol asks for, as groups of runs, and how much of it is
 * recorded. Per task: the reference on the target-setting seeds, every baseline on the
 * comparison seeds, and the reference again on the placebo seeds. Pure: records in,
 * groups out; `middlepath protocol run` hands what each group lacks to `middlepath run`, so
 * the set is resumable in any order and across machines (--shard).
 */

import { type Protocol, protocolHash, seedsOf } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';

export type Role = 'target-setting' | 'comparison' | 'placebo';

export interface PlannedGroup {
  task: string;
  role: Role;
  /** the architectures of the group; every baseline for the comparison seeds */
  archs: string[];
  seeds: number[];
  /** settled records (completed or refused) of this protocol per architecture, in `archs` order */
  recorded: number[];
  /** per architecture, the seeds with no completed record of this protocol */
  missing: { arch: string; seeds: number[] }[];
}

export function planOf(
  p: Protocol,
  baselines: readonly string[],
  records: readonly RunRecord[],
  tasks?: readonly string[],
): PlannedGroup[] {
  const hash = protocolHash(p);
  const done = new Set(
    records
      // settled: completed, or refused by the architecture before training (no re-run changes that)
      .filter((r) => (r.status === 'completed' || r.status === 'refused') && r.protocol?.hash === hash && r.task.tier === p.tier)
      .map((r) => `${r.task.id}\u0000${r.architecture.name}\u0000${r.task.seed}`),
  );
  const ref = p.reference.architecture;
  const groups: PlannedGroup[] = [];
  for (const task of Object.keys(p.tasks)) {
    if (tasks?.length && !tasks.includes(task)) continue;
    const s = seedsOf(p, task);
    if (!s) continue;
    const roles: [Role, string[], number[]][] = [
      ['target-setting', [ref], s.targetSetting],
      ['comparison', [...baselines], s.comparison],
      ['placebo', [ref], s.placebo],
    ];
    for (const [role, archs, seeds] of roles) {
      const has = (a: string, seed: number) => done.has(`${task}\u0000${a}\u0000${seed}`);
      const missing = archs.map((arch) => ({ arch, seeds: seeds.filter((seed) => !has(arch, seed)) })).filter((m) => m.seeds.length > 0);
      groups.push({ task, role, archs, seeds, recorded: archs.map((a) => seeds.filter((seed) => has(a, seed)).length), missing });
    }
  }
  return groups;
}

/**
 * The `middlepath run` arguments that fill in what a group lacks, matched by name and seed,
 * not by run key, so a baseline whose source changed (a new key) does not re-run the seeds it
 * has. A one-architecture group is one command; the comparison group goes seed by seed, each
 * command every architecture that lacks that seed: the reference's run and the runs paired
 * with it are made together, on one machine under one load, so a set finished over several
 * sessions (and machine classes, whose seconds never compare) splits at most one seed's pairs.
 */
export function missingArgs(p: Protocol, g: PlannedGroup): string[][] {
  const base = ['run', '--tier', p.tier, '--task', g.task];
  if (g.archs.length === 1) return g.missing.map((m) => [...base, '--arch', m.arch, '--seed', ...m.seeds.map(String)]);
  return g.seeds.flatMap((seed) => {
    const archs = g.missing.filter((m) => m.seeds.includes(seed)).map((m) => m.arch);
    return archs.length ? [[...base, '--arch', ...archs, '--seed', String(seed)]] : [];
  });
}

/** The `middlepath run` arguments that produce a whole group (records go to results/runs/). */
export function runArgs(p: Protocol, g: PlannedGroup, baselines: readonly string[]): string[] {
  const all = g.archs.length === baselines.length && g.archs.every((a) => baselines.includes(a));
  return ['run', '--tier', p.tier, '--task', g.task, ...(all ? [] : ['--arch', ...g.archs]), '--seed', ...g.seeds.map(String)];
}

export function planLines(p: Protocol, groups: readonly PlannedGroup[], baselines: readonly string[]): string[] {
  const lines = [`protocol v${p.version} ${protocolHash(p).slice(0, 12)} · tier ${p.tier} · reference ${p.reference.architecture}`];
  let done = 0;
  let total = 0;
  for (const g of groups) {
    const n = g.archs.length * g.seeds.length;
    const k = g.recorded.reduce((a, b) => a + b, 0);
    done += k;
    total += n;
    lines.push(
      `${g.task.padEnd(14)} ${g.role.padEnd(15)} ${String(k).padStart(3)} / ${String(n).padEnd(3)}  npx middlepath ${runArgs(p, g, baselines).join(' ')}`,
    );
  }
  lines.push(`${done} of ${total} confirmatory runs recorded`);
  return lines;
}
