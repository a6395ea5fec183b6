/**
 * The published laws, fitted to a sweep's observations. Pure arithmetic on numbers.
 *
 * - Clark et al. 2022 (arXiv 2202.01169), per router and tier: log L = a·log N + b·log E +
 *   c·log N·log E + d, natural logs, E the expert count (log E, not their saturating Ê: the
 *   range here is 1–32), N the active (dense) parameters at the width. E = 1 is the dense
 *   control shared by every router. Effective parameter count: the dense N̄ with the same
 *   loss, N̄ = N·E^((b + c·log N)/a).
 * - Krajewski et al. 2024 (arXiv 2402.07871), per tier at fixed N and budget: the granularity
 *   term in its log-linear form over the measured range, log L = k + s·log G (their g/G^γ
 *   with the constant folded in: four G values do not pin a floor).
 *
 * Intervals: a seed-level bootstrap — within each cell the seeds' runs are drawn again with
 * replacement, the law refitted, B times, from a seeded stream (the same inputs give the same
 * intervals). Verdicts: an effect where the 95% interval excludes zero; "no effect" only where
 * the 90% interval lies inside ± the plan's margin (TOST at α = 0.05); otherwise inconclusive,
 * with the minimum detectable effect (z₀.₉₇₅ + z₀.₈)·SE at 80% power.
 */
import { mean, quantileSorted, standardDeviation } from 'simple-statistics';
import { rng } from '../tasks/random.ts';
import { groupBy, type Observation } from './observations.ts';

export const BOOTSTRAP_DRAWS = 1000;
const Z_975 = 1.959964;
const Z_80 = 0.841621;

/** Least squares β of y on the columns of X (rows × p) via the normal equations; null when singular. */
export function leastSquares(X: readonly number[][], y: readonly number[]): number[] | null {
  const p = X[0]?.length ?? 0;
  const A = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  X.forEach((row, i) => {
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) (A[j] as number[])[k] = ((A[j] as number[])[k] as number) + (row[j] as number) * (row[k] as number);
      (A[j] as number[])[p] = ((A[j] as number[])[p] as number) + (row[j] as number) * (y[i] as number);
    }
  });
  // Gauss–Jordan with partial pivoting on the p × (p + 1) augmented matrix
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(A[r]?.[col] as number) > Math.abs(A[pivot]?.[col] as number)) pivot = r;
    const scale = Math.max(...A.map((r) => Math.abs(r[col] as number)), 1e-300);
    if (Math.abs(A[pivot]?.[col] as number) < 1e-10 * scale) return null;
    [A[col], A[pivot]] = [A[pivot] as number[], A[col] as number[]];
    const rowC = A[col] as number[];
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const row = A[r] as number[];
      const f = (row[col] as number) / (rowC[col] as number);
      for (let k = col; k <= p; k++) row[k] = (row[k] as number) - f * (rowC[k] as number);
    }
  }
  return A.map((row, j) => (row[p] as number) / (row[j] as number));
}

/** An estimate with its bootstrap spread. */
export interface Estimate {
  value: number;
  /** 95% percentile interval */
  lo: number;
  hi: number;
  /** 90% percentile interval: the one TOST reads */
  lo90: number;
  hi90: number;
  /** bootstrap standard error */
  se: number;
}

export type Verdict =
  | { kind: 'effect'; direction: 'negative' | 'positive' }
  | { kind: 'no effect'; margin: number }
  | { kind: 'inconclusive'; margin: number; mde: number };

export function estimateOf(value: number, draws: readonly number[]): Estimate {
  const s = [...draws].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length < 2) return { value, lo: Number.NaN, hi: Number.NaN, lo90: Number.NaN, hi90: Number.NaN, se: Number.NaN };
  return {
    value,
    lo: quantileSorted(s, 0.025),
    hi: quantileSorted(s, 0.975),
    lo90: quantileSorted(s, 0.05),
    hi90: quantileSorted(s, 0.95),
    se: standardDeviation(s),
  };
}

/** Effect, equivalence (TOST against ±margin), or inconclusive with its minimum detectable effect. */
export function verdictOf(e: Estimate, margin: number): Verdict {
  if (!(margin > 0)) throw new RangeError(`an equivalence margin must be positive, got ${margin}`);
  if (e.lo > 0) return { kind: 'effect', direction: 'positive' };
  if (e.hi < 0) return { kind: 'effect', direction: 'negative' };
  if (e.lo90 > -margin && e.hi90 < margin) return { kind: 'no effect', margin };
  return { kind: 'inconclusive', margin, mde: (Z_975 + Z_80) * e.se };
}

