import { describe, expect, it } from 'vitest';
import { noTrend, notEstimable, rungMeanSlope } from './trend.ts';

/** Seeds 0–4 on four rungs (x = log₂ share: −3 … 0), y = slope·x + a seed offset + a small wobble. */
function ladder(slope: number, seedOffset: (s: number) => number, wobble: (s: number, x: number) => number) {
  return [0, 1, 2, 3, 4].flatMap((seed) => [-3, -2, -1, 0].map((x) => ({ seed, x, y: slope * x + seedOffset(seed) + wobble(seed, x) })));
}

describe('the trend fitted on rung means', () => {
  it('recovers the slope; a seed offset shared across rungs does not enter its error', () => {
    const pts = ladder(
      -0.1,
      (s) => 0.5 * s,
      (s, x) => 0.001 * Math.sin(3 * s + 7 * x),
    );
    const fit = rungMeanSlope(pts);
    expect(fit?.slope.effect).toBeCloseTo(-0.1, 3);
    // the offsets (0 … 2 in log units) would swamp a pooled fit; paired by seed they cancel
    expect(fit?.slope.se).toBeLessThan(0.005);
    expect(fit?.slope.p).toBeLessThan(0.001);
    expect(fit?.rungs).toBe(4);
    expect(fit?.seeds).toBe(5);
  });

  it('takes the seeds’ own slopes as replicates: seeds that disagree widen the interval, though the rung means sit on a line', () => {
    // seed slopes −0.3 … +0.3 around 0: the rung means are exactly linear (slope 0), the seeds are not
    const pts = [0, 1, 2, 3, 4].flatMap((seed) => [-3, -2, -1, 0].map((x) => ({ seed, x, y: (seed - 2) * 0.15 * x })));
    const fit = rungMeanSlope(pts);
    expect(fit?.slope.effect).toBeCloseTo(0, 10);
    expect(fit?.seFrom).toBe('seed slopes');
    expect(fit?.slope.se).toBeGreaterThan(0.05);
    expect(fit?.slope.p).toBeGreaterThan(0.5);
  });

  it('takes the rung means’ residuals where curvature shared by every seed is larger', () => {
    const pts = ladder(
      0,
      () => 0,
      (_s, x) => 0.2 * (x + 1.5) ** 2,
    );
    const fit = rungMeanSlope(pts);
    expect(fit?.seFrom).toBe('rung residuals');
    expect(fit?.slope.df).toBe(2);
  });

  it('shows "no trend" by TOST only when the interval lies inside the per-doubling margin', () => {
    const flat = rungMeanSlope(
      ladder(
        0,
        (s) => s,
        (s, x) => 0.002 * Math.cos(5 * s + x),
      ),
    );
    const steep = rungMeanSlope(
      ladder(
        0.2,
        (s) => s,
        (s, x) => 0.002 * Math.cos(5 * s + x),
      ),
    );
    // seeds' slopes spread ±0.2 around 0
    const noisy = rungMeanSlope(
      ladder(
        0,
        (s) => s,
        (s, x) => (s - 2) * 0.1 * x,
      ),
    );
    if (!flat || !steep || !noisy) throw new Error('no fit');
    expect(noTrend(flat, 1.1).p).toBeLessThan(0.05);
    expect(noTrend(steep, 1.1).p).toBeGreaterThan(0.5);
    // no slope to speak of, but too noisy to show there is none: not equivalence
    expect(Math.abs(noisy.slope.effect)).toBeLessThan(Math.log(1.1));
    expect(noTrend(noisy, 1.1).p).toBeGreaterThan(0.05);
  });

  it('needs two rungs', () => {
    expect(rungMeanSlope([{ seed: 0, x: 0, y: 1 }])).toBeNull();
  });
});

describe('the not-estimable rule', () => {
  it('refuses an interval spanning more than two orders of magnitude, keeps one that does not', () => {
    expect(notEstimable(3.3e-8, 2.2e10)).toMatch(/not estimable/);
    expect(notEstimable(0.5, 51)).toMatch(/not estimable/);
    expect(notEstimable(0.5, 49)).toBeNull();
    expect(notEstimable(null, 3)).toBeNull();
  });
});
