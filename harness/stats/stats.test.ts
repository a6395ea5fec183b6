import { describe, expect, it } from 'vitest';
import { makeRun } from '../../test/support/store.ts';
import { normalQuantile, tCdf, toleranceFactor, tQuantile, tTwoSidedP } from '../math/distributions.ts';
import { type CostReading, type RunRecord, runRecord } from '../results/record.ts';
import { costOnCurve, costToTargetAt, costToTargetOf, costToTargetOfRun, targetInForce } from './cost-to-target.ts';
import { type CostPair, pairedMultiplier } from './multiplier.ts';
import { roundEasier, suggestTarget, suggestToleranceTarget } from './targets.ts';
import { holm, oneSampleT, pairedT, tost, welchT } from './tests.ts';

const curve = (xs: number[], qs: number[]) => xs.map((x, i) => ({ x, quality: qs[i] as number }));
const reached = (cost: number): CostReading => ({ status: 'reached', cost });

describe('the t distribution (from jStat)', () => {
  it('matches the tabled quantiles statistics.md quotes and a symmetric CDF', () => {
    // jStat's inverse is good to ~1e-8 (t₀.₉₇₅,₄ = 2.7764451052 exactly, 2.7764450983 here): far below any printed figure
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.302652729, 7);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776445105, 7);
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262157163, 7);
    expect(tCdf(0, 5)).toBeCloseTo(0.5, 8);
    expect(tTwoSidedP(4.302652729, 2)).toBeCloseTo(0.05, 8);
  });
  it('refuses a degenerate df or probability with a clear error', () => {
    expect(() => tQuantile(0.975, 0)).toThrow(/degrees of freedom/);
    expect(() => tQuantile(1, 3)).toThrow(/in \(0, 1\)/);
  });
});

describe('one-sided normal tolerance factors (noncentral t)', () => {
  it('match the published tables (e.g. NIST/SEMATECH e-Handbook 7.2.6.3; Odeh and Owen)', () => {
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 6);
    expect(toleranceFactor(10, 0.99, 0.95)).toBeCloseTo(3.981, 3);
    expect(toleranceFactor(5, 0.99, 0.95)).toBeCloseTo(5.741, 3);
    expect(toleranceFactor(10, 0.95, 0.9)).toBeCloseTo(2.568, 3);
    expect(toleranceFactor(20, 0.9, 0.95)).toBeCloseTo(1.926, 3);
    expect(toleranceFactor(100, 0.99, 0.95)).toBeCloseTo(2.684, 3);
    expect(toleranceFactor(1000, 0.99, 0.95)).toBeCloseTo(2.4, 1); // past jStat's range: the approximation
    // more draws: a tighter bound, approaching the coverage quantile itself
    expect(toleranceFactor(1000, 0.99, 0.95)).toBeGreaterThan(normalQuantile(0.99));
    expect(toleranceFactor(1000, 0.99, 0.95)).toBeLessThan(toleranceFactor(10, 0.99, 0.95));
    expect(() => toleranceFactor(1, 0.99, 0.95)).toThrow(/at least 2 draws/);
  });
});

