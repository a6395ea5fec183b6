import { describe, expect, it } from 'vitest';
import {
  computeMultiplier,
  costToReach,
  geometricInterval,
  geometricMean,
  meanCurve,
  meanInterval,
  paretoFrontier,
  tQuantile975,
} from './stats.ts';

describe('tQuantile975', () => {
  it('matches scipy.stats.t.ppf(0.975, df)', () => {
    // reference values from scipy 1.x
    expect(tQuantile975(1)).toBeCloseTo(12.70620474, 6);
    expect(tQuantile975(2)).toBeCloseTo(4.30265273, 6);
    expect(tQuantile975(30)).toBeCloseTo(2.04227246, 6);
    expect(tQuantile975(31)).toBeCloseTo(2.03951345, 4);
    expect(tQuantile975(50)).toBeCloseTo(2.00855911, 4);
    expect(tQuantile975(200)).toBeCloseTo(1.97189622, 5);
  });
});

describe('meanInterval', () => {
  it('n = 1 has lo = hi = mean', () => {
    expect(meanInterval([3.5])).toEqual({ mean: 3.5, lo: 3.5, hi: 3.5, n: 1 });
  });
  it('uses the Student-t half-width', () => {
    // 1, 2, 3: mean 2, s = 1, t(2) = 4.30265273 → half = 4.30265273 / √3
    const i = meanInterval([1, 2, 3]);
    const half = 4.30265273 / Math.sqrt(3);
    expect(i.mean).toBe(2);
    expect(i.lo).toBeCloseTo(2 - half, 7);
    expect(i.hi).toBeCloseTo(2 + half, 7);
    expect(i.n).toBe(3);
  });
  it('refuses no values', () => {
    expect(() => meanInterval([])).toThrow();
  });
});

describe('geometric means', () => {
  it('is exp(mean(log))', () => {
    expect(geometricMean([1, 4, 16])).toBeCloseTo(4, 12);
    expect(geometricMean([2])).toBe(2);
  });
  it('is null for empty input or non-positive values', () => {
    expect(geometricMean([])).toBeNull();
    expect(geometricMean([1, 0])).toBeNull();
    expect(geometricMean([1, -2])).toBeNull();
  });
  it('combines intervals end by end', () => {
    const g = geometricInterval([
      { mean: 2, lo: 1, hi: 4, n: 3 },
      { mean: 8, lo: 4, hi: 16, n: 2 },
    ]);
    expect(g?.mean).toBeCloseTo(4, 12);
    expect(g?.lo).toBeCloseTo(2, 12);
    expect(g?.hi).toBeCloseTo(8, 12);
    expect(g?.n).toBe(2);
  });
  it('a lower end at or below 0 makes the combined lower end 0', () => {
    const g = geometricInterval([
      { mean: 2, lo: -1, hi: 5, n: 2 },
      { mean: 8, lo: 4, hi: 16, n: 3 },
    ]);
    expect(g?.lo).toBe(0);
    expect(g?.mean).toBeCloseTo(4, 12);
    expect(geometricInterval([{ mean: -1, lo: -2, hi: 0, n: 2 }])).toBeNull();
  });
});

describe('paretoFrontier', () => {
  const pts = [
    { cost: 1, quality: 0.5 }, // cheapest: on
    { cost: 2, quality: 0.8 }, // on
    { cost: 3, quality: 0.7 }, // dominated by (2, 0.8)
    { cost: 4, quality: 0.9 }, // on
    { cost: 4, quality: 0.85 }, // dominated by (4, 0.9)
    { cost: null, quality: 1 }, // no cost: never on
  ];
  it('higher is better', () => {
    expect(paretoFrontier(pts, true)).toEqual([true, true, false, true, false, false]);
  });
  it('lower is better flips the quality direction', () => {
    // with lower quality better, only the cheapest point with the lowest quality survives
    expect(paretoFrontier(pts, false)).toEqual([true, false, false, false, false, false]);
  });
  it('identical points are all on it', () => {
    expect(
      paretoFrontier(
        [
          { cost: 1, quality: 1 },
          { cost: 1, quality: 1 },
        ],
        true,
      ),
    ).toEqual([true, true]);
  });
});

describe('costToReach', () => {
  it('interpolates linearly in log cost', () => {
    // 0.5 at 1e8, 0.9 at 1e10: 0.7 is half-way in log → 1e9
    const c = [
      { x: 1e8, quality: 0.5 },
      { x: 1e10, quality: 0.9 },
    ];
    expect(costToReach(c, 0.7, true)).toBeCloseTo(1e9, 0);
  });
  it('lower-is-better', () => {
    const c = [
      { x: 10, quality: 4 },
      { x: 1000, quality: 2 },
    ];
    expect(costToReach(c, 3, false)).toBeCloseTo(100, 9);
    expect(costToReach(c, 1.9, false)).toBeNull();
  });
  it('first point already there → its cost; never there → null', () => {
    expect(costToReach([{ x: 5, quality: 1 }], 0.5, true)).toBe(5);
    expect(costToReach([{ x: 5, quality: 0.1 }], 0.5, true)).toBeNull();
  });
  it('takes the first crossing of a non-monotone curve', () => {
    const c = [
      { x: 1, quality: 0 },
      { x: 10, quality: 1 },
      { x: 100, quality: 0 },
      { x: 1000, quality: 1 },
    ];
    expect(costToReach(c, 1, true)).toBe(10);
  });
});

