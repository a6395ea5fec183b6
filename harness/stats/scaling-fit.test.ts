/**
 * Scaling fits on constructed ladders with known answers: a pure power law is fitted
 * log-linear with its exponent inside the seeds' interval, a curve with a floor is fitted
 * saturating with that floor, too few budgets say so, and the inverse returns the budget.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { computeFor, fitScaling, lossOf, type ScalingPoint } from './scaling-fit.ts';

const BUDGETS = [1e10, 2e10, 4e10, 8e10];

/** Five seeds of L(C) = a·C^(−α) + floor, each with its own multiplicative noise of size `noise`. */
function ladder(a: number, alpha: number, floor: number, noise: number, budgets = BUDGETS): ScalingPoint[] {
  const rng = seedrandom('scaling-fit');
  return [0, 1, 2, 3, 4].flatMap((seed) =>
    budgets.map((compute) => ({ seed, compute, loss: (a * compute ** -alpha + floor) * Math.exp(noise * (2 * rng() - 1)) })),
  );
}

describe('fitScaling', () => {
  it('fits a pure power law log-linear, its exponent inside the interval over seeds', () => {
    const fit = fitScaling(ladder(2e3, 0.3, 0, 0.01));
    expect(fit.model).toBe('log-linear');
    expect(fit.floor).toBe(0);
    expect(fit.alpha).toBeCloseTo(0.3, 1);
    expect(fit.alphaBySeed.n).toBe(5);
    expect(fit.alphaBySeed.lo).not.toBeNull();
    expect(fit.alphaBySeed.lo as number).toBeLessThan(0.3);
    expect(fit.alphaBySeed.hi as number).toBeGreaterThan(0.3);
    for (const r of fit.residuals) expect(Math.abs(r.meanLogResidual)).toBeLessThan(0.02);
    expect(fit.why).toMatch(/does not improve the fit significantly/);
  });

  it('finds a floor the budgets pin, and its exponent', () => {
    const fit = fitScaling(ladder(3e4, 0.5, 0.2, 0.002, [1e9, 4e9, 1.6e10, 6.4e10]));
    expect(fit.model).toBe('saturating');
    expect(fit.floor).toBeGreaterThan(0.15);
    expect(fit.floor).toBeLessThan(0.25);
    expect(fit.alphaBySeed.effect).toBeGreaterThan(0.35);
    expect(fit.alphaBySeed.effect).toBeLessThan(0.65);
    expect(fit.why).toMatch(/^saturating: .*p = /);
    // the same curve on two of those budgets: no floor can be tried, so a straight line
    const straight = fitScaling(ladder(3e4, 0.5, 0.2, 0.002, [1e9, 4e9]));
    expect(straight.model).toBe('log-linear');
  });

  it('groups runs of one budget that spend slightly different compute (a routed step’s FLOPs vary)', () => {
    const rng = seedrandom('jitter');
    const jittered = ladder(2e3, 0.3, 0, 0.01).map((p) => ({ ...p, compute: p.compute * (1 + 0.04 * rng()) }));
    expect(new Set(jittered.map((p) => p.compute)).size).toBe(20);
    const fit = fitScaling(jittered);
    expect(fit.residuals).toHaveLength(4);
    expect(fit.residuals[0]?.compute).toBeGreaterThan(1e10);
    expect(fit.residuals[0]?.compute).toBeLessThan(1.04e10);
    expect(fit.alpha).toBeCloseTo(0.3, 1);
  });

  it('says when the budgets are too few to try a floor, and refuses what cannot be fitted', () => {
    const two = fitScaling(ladder(2e3, 0.3, 0.1, 0.01, [1e10, 8e10]));
    expect(two.model).toBe('log-linear');
    expect(two.why).toMatch(/2 budgets and 10 runs cannot pin a floor/);
    expect(() => fitScaling(ladder(2e3, 0.3, 0, 0.01, [1e10]))).toThrow(/at least two budgets/);
    expect(() => fitScaling([{ seed: 0, compute: 1e10, loss: 0 }])).toThrow(/seed 0 has loss 0/);
  });

  it('inverts a fit: the compute at which the curve reaches a loss, none at or below its floor', () => {
    const fit = { a: 2e3, alpha: 0.3, floor: 0.1 };
    const c = computeFor(fit, 2e3 * 4e10 ** -0.3 + 0.1);
    expect(c).not.toBeNull();
    expect(Math.log(c as number)).toBeCloseTo(Math.log(4e10), 8);
    expect(computeFor(fit, 0.1)).toBeNull();
    expect(computeFor({ ...fit, alpha: 0 }, 1)).toBeNull();
    // a nearly flat curve (α = 0.001) puts other losses beyond any representable compute, or below any
    expect(computeFor({ a: 1, alpha: 1e-3, floor: 0 }, 0.1)).toBeNull();
    expect(computeFor({ a: 1, alpha: 1e-3, floor: 0 }, 10)).toBeNull();
  });

  it('reads an accuracy as its error rate and a loss as itself', () => {
    expect(lossOf(0.93, true)).toBeCloseTo(0.07, 12);
    expect(lossOf(2.1, false)).toBe(2.1);
  });
});
