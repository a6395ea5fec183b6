/**
 * Cost-to-target, the one place it is computed: every reader (run pages, the board, the
 * findings, the CLI) asks this module, which reads the run's curve against the target in
 * force now (the task's constants, harness/tiers.ts). Records hold only the curve; a figure
 * a version-1 record stored when it ran is history (`costToTargetOfRun(r).whenRun`).
 *
 * The cost at which a run's evaluated quality reaches a fixed target and
 * stays there to the end of training. A first crossing on a noisy curve scores luck; the
 * last time the curve was short of the target does not. Between the bracketing evaluation
 * points the cost is interpolated linearly in log(cost); a curve already there at its first
 * evaluation point (with a cost) gives only a bound; a curve short of it at the end, "not
 * reached".
 */
import type { CostReading, CostToTarget, CurvePoint, RunRecord, TierName } from '../results/record.ts';
import { TASK_INFOS } from '../tiers.ts';

/** One curve as (cost so far, quality) pairs, in order of cost. */
export type Curve = readonly { x: number; quality: number }[];

/** Relative slack, so that a quality recomputed in another order still counts as reaching. */
const REACH_EPS = 1e-9;

/** Whether quality q is at least as good as the target in the metric's direction. */
export function reaches(q: number, target: number, higherIsBetter: boolean): boolean {
  const slack = REACH_EPS * Math.max(1, Math.abs(target));
  return higherIsBetter ? q >= target - slack : q <= target + slack;
}

/**
 * Where the curve reaches `target` for good. Points before training (cost ≤ 0: the
 * untrained model) have no logarithm: a curve short of the target there and on target at
 * every later point is a bound at its first point with a cost.
 */
export function costOnCurve(curve: Curve, target: number, higherIsBetter: boolean): CostReading {
  const pts = curve.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.quality));
  const last = pts.at(-1);
  if (!last) return { status: 'not reached', spent: 0 };
  if (!reaches(last.quality, target, higherIsBetter)) return { status: 'not reached', spent: Math.max(0, last.x) };
  // the last point short of the target: the curve stays on target after it
  let j = pts.length - 1;
  while (j >= 0 && reaches((pts[j] as { quality: number }).quality, target, higherIsBetter)) j--;
  const a = pts[j];
  const b = pts[j + 1] as { x: number; quality: number };
  if (!a || !(a.x > 0)) {
    const first = pts.slice(j + 1).find((p) => p.x > 0);
    return first ? { status: 'bound', cost: first.x } : { status: 'not reached', spent: 0 };
  }
  return crossingBetween(a, b, target);
}

/** The cost where the target lies between a (short of it) and b (on it), linear in log(cost). */
function crossingBetween(a: { x: number; quality: number }, b: { x: number; quality: number }, target: number): CostReading {
  if (b.x === a.x) return { status: 'reached', cost: b.x };
  const t = Math.min(1, Math.max(0, (target - a.quality) / (b.quality - a.quality)));
  // t = 1 exactly: the point's own cost, without a round trip through logarithms
  const cost = t === 1 ? b.x : Math.exp(Math.log(a.x) + t * (Math.log(b.x) - Math.log(a.x)));
  return { status: 'reached', cost };
}

/**
 * Where the curve first reaches `target`, whatever it does after: the reading beside "for
 * good", since the for-good rule penalises late dips and noisier models dip more.
 * Interpolated in log-cost like costOnCurve; on target at the first point with a cost, a bound.
 */
export function firstCrossingOnCurve(curve: Curve, target: number, higherIsBetter: boolean): CostReading {
  const pts = curve.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.quality));
  const j = pts.findIndex((p) => reaches(p.quality, target, higherIsBetter));
  if (j < 0) return { status: 'not reached', spent: Math.max(0, pts.at(-1)?.x ?? 0) };
  const a = pts[j - 1];
  const b = pts[j] as { x: number; quality: number };
  if (!a || !(a.x > 0)) {
    const first = pts.slice(j).find((p) => p.x > 0);
    return first ? { status: 'bound', cost: first.x } : { status: 'not reached', spent: 0 };
  }
  return crossingBetween(a, b, target);
}