/** Draw each cell's observations again with replacement (a seed-level bootstrap sample). */
function resampleWithinCells<T>(cells: readonly T[][], random: () => number): T[] {
  const out: T[] = [];
  for (const cell of cells) for (let i = 0; i < cell.length; i++) out.push(cell[Math.floor(random() * cell.length)] as T);
  return out;
}

/** The N of each width: the fewest active parameters among its runs (the E = 1 control has no router). */
export function activeSizeByWidth(obs: readonly Observation[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const o of obs) m.set(o.width, Math.min(m.get(o.width) ?? Number.POSITIVE_INFINITY, o.activeParams));
  return m;
}

export interface ClarkFit {
  router: string;
  tier: string;
  /** log L = a·log N + b·log E + c·log N·log E + d */
  a: Estimate;
  b: Estimate;
  c: Estimate;
  d: Estimate;
  /** effect on log L of doubling E at the geometric-mean N: (b + c·log N̄)·ln 2 */
  perDoublingE: Estimate;
  /** how that effect changes per doubling of N: c·(ln 2)² (> 0: routing's benefit shrinks as N grows) */
  interactionPerDoubling: Estimate;
  /** effective parameter count multiplier N̄/N = E^((b + c·log N)/a), per (N, E) cell */
  epc: Array<{ width: number; n: number; experts: number; multiplier: Estimate }>;
  /** observed mean log L and the fit's, per cell */
  cells: Array<{ width: number; n: number; experts: number; meanLogLoss: number; fitted: number; residual: number; seeds: number }>;
  points: number;
}

function clarkBeta(rows: readonly Observation[], nOf: Map<number, number>): number[] | null {
  const X = rows.map((o) => {
    const ln = Math.log(nOf.get(o.width) as number);
    const le = Math.log(o.experts);
    return [ln, le, ln * le, 1];
  });
  return leastSquares(
    X,
    rows.map((o) => Math.log(o.loss)),
  );
}

/**
 * Clark's law for one router at one tier: its own E > 1 runs plus the shared E = 1 control.
 * Null where the design cannot identify it (fewer than two widths or two expert counts).
 */
export function fitClark(obs: readonly Observation[], router: string, tier: string, draws = BOOTSTRAP_DRAWS): ClarkFit | null {
  const rows = obs.filter((o) => o.tier === tier && o.routers.includes(router));
  const nOf = activeSizeByWidth(rows);
  if (new Set(rows.map((o) => o.width)).size < 2 || new Set(rows.map((o) => o.experts)).size < 2) return null;
  const beta = clarkBeta(rows, nOf);
  if (!beta) return null;
  const cells = [...groupBy(rows, (o) => `${o.width}|${o.experts}`).values()];
  const random = rng('clark-bootstrap', router, tier, rows.length);
  const boot: number[][] = [];
  for (let i = 0; i < draws; i++) {
    const b = clarkBeta(resampleWithinCells(cells, random), nOf);
    if (b) boot.push(b);
  }
  const meanLogN = mean([...nOf.values()].map(Math.log));
  const est = (f: (b: number[]) => number) => estimateOf(f(beta), boot.map(f));
  const [a, b, c, d] = [0, 1, 2, 3].map((j) => est((x) => x[j] as number)) as [Estimate, Estimate, Estimate, Estimate];
  const predict = (x: number[], n: number, e: number) =>
    (x[0] as number) * Math.log(n) + (x[1] as number) * Math.log(e) + (x[2] as number) * Math.log(n) * Math.log(e) + (x[3] as number);
  return {
    router,
    tier,
    a,
    b,
    c,
    d,
    perDoublingE: est((x) => ((x[1] as number) + (x[2] as number) * meanLogN) * Math.LN2),
    interactionPerDoubling: est((x) => (x[2] as number) * Math.LN2 * Math.LN2),
    epc: cells
      .map((cell) => cell[0] as Observation)
      .filter((o) => o.experts > 1)
      .map((o) => {
        const n = nOf.get(o.width) as number;
        const mult = (x: number[]) =>
          Math.exp((((x[1] as number) + (x[2] as number) * Math.log(n)) / (x[0] as number)) * Math.log(o.experts));
        return { width: o.width, n, experts: o.experts, multiplier: est(mult) };
      }),
    cells: cells.map((cell) => {
      const o = cell[0] as Observation;
      const n = nOf.get(o.width) as number;
      const meanLogLoss = mean(cell.map((x) => Math.log(x.loss)));
      const fitted = predict(beta, n, o.experts);
      return { width: o.width, n, experts: o.experts, meanLogLoss, fitted, residual: meanLogLoss - fitted, seeds: cell.length };
    }),
    points: rows.length,
  };
}

