/**
 * Cost-to-target: the cost at which a run's evaluated quality reaches a fixed target and
 * stays there to the end of training. A first crossing on a noisy curve scores luck; the
 * last time the curve was short of the target does not. Between the bracketing evaluation
 * points the cost is interpolated linearly in log(cost); a curve already there at its first
 * evaluation point (with a cost) gives only a bound; a curve short of it at the end, "not
 * reached".
 */
import type { CostReading, CostToTarget, CurvePoint, RunRecord } from '../results/record.ts';

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
  if (b.x === a.x) return { status: 'reached', cost: b.x };
  const t = Math.min(1, Math.max(0, (target - a.quality) / (b.quality - a.quality)));
  // t = 1 exactly: the point's own cost, without a round trip through logarithms
  const cost = t === 1 ? b.x : Math.exp(Math.log(a.x) + t * (Math.log(b.x) - Math.log(a.x)));
  return { status: 'reached', cost };
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

/** Cost-to-target on every axis, from a record's curve. Used when a record is written and, for older records, when it is read. */
export function costToTargetOf(record: Pick<RunRecord, 'curve' | 'energy' | 'task'>, target: number): CostToTarget {
  const { higherIsBetter } = record.task.metric;
  const on = (axis: CostToTargetAxis): CostReading => {
    const c = curveOn(record.curve, axis, record.energy);
    return typeof c === 'string' ? { status: 'not measured', reason: c } : costOnCurve(c, target, higherIsBetter);
  };
  return { target, executedFlops: on('executedFlops'), modelFlops: on('modelFlops'), seconds: on('seconds'), joules: on('joules') };
}

/**
 * The record with its cost-to-target, as the suite writes it: only for a completed run on a
 * tier whose task has a target (a failed run's curve stops early; its cost says nothing).
 */
export function withCostToTarget<R extends Pick<RunRecord, 'curve' | 'energy' | 'task' | 'status'>>(
  record: R,
  target: { value: number | null },
): R & { costToTarget?: CostToTarget } {
  if (record.status !== 'completed' || target.value === null) return record;
  return { ...record, costToTarget: costToTargetOf(record, target.value) };
}

/**
 * A record's cost-to-target against `target`: its own when it was computed for this target,
 * else computed now from its curve (records written before targets existed) — the same code.
 */
export function costToTargetAt(record: Pick<RunRecord, 'curve' | 'energy' | 'task' | 'costToTarget'>, target: number): CostToTarget {
  if (record.costToTarget?.target === target) return record.costToTarget;
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
