/** Number formatting shared by pages, tables and chart titles. Pure. */
import type { Interval } from '../../harness/store/types.ts';

const SI = [
  { p: 1e18, s: 'E' },
  { p: 1e15, s: 'P' },
  { p: 1e12, s: 'T' },
  { p: 1e9, s: 'G' },
  { p: 1e6, s: 'M' },
  { p: 1e3, s: 'k' },
] as const;

/** three significant figures, no trailing zeros lost to exponent notation */
export function sig(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
  return x.toExponential(digits - 1);
}

/** 1.23 G, 45.6 T: SI prefix, for FLOPs, parameters and joules */
export function si(x: number, unit = ''): string {
  const a = Math.abs(x);
  for (const { p, s } of SI) if (a >= p) return `${Number((x / p).toPrecision(3))} ${s}${unit}`;
  return `${Number(x.toPrecision(3))}${unit ? ` ${unit}` : ''}`;
}

export function seconds(s: number): string {
  if (s < 1) return `${Number((s * 1000).toPrecision(3))} ms`;
  if (s < 120) return `${Number(s.toPrecision(3))} s`;
  if (s < 7200) return `${Number((s / 60).toPrecision(3))} min`;
  return `${Number((s / 3600).toPrecision(3))} h`;
}

export const joules = (j: number): string => si(j, 'J');
export const flops = (f: number): string => si(f, 'FLOP');
/** FLOPs where the column header already says so: 1.2 G */
export const flopCount = (f: number): string => si(f);
export const count = (n: number): string => si(n);

export function percent(x: number | null): string {
  return x == null ? '—' : `${Number((x * 100).toPrecision(3))}%`;
}

export function multiplier(x: number): string {
  return `${Number(x.toPrecision(3))}×`;
}

/**
 * A mean and its interval as two strings: "0.912" and "± 0.004" when symmetric, or
 * "0.88–0.95" otherwise (geometric means over tasks give asymmetric bands); ci is null for
 * a single seed or a zero-width band.
 */
export function intervalParts(i: Interval, fmt: (x: number) => string = sig): { mean: string; ci: string | null } {
  const mean = fmt(i.mean);
  if (i.n <= 1 || (i.lo === i.mean && i.hi === i.mean)) return { mean, ci: null };
  const up = i.hi - i.mean;
  const down = i.mean - i.lo;
  // the half-width to two figures, in the figure's own unit
  if (Math.abs(up - down) <= 1e-9 * Math.max(1, Math.abs(i.mean))) return { mean, ci: `± ${fmt(Number(up.toPrecision(2)))}` };
  return { mean, ci: `${fmt(i.lo)}–${fmt(i.hi)}` };
}

/** mean with its interval on one line: "0.912 ± 0.004", "0.91 (0.88–0.95)" */
export function interval(i: Interval, fmt: (x: number) => string = sig): string {
  const { mean, ci } = intervalParts(i, fmt);
  if (ci === null) return mean;
  return ci.startsWith('±') ? `${mean} ${ci}` : `${mean} (${ci})`;
}

export function date(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
