/**
 * What the front page's cost views show, derived from the records of one slice: per task,
 * each architecture's evaluated quality against cost (mean over seeds with a 95% band),
 * the frontier of those curves, cost-to-target with the seed-paired multiplier vs dense,
 * and across tasks an AlgoPerf-style performance profile. Pure: the statistics are the
 * findings' own (harness/findings/analysis.ts, harness/stats/), never a second copy.
 */
import { type CostSummary, constantsOf, costSummary, multiplierOf } from '../../harness/findings/analysis.ts';
import type { QualityMetric, RunRecord, TierName } from '../../harness/results/record.ts';
import { type CostToTargetAxis, costToTargetAt, reaches } from '../../harness/stats/cost-to-target.ts';
import type { Multiplier } from '../../harness/stats/multiplier.ts';
import { BASELINE_ARCHITECTURE } from '../../harness/store/leaderboard.ts';
import { geometricMean, meanInterval } from '../../harness/store/stats.ts';
import type { CostAxis, Family } from '../../harness/store/types.ts';
import { sig } from './format.ts';

/** The view's cost axis as the records' curves name it. */
export const CURVE_AXIS: Record<CostAxis, CostToTargetAxis> = {
  executedFlops: 'executedFlops',
  modelFlops: 'modelFlops',
  wallSeconds: 'seconds',
  energyJoules: 'joules',
};

const FIELD: Record<CostToTargetAxis, 'flops' | 'modelFlops' | 'seconds' | 'joules'> = {
  executedFlops: 'flops',
  modelFlops: 'modelFlops',
  seconds: 'seconds',
  joules: 'joules',
};

/** How a metric is shown: accuracy (a fraction in the records) as a percentage in [0, 100], as the CLI and README do. */
export interface QualityScale {
  factor: number;
  unit: string;
  /** the metric's range in record units: intervals are clipped to it */
  clip: [number, number];
}

export function qualityScale(metric: QualityMetric | undefined): QualityScale {
  if (metric?.name === 'accuracy') return { factor: 100, unit: '%', clip: [0, 1] };
  // every other metric here is an error or a loss (weighted MSE, bpc): never below 0
  return { factor: 1, unit: metric?.unit ?? '', clip: [0, Number.POSITIVE_INFINITY] };
}

/** A quality in the unit its label names (accuracy ×100), to 4 significant digits, without the unit. */
export function qualityFormat(metric: QualityMetric | undefined): (x: number) => string {
  const { factor } = qualityScale(metric);
  return (x) => sig(x * factor, 4);
}

export interface CurvePointMean {
  /** cost (geometric mean over seeds at this evaluation step) */
  x: number;
  /** quality: mean over seeds and its 95% interval, clipped to the metric's range */
  y: number;
  lo: number;
  hi: number;
}

export interface ArchCurve {
  name: string;
  family: Family;
  seeds: number;
  points: CurvePointMean[];
}

export interface TaskCurves {
  task: string;
  metric: QualityMetric;
  target: number | null;
  /** the target's basis, or why there is none */
  targetNote: string;
  curves: ArchCurve[];
  /** architectures with runs but no curve on this axis, and why */
  off: { name: string; why: string }[];
  /** the best quality reached at or below each cost by any curve, as a staircase (who holds it at each step) */
  frontier: { x: number; y: number; name: string }[];
}

/** Runs grouped by architecture, names in order. */
export function byArchitecture(records: readonly RunRecord[]): Map<string, RunRecord[]> {
  const out = new Map<string, RunRecord[]>();
  for (const r of [...records].sort((a, b) => a.architecture.name.localeCompare(b.architecture.name) || a.task.seed - b.task.seed)) {
    const list = out.get(r.architecture.name) ?? [];
    list.push(r);
    out.set(r.architecture.name, list);
  }
  return out;
}

/** At most `max` items, evenly spread by index, always keeping the first and the last. */
export function downsample<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max || max < 2) return [...xs];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(xs[Math.round((k * (xs.length - 1)) / (max - 1))] as T);
  return out;
}

