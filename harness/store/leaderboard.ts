/**
 * Leaderboard aggregation over the indexed columns of one (tier, hardware class) slice.
 * Pure: the store selects the runs, this turns them into one row per architecture.
 *
 * Which runs count, per architecture and task:
 * - only runs of the architecture's most recent source (a revised module is a new
 *   entry; older runs stay on its page but do not average with the new code);
 * - one run per key (task, tier, seed, source, harness version): the latest completed
 *   one, so a re-run does not count its seed twice;
 * - only completed runs enter means; keys with no completed run count as failedRuns, unless
 *   every run of the key was refused (the architecture declined the task: not a failure).
 */

import { PROVENANCE, type Provenance } from '../results/provenance.ts';
import type { RunStatus } from '../results/record.ts';
import {
  type Curve,
  type DenseReference,
  denseReference,
  geometricInterval,
  meanInterval,
  multiplierAgainst,
  paretoFrontier,
} from './stats.ts';
import type { Family, Interval, LeaderboardRow } from './types.ts';
import { COST_AXES, type CostAxis } from './types.ts';

/** The architecture every multiplier is measured against. */
export const BASELINE_ARCHITECTURE = 'dense';

export interface SliceRun {
  id: string;
  key: string;
  status: RunStatus;
  task: string;
  architecture: string;
  family: Family;
  description: string;
  sourceHash: string;
  higherIsBetter: boolean;
  quality: number | null;
  executedFlops: number;
  modelFlops: number;
  wallSeconds: number;
  energyJoules: number | null;
  energyNote: string | null;
  paramsTotal: number;
  paramsActive: number;
  nmi: number | null;
  effectiveExperts: number | null;
  activationSparsity: number | null;
  updateDensity: number | null;
  curve: { flops: number; seconds: number; joules: number | null; quality: number }[];
  startedAt: string;
  provenance: Provenance;
}

/** The provenances among some runs, in PROVENANCE order. */
const provenancesOf = (ps: Iterable<Provenance>): Provenance[] => {
  const present = new Set(ps);
  return PROVENANCE.filter((p) => present.has(p));
};

interface Counted {
  latest: SliceRun;
  completed: SliceRun[];
  failed: number;
}

function latestOf(runs: readonly SliceRun[]): SliceRun {
  // ties on start time broken by id, so the choice does not depend on row order
  return runs.reduce((a, b) => (b.startedAt > a.startedAt || (b.startedAt === a.startedAt && b.id > a.id) ? b : a));
}

