/**
 * A sweep's records as observations: one completed run of one plan cell, with its final loss
 * and what it cost. Pure: reads records and the plan, never training.
 */
import { definedKnobs } from '../knobs.ts';
import { canonicalJson } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { expandPlan, type SweepCell, type SweepPlan } from '../sweeps/plan.ts';

export interface Observation {
  tier: string;
  arch: string;
  /** the routers this run counts for (every router for the shared E = 1 control) */
  routers: string[];
  experts: number;
  granularity: number;
  width: number;
  /** active parameters of the run (non-embedding), the N of the laws where the control is missing */
  activeParams: number;
  totalParams: number;
  seed: number;
  /** final held-out task loss (nats), the L of the laws */
  loss: number;
  quality: number;
  executedFlops: number;
  seconds: number;
  hardwareClass: string;
}

const cellKey = (tier: string, arch: string, knobs: object | undefined) => `${tier}|${arch}|${canonicalJson(definedKnobs(knobs) ?? {})}`;

/**
 * The completed runs of the plan's cells: same task, a plan tier, a plan seed, the plan's
 * protocol, and an (architecture, knobs) pair the plan names. Everything else is left out.
 */
export function sweepObservations(plan: SweepPlan, records: readonly RunRecord[]): Observation[] {
  const cells = new Map<string, SweepCell>();
  for (const c of expandPlan(plan)) cells.set(cellKey(c.tier, c.arch, c.knobs), c);
  const seeds = new Set(Array.from({ length: plan.seeds.count }, (_, i) => plan.seeds.from + i));
  const out: Observation[] = [];
  for (const r of records) {
    if (r.status !== 'completed' || !r.final || r.task.id !== plan.task || !seeds.has(r.task.seed)) continue;
    if (r.protocol?.hash !== plan.protocol.hash) continue;
    const cell = cells.get(cellKey(r.task.tier, r.architecture.name, r.knobs));
    if (!cell) continue;
    out.push({
      tier: cell.tier,
      arch: cell.arch,
      routers: cell.routers,
      experts: cell.experts,
      granularity: cell.granularity,
      width: cell.width,
      activeParams: r.params.active,
      totalParams: r.params.total,
      seed: r.task.seed,
      loss: r.final.evalLoss,
      quality: r.final.quality,
      executedFlops: r.flops.executed,
      seconds: r.training.wallSeconds,
      hardwareClass: r.hardwareClass,
    });
  }
  return out;
}

/** Group by a key, keeping first-seen order. */
export function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}
