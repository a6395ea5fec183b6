/**
 * What the leaderboard shows for a view, derived from the store's rows: the plotted
 * points (mean and interval on both axes), the frontier, and the rows left off the chart.
 * Pure, so tests can check the page against the same derivation.
 */
import type { QualityMetric } from '../../harness/results/record.ts';
import type { CostAxis, Family, Interval, LeaderboardRow } from '../../harness/store/types.ts';
import { secondsIn, timeUnit } from './format.ts';
import type { CapAxis } from './view.ts';

export interface BoardPoint {
  name: string;
  family: Family;
  x: Interval;
  y: Interval;
  frontier: boolean;
  row: LeaderboardRow;
}

export function costOf(row: LeaderboardRow, cost: CostAxis): Interval | null {
  return row[cost];
}

export function capOf(row: LeaderboardRow, cap: CapAxis): Interval | null {
  return cap === 'quality' ? row.quality : row.multiplier;
}

/** Is larger better on this capability axis? */
export function higherIsBetter(cap: CapAxis, metric: QualityMetric | undefined): boolean {
  return cap === 'multiplier' ? true : (metric?.higherIsBetter ?? true);
}

/**
 * Costs within this relative distance are a tie: runs that stop at one FLOP budget differ
 * only by the last step's rounding (800,006,166,080 vs 800,026,628,684), which must not
 * decide the frontier.
 */
export const COST_TIE = 0.01;

/**
 * Points not dominated in (lower cost, better capability). Costs that tie (within
 * COST_TIE of the cheapest of their group) compare on capability alone: only the best of
 * the group (and any equal to it) can be on the frontier.
 */
export function paretoSet(points: readonly { name: string; x: number; y: number }[], higher: boolean): Set<string> {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const better = (a: number, b: number) => (higher ? a > b : a < b);
  const out = new Set<string>();
  let best = higher ? -Infinity : Infinity;
  for (let i = 0; i < sorted.length; ) {
    const start = (sorted[i] as { x: number }).x;
    let j = i;
    while (j < sorted.length && (sorted[j] as { x: number }).x <= start * (1 + COST_TIE)) j++;
    const group = sorted.slice(i, j);
    const top = group.reduce((m, p) => (better(p.y, m) ? p.y : m), higher ? -Infinity : Infinity);
    if (better(top, best)) {
      for (const p of group) if (p.y === top) out.add(p.name);
      best = top;
    }
    i = j;
  }
  return out;
}

export interface Board {
  points: BoardPoint[];
  /** rows that have no value on one of the axes, and why */
  offChart: { name: string; why: string }[];
}

export function boardFor(
  rows: readonly LeaderboardRow[],
  _task: string,
  cost: CostAxis,
  cap: CapAxis,
  metric: QualityMetric | undefined,
): Board {
  const points: BoardPoint[] = [];
  const offChart: { name: string; why: string }[] = [];
  for (const row of rows) {
    const x = costOf(row, cost);
    const y = capOf(row, cap);
    if (!x) {
      offChart.push({ name: row.architecture, why: row.energyNote ?? 'energy not measured' });
      continue;
    }
    if (!y) {
      offChart.push({ name: row.architecture, why: cap === 'multiplier' ? (row.multiplierNote ?? 'no multiplier') : 'no completed runs' });
      continue;
    }
    points.push({ name: row.architecture, family: row.family, x, y, frontier: false, row });
  }
  // Recomputed for the axes shown (the store's paretoBy is on its own axes and counts ties
  // at one budget by rounding), so the chart and the table mark the same frontier.
  const set = paretoSet(
    points.map((p) => ({ name: p.name, x: p.x.mean, y: p.y.mean })),
    higherIsBetter(cap, metric),
  );
  for (const p of points) p.frontier = set.has(p.name);
  return { points, offChart };
}

/** The table's one time unit: the one its largest time is best written in. */
export function tableSeconds(rows: readonly LeaderboardRow[]): (s: number) => string {
  return secondsIn(timeUnit(Math.max(0, ...rows.map((r) => r.wallSeconds.hi))));
}