export interface GranularityFit {
  tier: string;
  router: string;
  /** log L = k + s·log G, over the measured G at fixed N, E and budget */
  k: Estimate;
  s: Estimate;
  /** s·ln 2: the effect on log L of doubling G (< 0: finer experts help at equal active compute) */
  perDoublingG: Estimate;
  /** the G with the lowest mean loss, and each G's mean loss */
  bestG: number;
  cells: Array<{ granularity: number; meanLoss: number; meanLogLoss: number; fitted: number; seeds: number }>;
}

/** Krajewski's granularity term for one router at one tier, from its E > 1 runs; null with fewer than two G values. */
export function fitGranularity(obs: readonly Observation[], router: string, tier: string, draws = BOOTSTRAP_DRAWS): GranularityFit | null {
  const rows = obs.filter((o) => o.tier === tier && o.arch === router && o.experts > 1);
  if (new Set(rows.map((o) => o.granularity)).size < 2) return null;
  const fit = (xs: readonly Observation[]) =>
    leastSquares(
      xs.map((o) => [1, Math.log(o.granularity)]),
      xs.map((o) => Math.log(o.loss)),
    );
  const beta = fit(rows);
  if (!beta) return null;
  const cells = [...groupBy(rows, (o) => String(o.granularity)).values()];
  const random = rng('granularity-bootstrap', router, tier, rows.length);
  const boot: number[][] = [];
  for (let i = 0; i < draws; i++) {
    const b = fit(resampleWithinCells(cells, random));
    if (b) boot.push(b);
  }
  const est = (f: (b: number[]) => number) => estimateOf(f(beta), boot.map(f));
  const summary = cells
    .map((cell) => {
      const g = (cell[0] as Observation).granularity;
      return {
        granularity: g,
        meanLoss: mean(cell.map((o) => o.loss)),
        meanLogLoss: mean(cell.map((o) => Math.log(o.loss))),
        fitted: (beta[0] as number) + (beta[1] as number) * Math.log(g),
        seeds: cell.length,
      };
    })
    .sort((x, y) => x.granularity - y.granularity);
  const best = summary.reduce((m, x) => (x.meanLoss < m.meanLoss ? x : m), summary[0] as (typeof summary)[number]);
  return {
    tier,
    router,
    k: est((x) => x[0] as number),
    s: est((x) => x[1] as number),
    perDoublingG: est((x) => (x[1] as number) * Math.LN2),
    bestG: best.granularity,
    cells: summary,
  };
}

/**
 * Hash against a learned router at one tier: the mean over their shared (width, E > 1) cells
 * of mean log L(hash) − mean log L(learned), bootstrapped within cells. > 0: hash is worse.
 */
export function routerGap(
  obs: readonly Observation[],
  hash: string,
  learned: string,
  tier: string,
  draws = BOOTSTRAP_DRAWS,
): Estimate | null {
  const of = (arch: string) =>
    groupBy(
      obs.filter((o) => o.tier === tier && o.arch === arch && o.experts > 1),
      (o) => `${o.width}|${o.experts}|${o.granularity}`,
    );
  const h = of(hash);
  const l = of(learned);
  const shared = [...h.keys()].filter((k) => l.has(k));
  if (shared.length === 0) return null;
  const gap = (pick: (cell: Observation[]) => Observation[]) =>
    mean(
      shared.map(
        (k) =>
          mean(pick(h.get(k) as Observation[]).map((o) => Math.log(o.loss))) -
          mean(pick(l.get(k) as Observation[]).map((o) => Math.log(o.loss))),
      ),
    );
  const random = rng('router-gap', hash, learned, tier);
  const resample = (cell: Observation[]) => cell.map(() => cell[Math.floor(random() * cell.length)] as Observation);
  const boot = Array.from({ length: draws }, () => gap(resample));
  return estimateOf(
    gap((c) => c),
    boot,
  );
}
