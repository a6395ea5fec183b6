/**
 * The leaderboard table as CSV and JSON, for the site's download links.
 * Pure: takes the rows the store returned, so the download equals the page.
 */
import type { Interval, LeaderboardFilter, LeaderboardRow } from './types.ts';

export const CSV_COLUMNS = [
  'architecture',
  'family',
  'seeds',
  'failed_runs',
  'tasks',
  'quality_mean',
  'quality_lo',
  'quality_hi',
  'multiplier_mean',
  'multiplier_lo',
  'multiplier_hi',
  'multiplier_note',
  'multiplier_seconds_mean',
  'multiplier_joules_mean',
  'executed_flops_mean',
  'executed_flops_lo',
  'executed_flops_hi',
  'model_flops_mean',
  'wall_seconds_mean',
  'wall_seconds_lo',
  'wall_seconds_hi',
  'energy_joules_mean',
  'energy_joules_lo',
  'energy_joules_hi',
  'energy_note',
  'params_total',
  'params_active',
  'nmi',
  'effective_experts',
  'activation_sparsity',
  'update_density',
  'pareto',
] as const;

type Cell = string | number | boolean | null;

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula */
function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const iv = (i: Interval | null): [Cell, Cell, Cell] => (i ? [i.mean, i.lo, i.hi] : [null, null, null]);

export function leaderboardCsv(rows: readonly LeaderboardRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const cells: Cell[] = [
      r.architecture,
      r.family,
      r.seeds,
      r.failedRuns,
      r.tasks.join(' '),
      ...iv(r.quality),
      ...iv(r.multiplier),
      r.multiplierNote,
      r.multiplierSeconds?.mean ?? null,
      r.multiplierJoules?.mean ?? null,
      ...iv(r.executedFlops),
      r.modelFlops.mean,
      ...iv(r.wallSeconds),
      ...iv(r.energyJoules),
      r.energyNote,
      r.paramsTotal,
      r.paramsActive,
      r.legibility.nmi,
      r.legibility.effectiveExperts,
      r.legibility.activationSparsity,
      r.legibility.updateDensity,
      r.pareto,
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function leaderboardJson(filter: LeaderboardFilter, rows: readonly LeaderboardRow[]): string {
  return `${JSON.stringify({ filter, rows }, null, 2)}\n`;
}