/**
 * One architecture's mean curve. Seeds evaluate at the same fractions of the budget (the
 * k-th evaluation of each seed is at about the same cost; steps differ where a step's
 * FLOPs depend on routing), so points are matched by their index, up to the shortest
 * curve. Points without a cost (the untrained model at 0) have no place on a log axis.
 */
export function meanCurveOf(runs: readonly RunRecord[], axis: CostToTargetAxis, maxPoints: number): CurvePointMean[] | string {
  const field = FIELD[axis];
  const unmeasured = runs.find((r) => r.curve.some((p) => p[field] === null));
  if (unmeasured)
    return unmeasured.energy.measured ? 'joules missing at an evaluation point' : `energy not measured: ${unmeasured.energy.reason}`;
  const metric = runs[0]?.task.metric;
  const clip = qualityScale(metric).clip;
  const bound = (v: number) => (clip ? Math.min(clip[1], Math.max(clip[0], v)) : v);
  const length = Math.min(...runs.map((r) => r.curve.length));
  const points: CurvePointMean[] = [];
  for (let k = 0; k < length; k++) {
    const at = runs.map((r) => r.curve[k] as RunRecord['curve'][number]);
    const xs = at.map((p) => p[field] as number);
    if (xs.some((x) => !(x > 0)) || at.some((p) => !Number.isFinite(p.quality))) continue;
    const q = meanInterval(at.map((p) => p.quality));
    points.push({ x: geometricMean(xs) as number, y: q.mean, lo: bound(q.lo), hi: bound(q.hi) });
  }
  if (points.length === 0) return 'no evaluation point with a cost';
  return downsample(points, maxPoints);
}

/** The staircase of the best quality reached at or below each cost, over every curve's points. */
export function curveFrontier(curves: readonly ArchCurve[], higherIsBetter: boolean): { x: number; y: number; name: string }[] {
  const all = curves.flatMap((c) => c.points.map((p) => ({ x: p.x, y: p.y, name: c.name })));
  all.sort((a, b) => a.x - b.x || (higherIsBetter ? b.y - a.y : a.y - b.y));
  const out: { x: number; y: number; name: string }[] = [];
  for (const p of all) {
    const best = out.at(-1);
    if (!best || (higherIsBetter ? p.y > best.y : p.y < best.y)) out.push(p);
  }
  const last = all.at(-1);
  const top = out.at(-1);
  // the step runs on to the largest cost shown, so the frontier spans the chart
  if (last && top && last.x > top.x) out.push({ x: last.x, y: top.y, name: top.name });
  return out;
}

/** Quality-vs-cost curves of one task's records (completed runs of one slice). */
export function taskCurves(
  records: readonly RunRecord[],
  task: string,
  tier: TierName,
  axis: CostToTargetAxis,
  maxPoints = 24,
): TaskCurves | null {
  const runs = records.filter((r) => r.task.id === task);
  const first = runs[0];
  if (!first) return null;
  const metric = first.task.metric;
  const constants = constantsOf(task, tier);
  const curves: ArchCurve[] = [];
  const off: { name: string; why: string }[] = [];
  for (const [name, list] of byArchitecture(runs)) {
    const pts = meanCurveOf(list, axis, maxPoints);
    if (typeof pts === 'string') off.push({ name, why: pts });
    else curves.push({ name, family: (list[0] as RunRecord).architecture.family, seeds: list.length, points: pts });
  }
  return {
    task,
    metric,
    target: constants?.target ?? null,
    targetNote: constants ? constants.targetNote : `no task info for ${task}`,
    curves,
    off,
    frontier: curveFrontier(curves, metric.higherIsBetter),
  };
}

export interface TargetRow {
  name: string;
  family: Family;
  /** completed seeds */
  n: number;
  /** seeds whose curve reached the target (exactly, or by a bound at the first point) */
  reached: number;
  summary: CostSummary;
  /** seed-paired vs dense; null for dense itself */
  multiplier: Multiplier | null;
  /** 1 = cheapest to target among the rows with an estimate; null without one */
  rank: number | null;
}