describe('meanCurve', () => {
  it('ends at the mean of the finals, holding each curve after its end', () => {
    const m = meanCurve([
      [
        { x: 1, quality: 0 },
        { x: 10, quality: 1 },
      ],
      [
        { x: 1, quality: 0 },
        { x: 12, quality: 3 },
      ],
    ]);
    expect(m.at(-1)).toEqual({ x: 12, quality: 2 });
    expect(m.map((p) => p.x)).toEqual([1, 10, 12]);
  });
  it("reads each curve log-linearly at the others' points, from the latest first point", () => {
    const m = meanCurve([
      [
        { x: 1, quality: 0 },
        { x: 100, quality: 1 },
      ],
      [
        { x: 10, quality: 0 },
        { x: 1000, quality: 2 },
      ],
    ]);
    expect(m.map((p) => p.x)).toEqual([10, 100, 1000]);
    expect(m[0]?.quality).toBeCloseTo(0.25, 12); // (0.5 + 0) / 2
    expect(m[1]?.quality).toBeCloseTo(1, 12); // (1 + 1) / 2
    expect(m[2]?.quality).toBeCloseTo(1.5, 12); // (1 held + 2) / 2
  });
});

describe('computeMultiplier', () => {
  const dense = [
    {
      curve: [
        { x: 1e8, quality: 0.5 },
        { x: 2.5e8, quality: 0.7 },
        { x: 1e9, quality: 0.9 },
      ],
      final: 0.9,
    },
  ];
  it('dense reaches 0.9 at 1e9, the architecture at 2.5e8 → 4', () => {
    const arch = [
      { x: 1e8, quality: 0.6 },
      { x: 2.5e8, quality: 0.9 },
      { x: 1e9, quality: 0.95 },
    ];
    const r = computeMultiplier({ dense, runs: [arch], higherIsBetter: true });
    expect(r.note).toBeNull();
    expect(r.value?.mean).toBeCloseTo(4, 10);
    expect(r.value?.n).toBe(1);
  });
  it('averages per seed with a t-interval', () => {
    const a = [{ x: 2.5e8, quality: 0.9 }];
    const b = [{ x: 5e8, quality: 0.9 }];
    const r = computeMultiplier({ dense, runs: [a, b], higherIsBetter: true });
    // per seed 4 and 2
    expect(r.value?.mean).toBeCloseTo(3, 10);
    const half = (12.70620474 * Math.SQRT2) / Math.sqrt(2);
    expect(r.value?.hi).toBeCloseTo(3 + half, 5);
  });
  it('dense target is the mean of dense finals', () => {
    const d2 = [
      {
        curve: [
          { x: 1e8, quality: 0.5 },
          { x: 1e9, quality: 0.8 },
        ],
        final: 0.8,
      },
      {
        curve: [
          { x: 1e8, quality: 0.5 },
          { x: 1e9, quality: 1.0 },
        ],
        final: 1.0,
      },
    ];
    // averaged dense curve: 0.5 at 1e8, 0.9 at 1e9 → reaches 0.9 at 1e9
    const arch = [
      { x: 1e8, quality: 0.5 },
      { x: 1e10, quality: 1.3 },
    ]; // 0.9 half-way in log → 1e9
    const r = computeMultiplier({ dense: d2, runs: [arch], higherIsBetter: true });
    expect(r.value?.mean).toBeCloseTo(1, 9);
  });
  it('lower-is-better', () => {
    const d = [
      {
        curve: [
          { x: 10, quality: 4 },
          { x: 1000, quality: 2 },
        ],
        final: 2,
      },
    ];
    const arch = [
      { x: 10, quality: 4 },
      { x: 100, quality: 2 },
    ];
    expect(computeMultiplier({ dense: d, runs: [arch], higherIsBetter: false }).value?.mean).toBeCloseTo(10, 9);
  });
  it('null with a note: no dense runs, never reached, some seeds never reached', () => {
    const never = [{ x: 1e9, quality: 0.8 }];
    const ok = [{ x: 1e9, quality: 0.95 }];
    expect(computeMultiplier({ dense: [], runs: [ok], higherIsBetter: true }).note).toMatch(/no completed dense runs/);
    const n1 = computeMultiplier({ dense, runs: [never], higherIsBetter: true });
    expect(n1.value).toBeNull();
    expect(n1.note).toMatch(/never reached dense's final quality \(0\.9\)/);
    const n2 = computeMultiplier({ dense, runs: [never, ok], higherIsBetter: true });
    expect(n2.value).toBeNull();
    expect(n2.note).toMatch(/1 of 2 seeds/);
  });
  it('dense itself is the baseline, 1 by definition', () => {
    const r = computeMultiplier({ dense, runs: [dense[0]!.curve], higherIsBetter: true, isBaseline: true });
    expect(r.value).toEqual({ mean: 1, lo: 1, hi: 1, n: 1 });
  });
});