function countRuns(runs: readonly SliceRun[]): Map<string, Counted> {
  const byArch = new Map<string, SliceRun[]>();
  for (const r of runs) byArch.set(r.architecture, [...(byArch.get(r.architecture) ?? []), r]);
  const out = new Map<string, Counted>();
  for (const [arch, all] of byArch) {
    const latest = latestOf(all);
    const current = all.filter((r) => r.sourceHash === latest.sourceHash);
    const byKey = new Map<string, SliceRun[]>();
    for (const r of current) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const completed: SliceRun[] = [];
    let failed = 0;
    for (const group of byKey.values()) {
      const done = group.filter((r) => r.status === 'completed' && r.quality !== null);
      if (done.length > 0) completed.push(latestOf(done));
      else if (!group.every((r) => r.status === 'refused')) failed++;
    }
    completed.sort((a, b) => (a.id < b.id ? -1 : 1));
    out.set(arch, { latest, completed, failed });
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function meanOrNull(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? mean(v) : null;
}

type Axis = 'flops' | 'seconds' | 'joules';
function curveOn(run: SliceRun, axis: Axis): Curve | null {
  const out: { x: number; quality: number }[] = [];
  for (const p of run.curve) {
    const x = p[axis];
    if (x === null) return null;
    out.push({ x, quality: p.quality });
  }
  return out;
}

function referenceOn(axis: Axis, base: readonly SliceRun[], higherIsBetter: boolean): DenseReference {
  const dense: { curve: Curve; final: number }[] = [];
  for (const d of base) {
    const c = curveOn(d, axis);
    if (c === null) return { ok: false, note: `dense's ${axis} not measured` };
    dense.push({ curve: c, final: d.quality as number });
  }
  return denseReference(dense, higherIsBetter, axis === 'flops' ? 'FLOPs' : axis);
}

function multiplierOn(axis: Axis, ref: DenseReference, runs: readonly SliceRun[], higherIsBetter: boolean, isBaseline: boolean) {
  const curves: Curve[] = [];
  for (const r of runs) {
    const c = curveOn(r, axis);
    if (c === null) return { value: null, note: `${axis} not measured` };
    curves.push(c);
  }
  return multiplierAgainst(ref, curves, higherIsBetter, isBaseline);
}

function markPareto(rows: LeaderboardRow[], qualityOf: (r: LeaderboardRow) => number | null, higherIsBetter: boolean): void {
  for (const axis of COST_AXES) {
    const pts = rows.map((r) => {
      const q = qualityOf(r);
      return { cost: q === null ? null : (r[axis]?.mean ?? null), quality: q ?? Number.NaN };
    });
    const on = paretoFrontier(pts, higherIsBetter);
    rows.forEach((r, i) => {
      r.paretoBy[axis] = on[i] ?? false;
    });
  }
  for (const r of rows) r.pareto = r.paretoBy.executedFlops;
}

function emptyPareto(): Record<CostAxis, boolean> {
  return { executedFlops: false, modelFlops: false, wallSeconds: false, energyJoules: false };
}

/** One task's leaderboard: a row per architecture with at least one completed run. */
export function aggregateTask(runs: readonly SliceRun[]): LeaderboardRow[] {
  if (runs.length === 0) return [];
  const task = runs[0]?.task as string;
  if (runs.some((r) => r.task !== task)) throw new Error('aggregateTask takes the runs of one task');
  const higherIsBetter = latestOf(runs).higherIsBetter;
  const counted = countRuns(runs);
  const base = counted.get(BASELINE_ARCHITECTURE)?.completed ?? [];
  // dense's side is the same for every row: compute it once per axis
  const refs = {
    flops: referenceOn('flops', base, higherIsBetter),
    seconds: referenceOn('seconds', base, higherIsBetter),
    joules: referenceOn('joules', base, higherIsBetter),
  };
  const rows: LeaderboardRow[] = [];
  for (const [arch, { latest, completed, failed }] of counted) {
    if (completed.length === 0) continue;
    const isBaseline = arch === BASELINE_ARCHITECTURE;
    const unmeasured = completed.filter((r) => r.energyJoules === null);
    const mFlops = multiplierOn('flops', refs.flops, completed, higherIsBetter, isBaseline);
    const last = latestOf(completed);
    rows.push({
      architecture: arch,
      family: latest.family,
      description: latest.description,
      seeds: completed.length,
      runIds: completed.map((r) => r.id),
      provenance: provenancesOf(completed.map((r) => r.provenance)),
      failedRuns: failed,
      tasks: [task],
      quality: meanInterval(completed.map((r) => r.quality as number)),
      multiplier: mFlops.value,
      multiplierNote: mFlops.note,
      multiplierSeconds: multiplierOn('seconds', refs.seconds, completed, higherIsBetter, isBaseline).value,
      multiplierJoules: multiplierOn('joules', refs.joules, completed, higherIsBetter, isBaseline).value,
      executedFlops: meanInterval(completed.map((r) => r.executedFlops)),
      modelFlops: meanInterval(completed.map((r) => r.modelFlops)),
      wallSeconds: meanInterval(completed.map((r) => r.wallSeconds)),
      energyJoules: unmeasured.length === 0 ? meanInterval(completed.map((r) => r.energyJoules as number)) : null,
      energyNote:
        unmeasured.length === 0
          ? null
          : `not measured on ${unmeasured.length} of ${completed.length} runs: ${unmeasured[0]?.energyNote ?? 'no reason recorded'}`,
      paramsTotal: last.paramsTotal,
      paramsActive: last.paramsActive,
      legibility: {
        nmi: meanOrNull(completed.map((r) => r.nmi)),
        effectiveExperts: meanOrNull(completed.map((r) => r.effectiveExperts)),
        activationSparsity: meanOrNull(completed.map((r) => r.activationSparsity)),
        updateDensity: meanOrNull(completed.map((r) => r.updateDensity)),
      },
      pareto: false,
      paretoBy: emptyPareto(),
    });
  }
  markPareto(rows, (r) => r.quality?.mean ?? null, higherIsBetter);
  const dir = higherIsBetter ? -1 : 1;
  return rows.sort((a, b) => dir * ((a.quality?.mean ?? 0) - (b.quality?.mean ?? 0)) || a.architecture.localeCompare(b.architecture));
}

/** A geometric summary over tasks, or the arithmetic one where a figure is not positive. */
function combine(intervals: readonly Interval[]): Interval {
  return (
    geometricInterval(intervals) ?? {
      mean: mean(intervals.map((i) => i.mean)),
      lo: mean(intervals.map((i) => i.lo)),
      hi: mean(intervals.map((i) => i.hi)),
      n: intervals.length,
    }
  );
}

/**
 * 'All tasks': per architecture, the geometric mean over tasks of each per-task figure.
 * The multiplier is given only when the architecture has one on every task of the slice
 * (a mean over a subset of tasks would not compare with the others); otherwise the note
 * names the tasks missing and why.
 */
export function aggregateAll(runs: readonly SliceRun[]): LeaderboardRow[] {
  const byTask = new Map<string, SliceRun[]>();
  for (const r of runs) byTask.set(r.task, [...(byTask.get(r.task) ?? []), r]);
  const tasks = [...byTask.keys()].sort();
  const perTask = new Map<string, Map<string, LeaderboardRow>>();
  for (const task of tasks) {
    for (const row of aggregateTask(byTask.get(task) ?? [])) {
      const m = perTask.get(row.architecture) ?? new Map<string, LeaderboardRow>();
      m.set(task, row);
      perTask.set(row.architecture, m);
    }
  }
  const latestByArch = new Map<string, SliceRun>();
  for (const r of runs) {
    const prev = latestByArch.get(r.architecture);
    if (!prev || r.startedAt > prev.startedAt) latestByArch.set(r.architecture, r);
  }
  const rows: LeaderboardRow[] = [];
  for (const [arch, m] of perTask) {
    const its = [...m.values()];
    const missing: string[] = [];
    for (const task of tasks) {
      const row = m.get(task);
      if (!row) missing.push(`${task} (not run)`);
      else if (!row.multiplier) missing.push(`${task} (${row.multiplierNote ?? 'no multiplier'})`);
    }
    const all = <T>(xs: (T | null)[]): T[] | null => (xs.every((x) => x !== null) ? (xs as T[]) : null);
    const multIv = missing.length === 0 ? all(its.map((r) => r.multiplier)) : null;
    const mult = multIv ? geometricInterval(multIv) : null;
    const mSec = missing.length === 0 ? all(its.map((r) => r.multiplierSeconds)) : null;
    const mJ = missing.length === 0 ? all(its.map((r) => r.multiplierJoules)) : null;
    const energy = all(its.map((r) => r.energyJoules));
    const latest = latestByArch.get(arch);
    const noEnergy = its.find((r) => r.energyJoules === null);
    rows.push({
      architecture: arch,
      family: latest?.family ?? (its[0] as LeaderboardRow).family,
      description: latest?.description ?? (its[0] as LeaderboardRow).description,
      seeds: Math.min(...its.map((r) => r.seeds)),
      runIds: its.flatMap((r) => r.runIds),
      provenance: provenancesOf(its.flatMap((r) => r.provenance)),
      failedRuns: its.reduce((a, r) => a + r.failedRuns, 0),
      tasks: [...m.keys()].sort(),
      quality: null,
      multiplier: mult,
      multiplierNote: mult
        ? null
        : missing.length > 0
          ? `no multiplier on every task: ${missing.join('; ')}`
          : 'the per-task multipliers have no geometric mean',
      multiplierSeconds: mSec ? geometricInterval(mSec) : null,
      multiplierJoules: mJ ? geometricInterval(mJ) : null,
      executedFlops: combine(its.map((r) => r.executedFlops)),
      modelFlops: combine(its.map((r) => r.modelFlops)),
      wallSeconds: combine(its.map((r) => r.wallSeconds)),
      energyJoules: energy ? combine(energy) : null,
      energyNote: noEnergy ? `${noEnergy.tasks[0]}: ${noEnergy.energyNote}` : null,
      paramsTotal: Math.max(...its.map((r) => r.paramsTotal)),
      paramsActive: Math.max(...its.map((r) => r.paramsActive)),
      legibility: {
        nmi: meanOrNull(its.map((r) => r.legibility.nmi)),
        effectiveExperts: meanOrNull(its.map((r) => r.legibility.effectiveExperts)),
        activationSparsity: meanOrNull(its.map((r) => r.legibility.activationSparsity)),
        updateDensity: meanOrNull(its.map((r) => r.legibility.updateDensity)),
      },
      pareto: false,
      paretoBy: emptyPareto(),
    });
  }
  markPareto(rows, (r) => r.multiplier?.mean ?? null, true);
  return rows.sort((a, b) => (b.multiplier?.mean ?? -1) - (a.multiplier?.mean ?? -1) || a.architecture.localeCompare(b.architecture));
}