describe('cost-to-target on a curve', () => {
  it('an oscillating curve counts where it reaches the target for good, not its first crossing', () => {
    // on target at 2, off at 4, on again at 8 and after: the crossing between 4 and 8 counts
    const c = curve([0, 1, 2, 4, 8, 16], [0.1, 0.5, 0.9, 0.7, 0.9, 0.95]);
    const r = costOnCurve(c, 0.8, true);
    // halfway in quality between (4, 0.7) and (8, 0.9): halfway in log(cost), 4·√2
    expect(r.status).toBe('reached');
    expect(r.status === 'reached' && r.cost).toBeCloseTo(4 * Math.SQRT2, 12);
  });

  it('reads a lower-is-better metric the other way', () => {
    const c = curve([0, 10, 100, 1000], [1, 0.5, 0.2, 0.1]);
    const r = costOnCurve(c, 0.35, false);
    expect(r.status === 'reached' && r.cost).toBeCloseTo(10 * Math.sqrt(10), 9);
    expect(costOnCurve(c, 0.05, false)).toEqual({ status: 'not reached', spent: 1000 });
  });

  it('a target met at the first evaluation point is a bound at that point, not a figure', () => {
    const c = curve([0, 10, 20, 30], [0.1, 0.95, 0.96, 0.97]);
    expect(costOnCurve(c, 0.9, true)).toEqual({ status: 'bound', cost: 10 });
  });

  it('a curve that ends short of the target has not reached it, whatever it did before', () => {
    const c = curve([0, 10, 20, 30], [0.1, 0.95, 0.96, 0.85]);
    expect(costOnCurve(c, 0.9, true)).toEqual({ status: 'not reached', spent: 30 });
    expect(costOnCurve([], 0.9, true)).toEqual({ status: 'not reached', spent: 0 });
  });

  it('an exact hit at a point reads that point’s cost exactly', () => {
    expect(costOnCurve(curve([0, 10, 20, 40], [0, 0.5, 0.8, 0.9]), 0.8, true)).toEqual({ status: 'reached', cost: 20 });
  });

  it('reads every axis of a record, and says why joules are not measured', () => {
    const point = (flops: number, quality: number) => ({
      step: flops,
      flops,
      modelFlops: flops / 2,
      seconds: flops / 100,
      joules: null,
      trainLoss: null,
      quality,
      evalLoss: 0,
    });
    const record = {
      curve: [point(0, 0.1), point(100, 0.5), point(400, 0.9)],
      energy: { measured: false as const, reason: 'no RAPL counters readable' },
      task: { metric: { name: 'accuracy', unit: '', higherIsBetter: true } },
    } as unknown as Pick<RunRecord, 'curve' | 'energy' | 'task'>;
    const c = costToTargetOf(record, 0.7);
    expect(c.target).toBe(0.7);
    expect(c.executedFlops.status === 'reached' && c.executedFlops.cost).toBeCloseTo(200, 9);
    expect(c.modelFlops.status === 'reached' && c.modelFlops.cost).toBeCloseTo(100, 9);
    expect(c.seconds.status === 'reached' && c.seconds.cost).toBeCloseTo(2, 9);
    expect(c.joules).toEqual({ status: 'not measured', reason: 'energy not measured: no RAPL counters readable' });
  });
});

