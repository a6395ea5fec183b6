/**
 * Quality against training compute over a ladder of budgets: the fits behind a scaling
 * verdict. The fitted quantity is a loss L > 0 (lower is better): a loss metric as it is,
 * an accuracy as its error 1 − accuracy.
 *
 * Two models, on log L against log C:
 * - log-linear, L = a·C^(−α): a straight line, two parameters;
 * - saturating, L = a·C^(−α) + L∞ (Kaplan et al. 2020; Hoffmann et al. 2022): L∞ profiled
 *   over a grid in [0, min L), each candidate a straight line on log(L − L∞).
 * The log-linear model is the saturating one at L∞ = 0, so the choice is a nested F-test on
 * the pooled seeds' residuals: saturating only when the floor buys a significant fit, since
 * a ladder of a few budgets rarely pins L∞ (the verdict then says so).
 *
 * The exponent's interval: each seed's own line (its budgets, at the chosen L∞), a
 * t-interval over the seeds' exponents. Seeds are the independent replicates; the budgets of
 * one seed share its data order and initial draw, so pooled-residual intervals would be too narrow.
 */
import { linearRegression } from 'simple-statistics';
import { fCdf } from '../math/distributions.ts';
import { type Difference, oneSampleT } from './tests.ts';

/** One run's end point: its seed, training compute and final loss. */
export interface ScalingPoint {
  seed: number;
  compute: number;
  loss: number;
}

export interface ScalingFit {
  model: 'log-linear' | 'saturating';
  /** why this model: the F-test's p, or why the saturating fit could not be tried */
  why: string;
  /** L = a·C^(−α) + floor, from all seeds pooled */
  a: number;
  alpha: number;
  /** L∞; 0 for log-linear */
  floor: number;
  /** α per seed (each seed's own line at the pooled floor), mean and t-interval over seeds */
  alphaBySeed: Difference;
  /** each seed's own line at the pooled floor: L = a·C^(−α) + floor */
  lines: { seed: number; a: number; alpha: number }[];
  /** mean residual of log L at each budget, ascending: a curve bending away shows here */
  residuals: { compute: number; meanLogResidual: number }[];
  /** residual sum of squares of log L, pooled */
  rss: number;
  points: number;
}

/** Significance at which the floor must improve the fit to be kept. */
export const FLOOR_ALPHA = 0.05;
/** Candidate floors per fit: fractions of the smallest loss, in [0, 1). */
const FLOOR_GRID = 400;

interface Line {
  a: number;
  alpha: number;
}

/** The least-squares line of log(L − floor) on log C. */
function lineAt(points: readonly ScalingPoint[], floor: number): Line | null {
  const xy = points.map((p): [number, number] => [Math.log(p.compute), Math.log(p.loss - floor)]);
  if (xy.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) return null;
  if (new Set(xy.map(([x]) => x)).size < 2) return null;
  const { m, b } = linearRegression(xy);
  return { a: Math.exp(b), alpha: -m };
}

/** The floor in [0, min L) whose line leaves the least residual (log L's residual, so both models compare). */
function bestFloor(points: readonly ScalingPoint[]): { floor: number; rssLogL: number } {
  const minLoss = Math.min(...points.map((p) => p.loss));
  let best = { floor: 0, rssLogL: rssOfLogL(points, 0) };
  for (let i = 1; i < FLOOR_GRID; i++) {
    const floor = (minLoss * i) / FLOOR_GRID;
    const rssLogL = rssOfLogL(points, floor);
    if (rssLogL < best.rssLogL) best = { floor, rssLogL };
  }
  return best;
}

/** Residual sum of squares of log L under the model with this floor. */
function rssOfLogL(points: readonly ScalingPoint[], floor: number): number {
  const line = lineAt(points, floor);
  if (!line) return Number.POSITIVE_INFINITY;
  return points.reduce((s, p) => s + (Math.log(p.loss) - Math.log(predict(line, floor, p.compute))) ** 2, 0);
}

const predict = (line: Line, floor: number, compute: number) => line.a * compute ** -line.alpha + floor;

/** Runs of one budget spend slightly different compute (a run stops on the step that passes it); budgets on a ladder are ≥ 2× apart. */
const SAME_BUDGET = 1.25;