export interface TargetTable {
  task: string;
  metric: QualityMetric;
  target: number | null;
  targetNote: string;
  rows: TargetRow[];
  /** why multipliers are missing, when they all are */
  multiplierNote: string | null;
}

const isReached = (s: string) => s === 'reached' || s === 'bound';

/** Cost-to-target per architecture and its seed-paired multiplier vs dense, on one axis. */
export function targetTable(records: readonly RunRecord[], task: string, tier: TierName, axis: CostToTargetAxis): TargetTable | null {
  const runs = records.filter((r) => r.task.id === task);
  const first = runs[0];
  if (!first) return null;
  const constants = constantsOf(task, tier);
  const target = constants?.target ?? null;
  const targetNote = constants ? constants.targetNote : `no task info for ${task}`;
  const groups = byArchitecture(runs);
  const dense = groups.get(BASELINE_ARCHITECTURE);
  const rows: TargetRow[] = [];
  for (const [name, list] of groups) {
    const family = (list[0] as RunRecord).architecture.family;
    if (target === null) {
      rows.push({
        name,
        family,
        n: list.length,
        reached: 0,
        summary: { kind: 'not measured', reason: `no target: ${targetNote}` },
        multiplier: null,
        rank: null,
      });
      continue;
    }
    const readings = list.map((r) => costToTargetAt(r, target)[axis]);
    rows.push({
      name,
      family,
      n: list.length,
      reached: readings.filter((c) => isReached(c.status)).length,
      summary: costSummary(readings),
      multiplier: name === BASELINE_ARCHITECTURE || !dense ? null : multiplierOf(dense, list, target, axis),
      rank: null,
    });
  }
  // ranked by cost to target where every seed reached it; the rest follow by seeds reached
  const cost = (r: TargetRow) => (r.summary.kind === 'estimate' ? r.summary.value : Number.POSITIVE_INFINITY);
  rows.sort((a, b) => cost(a) - cost(b) || b.reached / b.n - a.reached / a.n || a.name.localeCompare(b.name));
  let k = 0;
  for (const r of rows) if (r.summary.kind === 'estimate') r.rank = ++k;
  const multiplierNote =
    target === null ? `no target: ${targetNote}` : dense ? null : `no ${BASELINE_ARCHITECTURE} runs in this view to compare with`;
  return { task, metric: first.task.metric, target, targetNote, rows, multiplierNote };
}

/** The largest τ the profile is drawn to and integrated over (AlgoPerf's r_max). */
export const TAU_MAX = 4;

export interface Profile {
  /** tasks every shown architecture has completed runs on, each with a target */
  tasks: string[];
  /** tasks left out, and why */
  excluded: { task: string; why: string }[];
  archs: {
    name: string;
    family: Family;
    /** per task in `tasks`: cost ÷ the best cost on that task; Infinity where not every seed reached the target */
    ratios: number[];
    /** AlgoPerf's score: the area under ρ(τ) over [1, TAU_MAX], divided by TAU_MAX − 1 (1 = fastest on every task) */
    score: number;
  }[];
}

/**
 * An architecture's cost to a task's target for the profile: the geometric mean over its
 * seeds when every seed reached it, else ∞. A seed on target at its first evaluation counts
 * at that evaluation's cost, an upper bound: `bounded` says so (a ratio against it is
 * conservative for this architecture, but as the cheapest it would set the scale by a bound).
 */
function profileCost(runs: readonly RunRecord[], target: number, axis: CostToTargetAxis): { cost: number; bounded: boolean } {
  const costs = runs.map((r) => costToTargetAt(r, target)[axis]);
  const vals = costs.flatMap((c) => (isReached(c.status) && 'cost' in c && c.cost > 0 ? [c.cost] : []));
  if (vals.length !== costs.length) return { cost: Number.POSITIVE_INFINITY, bounded: false };
  return { cost: geometricMean(vals) ?? Number.POSITIVE_INFINITY, bounded: costs.some((c) => c.status === 'bound') };
}