describe('seed-paired multipliers on the log scale', () => {
  const pairs = (dense: number[], arch: number[]): CostPair[] =>
    dense.map((d, i) => ({ seed: i, dense: reached(d), arch: reached(arch[i] as number) }));

  it('is the geometric mean of per-seed ratios with a t-interval on the logs', () => {
    // log ratios 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(0.975, 2) = 4.3027
    const dense = [Math.exp(0.1), Math.exp(0.2), Math.exp(0.3)].map((r) => 100 * r);
    const m = pairedMultiplier(pairs(dense, [100, 100, 100]));
    expect(m.kind).toBe('estimate');
    if (m.kind !== 'estimate') return;
    const half = (4.302652729 * 0.1) / Math.sqrt(3);
    expect(m.value).toBeCloseTo(Math.exp(0.2), 12);
    expect(m.lo).toBeCloseTo(Math.exp(0.2 - half), 9);
    expect(m.hi).toBeCloseTo(Math.exp(0.2 + half), 9);
  });

  it('includes dense’s own variance: the same architecture costs against noisy dense seeds widen the interval', () => {
    const steady = pairedMultiplier(pairs([200, 200, 200], [100, 100, 100]));
    const noisy = pairedMultiplier(pairs([100, 200, 400], [100, 100, 100]));
    if (steady.kind !== 'estimate') throw new Error(steady.kind);
    for (const x of [steady.value, steady.lo, steady.hi]) expect(x).toBeCloseTo(2, 12);
    expect(noisy.kind === 'estimate' && (noisy.hi as number) / (noisy.lo as number)).toBeGreaterThan(10);
  });

  it('never goes below zero where a linear interval on the ratios would', () => {
    const ratios = [0.1, 10, 1];
    const m = pairedMultiplier(pairs(ratios, [1, 1, 1]));
    expect(m.kind === 'estimate' && m.lo).toBeGreaterThan(0);
    // the linear interval over the same ratios goes negative
    const linear = oneSampleT(ratios);
    expect(linear.lo).toBeLessThan(0);
  });

  it('reports a censored seed as such: not reached gives an upper bound with the count', () => {
    const ps: CostPair[] = [
      { seed: 0, dense: reached(100), arch: reached(50) },
      { seed: 1, dense: reached(100), arch: reached(50) },
      { seed: 2, dense: reached(100), arch: { status: 'not reached', spent: 1000 } },
    ];
    const m = pairedMultiplier(ps);
    // logs: ln 2, ln 2, ln 0.1 (dense 100 ÷ more than 1000): at most their geometric mean
    expect(m).toMatchObject({ kind: 'bound', direction: 'at most', n: 3, archReached: 2, denseReached: 3 });
    expect(m.kind === 'bound' && m.value).toBeCloseTo(Math.exp((2 * Math.log(2) + Math.log(0.1)) / 3), 12);
  });

  it('a side on target at its first point gives a lower bound; bounds both ways give no figure', () => {
    const early: CostPair[] = [0, 1, 2].map((seed) => ({ seed, dense: reached(400), arch: { status: 'bound', cost: 100 } }));
    const m = pairedMultiplier(early);
    expect(m).toMatchObject({ kind: 'bound', direction: 'at least', archReached: 3 });
    expect(m.kind === 'bound' && m.value).toBeCloseTo(4, 12);
    const mixed: CostPair[] = [
      { seed: 0, dense: reached(400), arch: { status: 'bound', cost: 100 } },
      { seed: 1, dense: reached(400), arch: { status: 'not reached', spent: 1000 } },
    ];
    expect(pairedMultiplier(mixed)).toEqual({ kind: 'censored', n: 2, archReached: 1, denseReached: 2 });
    const neither: CostPair[] = [{ seed: 0, dense: { status: 'not reached', spent: 1 }, arch: { status: 'not reached', spent: 1 } }];
    expect(pairedMultiplier(neither)).toEqual({ kind: 'censored', n: 1, archReached: 0, denseReached: 0 });
  });

  it('passes "not measured" through with its reason', () => {
    const ps: CostPair[] = [{ seed: 0, dense: { status: 'not measured', reason: 'no counter' }, arch: reached(1) }];
    expect(pairedMultiplier(ps)).toEqual({ kind: 'not measured', reason: 'no counter' });
    expect(pairedMultiplier([])).toEqual({ kind: 'no pairs' });
  });
});

