/**
 * The fits on synthetic observations drawn from known laws: they recover the coefficients,
 * a flat law is shown equivalent by TOST, noise is inconclusive with its minimum detectable
 * effect, and the same inputs give the same intervals.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../tasks/random.ts';
import { fitClark, fitGranularity, leastSquares, routerGap, verdictOf } from './fit.ts';
import type { Observation } from './observations.ts';
import { gaussian, granularityWorld } from './synthetic.ts';

const WIDTHS = [32, 64, 128];
const EXPERTS = [1, 2, 4, 8, 16, 32];
const N = (d: number) => 24 * d * d + 6000; // a stand-in for the active parameters at width d
const SEEDS = 5;

/** Observations of one router (E > 1) and the shared control (E = 1) from log L = a·log N + b·log E + c·log N·log E + d + noise. */
function clarkWorld(law: { a: number; b: number; c: number; d: number }, noise: number, router = 'switch-top1', tag = 'x'): Observation[] {
  const random = rng('synthetic', tag, router, noise);
  const out: Observation[] = [];
  for (const width of WIDTHS) {
    for (const experts of EXPERTS) {
      for (let seed = 0; seed < SEEDS; seed++) {
        const n = N(width);
        const logL =
          law.a * Math.log(n) + law.b * Math.log(experts) + law.c * Math.log(n) * Math.log(experts) + law.d + noise * gaussian(random);
        out.push({
          tier: 'cpu',
          arch: experts === 1 ? 'dense-block' : router,
          routers: experts === 1 ? ['hash', 'switch-top1'] : [router],
          experts,
          granularity: 1,
          width,
          activeParams: n + (experts > 1 ? 2 * width * experts : 0),
          totalParams: n * experts,
          seed,
          loss: Math.exp(logL),
          quality: Math.exp(logL) / Math.LN2,
          executedFlops: 6e11,
          seconds: 100,
          hardwareClass: 'test',
        });
      }
    }
  }
  return out;
}

describe('least squares', () => {
  it('solves an exact system and refuses a singular one', () => {
    const X = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    expect(leastSquares(X, [2, 3, 5])?.map((x) => Number(x.toFixed(9)))).toEqual([2, 3]);
    expect(
      leastSquares(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toBeNull();
  });
});

describe("Clark et al.'s bilinear law", () => {
  const law = { a: -0.07, b: -0.12, c: 0.008, d: 2.2 };

  it('recovers the coefficients of a known law, with intervals that cover them', () => {
    const fit = fitClark(clarkWorld(law, 0.004), 'switch-top1', 'cpu', 400);
    expect(fit).not.toBeNull();
    if (!fit) return;
    for (const k of ['a', 'b', 'c'] as const) {
      expect(fit[k].value, k).toBeCloseTo(law[k], 2);
      expect(fit[k].lo, k).toBeLessThanOrEqual(law[k]);
      expect(fit[k].hi, k).toBeGreaterThanOrEqual(law[k]);
    }
    const meanLogN = WIDTHS.map((w) => Math.log(N(w))).reduce((s, x) => s + x, 0) / WIDTHS.length;
    expect(fit.perDoublingE.value).toBeCloseTo((law.b + law.c * meanLogN) * Math.LN2, 3);
    expect(verdictOf(fit.perDoublingE, 0.007)).toEqual({ kind: 'effect', direction: 'negative' });
    expect(verdictOf(fit.interactionPerDoubling, 0.001)).toEqual({ kind: 'effect', direction: 'positive' });
    // EPC: N̄/N = E^((b + c·log N)/a) > 1 where routing helps
    const e32 = fit.epc.find((p) => p.width === 32 && p.experts === 32);
    expect(e32?.multiplier.value).toBeGreaterThan(1);
    expect(fit.cells).toHaveLength(WIDTHS.length * EXPERTS.length);
    expect(Math.max(...fit.cells.map((c) => Math.abs(c.residual)))).toBeLessThan(0.01);
  });

  it('a flat law (no E effect, no interaction) is shown equivalent by TOST against the margin', () => {
    const fit = fitClark(clarkWorld({ a: -0.07, b: 0, c: 0, d: 2.2 }, 0.002), 'switch-top1', 'cpu', 400);
    expect(fit && verdictOf(fit.perDoublingE, 0.007).kind).toBe('no effect');
  });

  it('noise without a law is inconclusive, and says the smallest effect it could have seen', () => {
    const fit = fitClark(clarkWorld({ a: -0.07, b: 0, c: 0, d: 2.2 }, 0.15), 'switch-top1', 'cpu', 400);
    const v = fit && verdictOf(fit.perDoublingE, 0.007);
    expect(v?.kind).toBe('inconclusive');
    if (v?.kind === 'inconclusive') expect(v.mde).toBeGreaterThan(0.007);
  });

  it('a law where loss rises with E comes out positive (so the comparison with the paper can disagree)', () => {
    const fit = fitClark(clarkWorld({ a: -0.07, b: 0.05, c: 0, d: 2.2 }, 0.003), 'switch-top1', 'cpu', 300);
    expect(fit && verdictOf(fit.perDoublingE, 0.007)).toEqual({ kind: 'effect', direction: 'positive' });
  });

  it('is deterministic: the same observations give the same intervals', () => {
    const obs = clarkWorld(law, 0.01);
    expect(fitClark(obs, 'switch-top1', 'cpu', 200)).toEqual(fitClark(obs, 'switch-top1', 'cpu', 200));
  });

  it('needs two widths and two expert counts', () => {
    const obs = clarkWorld(law, 0.01).filter((o) => o.width === 64);
    expect(fitClark(obs, 'switch-top1', 'cpu', 50)).toBeNull();
  });
});

describe('router gap', () => {
  it('finds hash above a learned router when its loss is higher, and nothing when they are the same', () => {
    const learned = clarkWorld({ a: -0.07, b: -0.1, c: 0, d: 2.2 }, 0.003, 'switch-top1');
    const worse = clarkWorld({ a: -0.07, b: -0.05, c: 0, d: 2.2 }, 0.003, 'hash', 'h');
    const gap = routerGap([...learned, ...worse], 'hash', 'switch-top1', 'cpu', 300);
    expect(gap && verdictOf(gap, 0.007)).toEqual({ kind: 'effect', direction: 'positive' });
    const same = clarkWorld({ a: -0.07, b: -0.1, c: 0, d: 2.2 }, 0.002, 'hash', 's');
    const none = routerGap([...learned, ...same], 'hash', 'switch-top1', 'cpu', 300);
    expect(none && verdictOf(none, 0.007).kind).toBe('no effect');
  });
});

describe("Krajewski et al.'s granularity term", () => {
  it('recovers the slope and finds the best G; a flat term is equivalent, noise inconclusive', () => {
    const fit = fitGranularity(granularityWorld(-0.02, 0.002), 'switch-top1', 'cpu', 400);
    expect(fit?.s.value).toBeCloseTo(-0.02, 2);
    expect(fit?.bestG).toBe(8);
    expect(fit && verdictOf(fit.perDoublingG, 0.007)).toEqual({ kind: 'effect', direction: 'negative' });
    const flat = fitGranularity(granularityWorld(0, 0.002), 'switch-top1', 'cpu', 400);
    expect(flat && verdictOf(flat.perDoublingG, 0.007).kind).toBe('no effect');
    const noisy = fitGranularity(granularityWorld(0, 0.1), 'switch-top1', 'cpu', 400);
    expect(noisy && verdictOf(noisy.perDoublingG, 0.007).kind).toBe('inconclusive');
  });
});
