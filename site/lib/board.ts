/**
 * What the leaderboard shows for a view, derived from the store's rows: the plotted
 * points (mean and interval on both axes), the frontier, and the rows left off the chart.
 * Pure, so tests can check the page against the same derivation.
 */
import type { QualityMetric } from '../../harness/results/record.ts';
import type { CostAxis, Family, Interval, LeaderboardRow } from '../../harness/store/types.ts';
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

/** Points not dominated in (lower cost, better capability); ties keep the cheaper. */
export function paretoSet(points: readonly { name: string; x: number; y: number }[], higher: boolean): Set<string> {
  const sorted = [...points].sort((a, b) => a.x - b.x || (higher ? b.y - a.y : a.y - b.y));
  const out = new Set<string>();
  let best = higher ? -Infinity : Infinity;
  for (const p of sorted) {
    if (higher ? p.y > best : p.y < best) {
      out.add(p.name);
      best = p.y;
    }
  }
  return out;
}

export interface Board {
  points: BoardPoint[];
  /** rows that have no value on one of the axes, and why */
  offChart: { name: string; why: string }[];
  /** whose frontier: the store's (its own axes) or recomputed here for the axes shown */
  frontierSource: 'store' | 'site';
}

export function boardFor(
  rows: readonly LeaderboardRow[],
  task: string,
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
  // The store's paretoBy is on (cost axis, quality) for one task and (cost axis, multiplier)
  // for 'all'; when the chart shows the other capability, recompute for what is shown.
  const storeAxes = (task === 'all') === (cap === 'multiplier');
  if (storeAxes) {
    for (const p of points) p.frontier = p.row.paretoBy[cost];
  } else {
    const set = paretoSet(
      points.map((p) => ({ name: p.name, x: p.x.mean, y: p.y.mean })),
      higherIsBetter(cap, metric),
    );
    for (const p of points) p.frontier = set.has(p.name);
  }
  return { points, offChart, frontierSource: storeAxes ? 'store' : 'site' };
}