describe('differences, equivalence and Holm', () => {
  it('pairing removes the seeds’ shared noise that an unpaired test cannot', () => {
    // each seed shifts both sides alike; b is a + 0.01 ± 0.001
    const a = [0.9, 0.95, 0.85, 0.92, 0.88];
    const b = a.map((x, i) => x + 0.01 + [0.001, -0.001, 0, 0.0005, -0.0005][i]!);
    const paired = pairedT(b, a);
    const unpaired = welchT(b, a);
    expect(paired.effect).toBeCloseTo(0.01, 12);
    expect(paired.p).toBeLessThan(1e-5);
    expect(unpaired.effect).toBeCloseTo(0.01, 12);
    expect(unpaired.p).toBeGreaterThan(0.5);
  });

  it('a paired t-test has the textbook statistic, interval and p', () => {
    // d = 1, 2, 3, 4: mean 2.5, sd 1.29099, se 0.645497, t = 3.873 on 3 df, p = 0.030466 (scipy.stats.ttest_1samp)
    const t = pairedT([2, 4, 6, 8], [1, 2, 3, 4]);
    expect(t.effect).toBe(2.5);
    expect(t.se).toBeCloseTo(0.6454972, 6);
    expect(t.p).toBeCloseTo(0.030466, 5);
    expect(t.lo).toBeCloseTo(2.5 - 3.182446305 * 0.6454972, 6);
    expect(pairedT([1], [0])).toMatchObject({ effect: 1, p: null, lo: null });
    expect(() => pairedT([1, 2], [1])).toThrow(/pairs/);
  });

  it('TOST shows equal groups equivalent within the margin, and different ones not', () => {
    const equal = pairedT([0.951, 0.949, 0.952, 0.948, 0.95], [0.95, 0.95, 0.951, 0.949, 0.95]);
    const eq = tost(equal, 0.005);
    expect(eq.p).toBeLessThan(0.01);
    expect(eq.lo).toBeGreaterThan(-0.005);
    expect(eq.hi).toBeLessThan(0.005);
    const different = pairedT([0.96, 0.962, 0.958, 0.961, 0.959], [0.95, 0.95, 0.951, 0.949, 0.95]);
    expect(tost(different, 0.005).p).toBeGreaterThan(0.99);
    // a difference the test cannot rule out either way is neither equal nor different
    const noisy = pairedT([0.96, 0.94, 0.97, 0.93], [0.95, 0.95, 0.95, 0.95]);
    expect(tost(noisy, 0.005).p).toBeGreaterThan(0.05);
    expect(noisy.p).toBeGreaterThan(0.05);
  });

  it('Holm adjusts a known family step-down', () => {
    // sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max-accumulated 0.06
    expect(holm([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
    expect(holm([0.5, null, 0.9])).toEqual([1, null, 1]);
    expect(holm([0.01, 0.02])).toEqual([0.02, 0.02]);
    expect(holm([])).toEqual([]);
  });
});

describe('targets from dense runs', () => {
  const dense = (seed: number, qs: number[]) =>
    makeRun({ arch: 'dense', family: 'dense', tier: 'cpu', seed, curve: qs.map((q, i) => [(i + 1) * 1e6, q] as [number, number]) });

  it('rounds to 3 significant digits in the easier direction', () => {
    expect(roundEasier(0.95566, true)).toBe(0.955);
    expect(roundEasier(3.2801, false)).toBe(3.29);
    expect(roundEasier(0.007139, false)).toBe(0.00714);
    expect(roundEasier(0.947, true)).toBe(0.947);
  });

  it('is the worst quality any dense seed holds from a quarter of its budget on, so every seed reaches it for good', () => {
    // points at 1e6…8e6: from a quarter of the budget (2e6) seed 0 dips to 0.93, seed 1 holds 0.95; the 0.5s before count not
    const runs = [dense(0, [0.5, 0.96, 0.93, 0.95, 0.96, 0.96, 0.96, 0.96]), dense(1, [0.5, 0.96, 0.95, 0.97, 0.97, 0.97, 0.97, 0.97])];
    const s = suggestTarget(runs);
    expect(s).toEqual({ value: 0.93, raw: 0.93, seeds: [0, 1] });
    for (const r of runs) expect(costToTargetOf(r, (s as { value: number }).value).executedFlops.status).toBe('reached');
    expect(suggestTarget([])).toBeNull();
  });

  it('takes the protocol’s holdFrom: from half the budget, or the final quality alone', () => {
    const runs = [dense(0, [0.5, 0.96, 0.93, 0.95, 0.96, 0.96, 0.96, 0.96]), dense(1, [0.5, 0.96, 0.95, 0.97, 0.97, 0.94, 0.97, 0.98])];
    // from 4e6 on: seed 1 dips to 0.94 at 6e6; at the end alone, seed 0's 0.96 is the worst
    expect(suggestTarget(runs, 0.5)?.value).toBe(0.94);
    expect(suggestTarget(runs, 1)?.value).toBe(0.96);
  });

  it('the tolerance rule bounds the held qualities on the log of their distance from perfect, easier than the worst', () => {
    // held from a quarter on: error 1 − q of 0.07, 0.05, 0.06; log-normal bound with k(3, 0.9, 0.9)
    const runs = [
      dense(0, [0.5, 0.93, 0.93, 0.95, 0.96, 0.96, 0.96, 0.96]),
      dense(1, [0.5, 0.95, 0.95, 0.97, 0.97, 0.97, 0.97, 0.97]),
      dense(2, [0.5, 0.94, 0.94, 0.96, 0.96, 0.96, 0.96, 0.96]),
    ];
    const logs = [0.07, 0.05, 0.06].map(Math.log);
    const mean = (logs[0]! + logs[1]! + logs[2]!) / 3;
    const sd = Math.sqrt(logs.reduce((a, l) => a + (l - mean) ** 2, 0) / 2);
    const k = toleranceFactor(3, 0.9, 0.9);
    const s = suggestToleranceTarget(runs, 0.25, 0.9, 0.9);
    expect(s?.raw).toBeCloseTo(1 - Math.exp(mean + k * sd), 12);
    expect(s?.k).toBe(k);
    expect(s?.value).toBeLessThan(0.93); // easier than the worst seed's held 0.93
    expect(s?.value).toBeGreaterThan(0.5);
    for (const r of runs) expect(costToTargetOf(r, (s as { value: number }).value).executedFlops.status).toBe('reached');
    expect(suggestToleranceTarget(runs.slice(0, 1), 0.25, 0.9, 0.9)).toBeNull(); // one run has no spread
    // a perfect accuracy has no log distance: no bound, rather than a bound of 1
    expect(suggestToleranceTarget([...runs, dense(3, [0.5, 1, 1, 1, 1, 1, 1, 1])], 0.25, 0.9, 0.9)).toBeNull();
  });
});

describe('cost-to-target on the record', () => {
  const completed = makeRun({
    arch: 'dense',
    family: 'dense',
    tier: 'cpu',
    curve: [
      [1e6, 0.5],
      [1e7, 0.9],
      [2e7, 0.95],
    ],
  });

  it('is computed on read from the curve, and a stored figure is history only', () => {
    // a version-1 record that stored a figure against another target (the target in force when it ran)
    const stale = { ...completed, costToTarget: costToTargetOf(completed, 0.5) };
    expect(runRecord.safeParse(stale).success).toBe(true);
    expect(costToTargetAt(stale, 0.9).executedFlops).toEqual({ status: 'reached', cost: 1e7 });
    expect(costToTargetAt(stale, 0.9)).toEqual(costToTargetOf(completed, 0.9));
    const shown = costToTargetOfRun(stale);
    expect(shown.whenRun?.target).toBe(0.5);
    const inForce = targetInForce(completed.task.id, 'cpu');
    expect(inForce.value).not.toBeNull();
    expect(shown.now).toEqual(costToTargetOf(completed, inForce.value as number));
  });

  it('is not given for a failed run, nor for a tier without a target', () => {
    const failed = makeRun({ arch: 'dense', tier: 'cpu', status: 'diverged', curve: [[1e6, 0.5]] });
    expect(costToTargetOfRun(failed).now).toBeNull();
    expect(costToTargetOfRun(failed).why).toMatch(/did not complete/);
    const smoke = makeRun({ arch: 'dense', tier: 'smoke', curve: [[1e6, 0.5]] });
    expect(targetInForce(smoke.task.id, 'smoke').value).toBeNull();
    expect(costToTargetOfRun(smoke).now).toBeNull();
    expect(costToTargetOfRun(smoke).why).toMatch(/no target/);
  });
});