/** The cost axes a record's curve carries, in the order they are shown. */
export const COST_TO_TARGET_AXES = ['executedFlops', 'modelFlops', 'seconds', 'joules'] as const;
export type CostToTargetAxis = (typeof COST_TO_TARGET_AXES)[number];

const AXIS_FIELD: Record<CostToTargetAxis, 'flops' | 'modelFlops' | 'seconds' | 'joules'> = {
  executedFlops: 'flops',
  modelFlops: 'modelFlops',
  seconds: 'seconds',
  joules: 'joules',
};

/** The record's curve on one axis, or why it has none (energy not measured). */
function curveOn(points: readonly CurvePoint[], axis: CostToTargetAxis, energy: RunRecord['energy']): Curve | string {
  const field = AXIS_FIELD[axis];
  const out: { x: number; quality: number }[] = [];
  for (const p of points) {
    const x = p[field];
    if (x === null) return energy.measured ? 'joules missing at an evaluation point' : `energy not measured: ${energy.reason}`;
    out.push({ x, quality: p.quality });
  }
  return out;
}

/** Cost-to-target on every axis, from a record's curve, against `target`. */
export function costToTargetOf(record: Pick<RunRecord, 'curve' | 'energy' | 'task'>, target: number): CostToTarget {
  const { higherIsBetter } = record.task.metric;
  const on = (axis: CostToTargetAxis): CostReading => {
    const c = curveOn(record.curve, axis, record.energy);
    return typeof c === 'string' ? { status: 'not measured', reason: c } : costOnCurve(c, target, higherIsBetter);
  };
  return { target, executedFlops: on('executedFlops'), modelFlops: on('modelFlops'), seconds: on('seconds'), joules: on('joules') };
}

/**
 * A record's cost-to-target against `target`, computed from its curve: never the figure a
 * record stored, which was computed against the target in force on the day it ran.
 */
export function costToTargetAt(record: Pick<RunRecord, 'curve' | 'energy' | 'task'>, target: number): CostToTarget {
  // a frozen record and curve (the store's records(), read on every page view) cannot change: its reading is kept
  if (!Object.isFrozen(record) || !Object.isFrozen(record.curve)) return costToTargetOf(record, target);
  let byTarget = memo.get(record);
  if (!byTarget) {
    byTarget = new Map();
    memo.set(record, byTarget);
  }
  let c = byTarget.get(target);
  if (!c) {
    c = costToTargetOf(record, target);
    byTarget.set(target, c);
  }
  return c;
}

const memo = new WeakMap<object, Map<number, CostToTarget>>();

/** A task's target on a tier as its constants state it now: the value and its basis, or why there is none. */
export type TargetInForce = { value: number; basis: string } | { value: null; reason: string };

export function targetInForce(task: string, tier: TierName): TargetInForce {
  const info = TASK_INFOS.find((t) => t.spec.id === task);
  if (!info) return { value: null, reason: `no task info for ${task}` };
  const t = info.tiers[tier].target;
  return t.value === null ? { value: null, reason: t.reason } : { value: t.value, basis: t.basis };
}

/** What every page and command shows as one run's cost-to-target. */
export interface RunCostToTarget {
  /** against the target in force now; null where there is none or the run did not complete (`why`) */
  now: CostToTarget | null;
  why: string | null;
  /** the figure a version-1 record stored when it ran, against the target then in force: history, never the run's figure */
  whenRun: CostToTarget | null;
}

export function costToTargetOfRun(
  record: Pick<RunRecord, 'curve' | 'energy' | 'task' | 'status'> & { costToTarget?: CostToTarget | undefined },
): RunCostToTarget {
  const whenRun = record.costToTarget ?? null;
  const t = targetInForce(record.task.id, record.task.tier);
  if (t.value === null) return { now: null, why: `no target for ${record.task.id} on tier ${record.task.tier}: ${t.reason}`, whenRun };
  // a failed run's curve stops early: its cost says nothing
  if (record.status !== 'completed') return { now: null, why: `the run did not complete (${record.status})`, whenRun };
  return { now: costToTargetAt(record, t.value), why: null, whenRun };
}
