/**
 * How figures are written in the findings section. One place, so a table cell and the
 * literature bullet that cites it always show the same digits.
 */
import type { QualityMetric } from '../results/record.ts';
import type { Interval } from '../store/types.ts';

/** What a cell shows where a figure does not apply or was not measured: never a guess. */
export const DASH = '—';

/** x to d significant digits, without trailing zeros (6.935e-11, 0.006086, 2.35). */
export function sig(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(digits)).toString();
}

/** Half the width of a 95% interval: what "±" means in the tables. */
export function halfWidth(iv: Interval): number {
  return (iv.hi - iv.lo) / 2;
}

/**
 * Quality at budget in the task's own units: accuracy (a fraction in the records) as a
 * percentage, everything else (weighted MSE, bpc) to 4 significant digits. One seed has no
 * interval, so no "±" is shown rather than a misleading ± 0.
 */
export function formatQuality(iv: Interval, metric: QualityMetric): string {
  const spread = iv.n >= 2;
  if (metric.name === 'accuracy') {
    const pct = (x: number) => (100 * x).toFixed(2);
    return spread ? `${pct(iv.mean)} ± ${pct(halfWidth(iv))}%` : `${pct(iv.mean)}%`;
  }
  const unit = metric.unit ? ` ${metric.unit}` : '';
  // trailing zeros kept: "2.000 bpc" says four digits are known, "2 bpc" would not
  const four = (x: number) => x.toPrecision(4);
  return spread ? `${four(iv.mean)} ± ${four(halfWidth(iv))}${unit}` : `${four(iv.mean)}${unit}`;
}

/** A multiplier as "1.83× [1.21, 2.45]"; one seed shows the point value only. */
export function formatMultiplier(iv: Interval): string {
  return iv.n >= 2 ? `${sig(iv.mean, 3)}× [${sig(iv.lo, 3)}, ${sig(iv.hi, 3)}]` : `${sig(iv.mean, 3)}×`;
}

/** A mean with its interval in brackets, for legibility figures cited in the bullets. */
export function formatMeanInterval(iv: Interval, as: (x: number) => string): string {
  return iv.n >= 2 ? `${as(iv.mean)} [${as(iv.lo)}, ${as(iv.hi)}]` : as(iv.mean);
}

export function percent(x: number): string {
  return `${sig(100 * x, 3)}%`;
}

/** Parameter counts stay exact below 10k (the toy tasks' 220 matters), compact above. */
export function count(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${sig(n / 1_000, 3)}k`;
  return `${sig(n / 1_000_000, 3)}M`;
}

/** A table cell: pipes would end the cell, newlines the row. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/**
 * The store's multiplier notes are written for the site's tooltips; the table has room for
 * the gist only. Unknown notes are cut rather than dropped, so nothing is hidden.
 */
export function shortNote(note: string): string {
  const target = /dense's final quality \(([^)]+)\)/.exec(note)?.[1];
  const partial = /^(\d+) of (\d+) seeds never reached/.exec(note);
  if (partial) return `${partial[1]} of ${partial[2]} seeds never reached dense${target ? ` (${target})` : ''}`;
  if (/^never reached/.test(note)) return `never reached dense's quality${target ? ` (${target})` : ''}`;
  if (/no completed dense runs/.test(note)) return 'no dense runs to compare with';
  return note.length > 60 ? `${note.slice(0, 59)}…` : note;
}

/** "2026-11-29" or "2026-11-29 to 2026-12-02". */
export function dateRange(startedAt: readonly string[], finishedAt: readonly string[]): string {
  const day = (iso: string) => new Date(iso).toISOString().slice(0, 10);
  const first = startedAt.map(day).sort()[0];
  const last = finishedAt.map(day).sort().at(-1);
  if (!first || !last) return DASH;
  return first === last ? first : `${first} to ${last}`;
}