/** ρ(τ): the share of tasks whose ratio is at most τ. */
export function rho(ratios: readonly number[], tau: number): number {
  return ratios.length === 0 ? 0 : ratios.filter((r) => r <= tau).length / ratios.length;
}

/** The area under ρ over [1, TAU_MAX] ÷ (TAU_MAX − 1): each task reached at ratio r ≤ TAU_MAX adds (TAU_MAX − r) / (TAU_MAX − 1). */
export function profileScore(ratios: readonly number[]): number {
  if (ratios.length === 0) return 0;
  const area = ratios.reduce((a, r) => a + (r <= TAU_MAX ? (TAU_MAX - Math.max(1, r)) / (TAU_MAX - 1) : 0), 0);
  return area / ratios.length;
}

/** The performance profile over the tasks every architecture in `records` completed runs on. */
export function performanceProfile(records: readonly RunRecord[], tier: TierName, axis: CostToTargetAxis): Profile {
  const groups = byArchitecture(records);
  const tasks = [...new Set(records.map((r) => r.task.id))].sort();
  const kept: string[] = [];
  const excluded: { task: string; why: string }[] = [];
  for (const task of tasks) {
    const missing = [...groups.entries()].filter(([, list]) => !list.some((r) => r.task.id === task)).map(([n]) => n);
    const target = constantsOf(task, tier)?.target ?? null;
    if (missing.length > 0) excluded.push({ task, why: `no completed run of ${missing.join(', ')}` });
    else if (target === null) excluded.push({ task, why: `no target in tier ${tier}` });
    else if (records.some((r) => r.task.id === task && r.curve.some((p) => p[FIELD[axis]] === null)))
      excluded.push({ task, why: `${axis} not measured on every run` });
    else kept.push(task);
  }
  const raw = new Map<string, { cost: number; bounded: boolean }[]>();
  for (const [name, list] of groups) {
    raw.set(
      name,
      kept.map((task) =>
        profileCost(
          list.filter((r) => r.task.id === task),
          constantsOf(task, tier)?.target as number,
          axis,
        ),
      ),
    );
  }
  // a task whose cheapest cost is only a bound (on target at the first evaluation) has no scale: left out
  const keep = kept.map((task, i) => {
    const entries = [...raw.entries()].map(([name, c]) => ({ name, ...(c[i] as { cost: number; bounded: boolean }) }));
    const best = entries.reduce((m, e) => (e.cost < m.cost ? e : m), { name: '', cost: Number.POSITIVE_INFINITY, bounded: false });
    if (best.bounded) excluded.push({ task, why: `the cheapest (${best.name}) is on target by its first evaluation: a bound, no scale` });
    else if (!Number.isFinite(best.cost)) excluded.push({ task, why: 'no architecture reached the target with every seed' });
    return !best.bounded && Number.isFinite(best.cost);
  });
  kept.splice(0, kept.length, ...kept.filter((_, i) => keep[i]));
  const costs = new Map([...raw.entries()].map(([name, c]) => [name, c.filter((_, i) => keep[i]).map((x) => x.cost)]));
  const best = kept.map((_, i) => Math.min(...[...costs.values()].map((c) => c[i] as number)));
  const archs = [...groups.entries()].map(([name, list]) => {
    const ratios = (costs.get(name) ?? []).map((c, i) => (Number.isFinite(c) ? c / (best[i] as number) : Number.POSITIVE_INFINITY));
    return { name, family: (list[0] as RunRecord).architecture.family, ratios, score: profileScore(ratios) };
  });
  archs.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return { tasks: kept, excluded, archs };
}

/** Whether the mean curve's last point reaches the target (for the caption's words). */
export const curveReaches = (c: ArchCurve, target: number, higherIsBetter: boolean): boolean => {
  const last = c.points.at(-1);
  return last ? reaches(last.y, target, higherIsBetter) : false;
};
