/**
 * How figures are written in the findings section. One place, so a table cell and the
 * literature bullet that cites it always show the same digits.
 */
import type { QualityMetric } from '../results/record.ts';
import type { Multiplier } from '../stats/multiplier.ts';
import { notEstimable } from '../stats/trend.ts';
import type { Interval } from '../store/types.ts';
import type { CostSummary } from './analysis.ts';

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

/** "2026-11-29" or "2026-11-29 to 2026-12-02". */
export function dateRange(startedAt: readonly string[], finishedAt: readonly string[]): string {
  const day = (iso: string) => new Date(iso).toISOString().slice(0, 10);
  const first = startedAt.map(day).sort()[0];
  const last = finishedAt.map(day).sort().at(-1);
  if (!first || !last) return DASH;
  return first === last ? first : `${first} to ${last}`;
}

/** A p-value with its relation: "= 0.014", "< 0.001". */
export function formatP(p: number): string {
  return p < 0.001 ? '< 0.001' : `= ${sig(p, 2)}`;
}

/** A cost to 2 significant digits in engineering-free exponent form: 1.2e11, 34 (seconds). */
export function formatCost(x: number): string {
  return x >= 1e4 ? x.toExponential(1).replace('e+', 'e') : sig(x, 2);
}

/**
 * A difference of qualities in the metric's units, signed: accuracy in percentage points
 * (+1.24 pp), anything else to 3 significant digits with its unit.
 */
export function formatDelta(x: number, metric: QualityMetric): string {
  const sign = x > 0 ? '+' : x < 0 ? '−' : '±';
  const abs = Math.abs(x);
  if (metric.name === 'accuracy') return `${sign}${(100 * abs).toFixed(2)} pp`;
  return `${sign}${sig(abs, 3)}${metric.unit ? ` ${metric.unit}` : ''}`;
}

/** A seed-paired multiplier: "1.22× [1.10, 1.34]", a bound "≥ 8.5× (bound)", or the counts when censored. */
export function formatPairedMultiplier(m: Multiplier, reference = 'dense'): string {
  switch (m.kind) {
    case 'estimate': {
      // a figure whose interval spans more than two orders of magnitude says nothing: never printed
      const wide = notEstimable(m.lo, m.hi);
      if (wide) return `${wide}, ${m.n} seed pair${m.n === 1 ? '' : 's'}`;
      return m.lo === null || m.hi === null ? `${sig(m.value, 3)}×` : `${sig(m.value, 3)}× [${sig(m.lo, 3)}, ${sig(m.hi, 3)}]`;
    }
    case 'bound':
      return `${m.direction === 'at least' ? '≥' : '≤'} ${sig(m.value, 3)}× (bound; ${m.archReached} of ${m.n} seeds reached, ${reference} ${m.denseReached})`;
    case 'censored':
      return `${m.archReached} of ${m.n} seeds reached (${reference} ${m.denseReached}), censored both ways: no figure`;
    case 'not measured':
      return `not measured (${m.reason})`;
    case 'no pairs':
      return `no seed shared with ${reference}`;
  }
}

/** Cost-to-target over seeds: "1.2e11 [9.1e10, 1.6e11]", or how many seeds reached it. */
export function formatCostSummary(c: CostSummary): string {
  switch (c.kind) {
    case 'estimate':
      return c.lo === null || c.hi === null ? formatCost(c.value) : `${formatCost(c.value)} [${formatCost(c.lo)}, ${formatCost(c.hi)}]`;
    case 'counts': {
      const early = c.bounds > 0 && c.boundAtMost !== null ? `; ${c.bounds} by the first evaluation, ≤ ${formatCost(c.boundAtMost)}` : '';
      return `${c.reached} of ${c.n} reached${early}`;
    }
    case 'not measured':
      return `not measured (${c.reason})`;
  }
}

/** A target with its direction: "≥ 95.5%", "≤ 3.28 bpc". */
export function formatTarget(target: number, metric: QualityMetric): string {
  const value = metric.name === 'accuracy' ? `${sig(100 * target, 4)}%` : `${sig(target, 4)}${metric.unit ? ` ${metric.unit}` : ''}`;
  return `${metric.higherIsBetter ? '≥' : '≤'} ${value}`;
}

const tableLine = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;

/** A markdown table, each cell escaped. */
export function tableOf(head: readonly string[], body: readonly (readonly string[])[]): string {
  return [tableLine(head), tableLine(head.map(() => '---')), ...body.map(tableLine)].join('\n');
}
