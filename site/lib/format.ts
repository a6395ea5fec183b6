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

/** Round times for a time axis: each is a whole number in the unit it is written in. */
const ROUND_SECONDS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18_000, 36_000,
  86_400,
];

/** One unit for a set of times (a table, an axis): the one that writes the largest in the fewest digits. */
export function timeUnit(maxSeconds: number): { unit: string; per: number } {
  if (maxSeconds < 1) return { unit: 'ms', per: 1e-3 };
  if (maxSeconds < 120) return { unit: 's', per: 1 };
  if (maxSeconds < 7200) return { unit: 'min', per: 60 };
  return { unit: 'h', per: 3600 };
}

/** A formatter that writes every time in one unit (a column of figures reads at a glance). */
export function secondsIn(unit: { unit: string; per: number }): (s: number) => string {
  return (s) => `${Number((s / unit.per).toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 })} ${unit.unit}`;
}

/** Time ticks at round values ("2 min", never "2.33 min") within a domain, at most `max` of them. */
export function timeTicks(domain: [number, number], max = 7): number[] {
  const [a, b] = domain;
  let ticks = ROUND_SECONDS.filter((t) => t >= a && t <= b);
  while (ticks.length > max) ticks = ticks.filter((_, i) => i % 2 === 0);
  return ticks.length > 0 ? ticks : [a, b];
}

/** A round time written in the largest unit it is a whole number of: 120 → "2 min", 90 → "90 s". */
export function roundTime(s: number): string {
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  if (s >= 1) return `${Number(s.toPrecision(3))} s`;
  return `${Number((s * 1000).toPrecision(3))} ms`;
}

/** Ticks for a log axis, each to be labelled: 1·10ᵏ, adding 2 and 5 when the domain spans little. */
export function logTicks(domain: [number, number], max = 7): number[] {
  const [a, b] = domain;
  const out = (mults: number[]) => {
    const xs: number[] = [];
    for (let k = Math.floor(Math.log10(a)); k <= Math.ceil(Math.log10(b)); k++) {
      for (const m of mults) {
        const v = m * 10 ** k;
        if (v >= a && v <= b) xs.push(Number(v.toPrecision(6)));
      }
    }
    return xs;
  };
  for (const mults of [[1, 2, 5], [1, 3], [1]]) {
    const xs = out(mults);
    if (xs.length <= max && xs.length >= 2) return xs;
  }
  const ones = out([1]);
  if (ones.length > max) return ones.filter((_, i) => i % Math.ceil(ones.length / max) === 0);
  return out([1, 1.5, 2, 3, 5, 7]).length >= 2 ? out([1, 1.5, 2, 3, 5, 7]) : [a, b];
}

/** Ticks from 0 to max on a linear time axis, at a round step (10 s, 1 min, 5 min, …), at most `max` of them. */
export function linearTimeTicks(maxSeconds: number, count = 6): number[] {
  if (!(maxSeconds > 0)) return [0];
  const step = ROUND_SECONDS.find((s) => maxSeconds / s <= count) ?? maxSeconds;
  const out: number[] = [];
  for (let t = 0; t <= maxSeconds + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}