/** The points grouped by budget, ascending; each budget's compute is its runs' geometric mean. */
function budgetsOf(points: readonly ScalingPoint[]): { compute: number; points: ScalingPoint[] }[] {
  const groups: ScalingPoint[][] = [];
  for (const p of [...points].sort((x, y) => x.compute - y.compute)) {
    const last = groups.at(-1);
    if (last?.[0] && p.compute <= last[0].compute * SAME_BUDGET) last.push(p);
    else groups.push([p]);
  }
  return groups.map((g) => ({ compute: Math.exp(g.reduce((s, p) => s + Math.log(p.compute), 0) / g.length), points: g }));
}

/**
 * Fit one architecture's ladder on one task. Needs at least two budgets and positive,
 * finite losses and costs; throws a RangeError naming what is missing otherwise.
 */
export function fitScaling(points: readonly ScalingPoint[]): ScalingFit {
  const bad = points.find((p) => !(p.loss > 0 && Number.isFinite(p.loss) && p.compute > 0 && Number.isFinite(p.compute)));
  if (bad)
    throw new RangeError(`a scaling fit needs positive, finite losses and costs; seed ${bad.seed} has loss ${bad.loss} at ${bad.compute}`);
  const budgets = budgetsOf(points);
  if (budgets.length < 2) throw new RangeError(`a scaling fit needs at least two budgets, got ${budgets.length}`);

  const n = points.length;
  const rss0 = rssOfLogL(points, 0);
  let floor = 0;
  let rss = rss0;
  let why: string;
  if (budgets.length < 3 || n < 4) {
    why = `log-linear: ${budgets.length} budgets and ${n} runs cannot pin a floor L∞`;
  } else {
    const sat = bestFloor(points);
    const df2 = n - 3;
    const f = sat.rssLogL > 0 ? (rss0 - sat.rssLogL) / (sat.rssLogL / df2) : rss0 > 0 ? Number.POSITIVE_INFINITY : 0;
    const p = Number.isFinite(f) ? 1 - fCdf(f, 1, df2) : 0;
    if (p < FLOOR_ALPHA && sat.floor > 0) {
      floor = sat.floor;
      rss = sat.rssLogL;
      why = `saturating: a floor L∞ improves the fit (F(1, ${df2}) = ${f.toFixed(2)}, p = ${p.toPrecision(2)})`;
    } else {
      why = `log-linear: a floor L∞ does not improve the fit significantly (F(1, ${df2}) = ${f.toFixed(2)}, p = ${p.toPrecision(2)}), so the budgets do not pin one`;
    }
  }

  const pooled = lineAt(points, floor);
  if (!pooled) throw new RangeError('a scaling fit needs at least two distinct budgets');
  const seeds = [...new Set(points.map((p) => p.seed))].sort((x, y) => x - y);
  const lines = seeds.flatMap((seed) => {
    const line = lineAt(
      points.filter((p) => p.seed === seed),
      floor,
    );
    return line ? [{ seed, ...line }] : [];
  });
  const alphas = lines.map((l) => l.alpha);
  const residuals = budgets.map(({ compute, points: at }) => {
    const r = at.reduce((sum, p) => sum + Math.log(p.loss) - Math.log(predict(pooled, floor, p.compute)), 0) / at.length;
    return { compute, meanLogResidual: r };
  });
  return {
    model: floor > 0 ? 'saturating' : 'log-linear',
    why,
    a: pooled.a,
    alpha: pooled.alpha,
    floor,
    alphaBySeed: oneSampleT(alphas.length ? alphas : [pooled.alpha]),
    lines,
    residuals,
    rss,
    points: n,
  };
}

/** The loss a quality figure stands for: itself when lower is better, 1 − q (an error rate) otherwise. */
export function lossOf(quality: number, higherIsBetter: boolean): number {
  return higherIsBetter ? 1 - quality : quality;
}

/** Whether a fit's loss falls with compute beyond seed noise: its exponent's interval over seeds lies above 0. */
export const fallsMeasurably = (fit: Pick<ScalingFit, 'alphaBySeed'>): boolean => (fit.alphaBySeed.lo ?? 0) > 0;

/**
 * The compute at which a fitted curve reaches `loss`: C = (a / (L − L∞))^(1/α); null where
 * the curve never gets there (at or below its floor, or a curve that does not fall) or only
 * past any representable compute (a nearly flat curve: α → 0 sends C to 0 or to infinity).
 */
export function computeFor(fit: Pick<ScalingFit, 'a' | 'alpha' | 'floor'>, loss: number): number | null {
  if (!(fit.alpha > 0) || !(loss > fit.floor)) return null;
  const c = (fit.a / (loss - fit.floor)) ** (1 / fit.alpha);
  return Number.isFinite(c) && c > 0 ? c : null;
}
