/**
 * The front page's cost views (lib/curves.ts) on hand-made records whose answers are
 * known: mean curves matched by step, the frontier staircase, cost-to-target through the
 * findings' own statistics, and the performance profile over common tasks only.
 */
import { describe, expect, it } from 'vitest';
import { constantsOf, multiplierOf } from '../harness/findings/analysis.ts';
import { makeRun } from '../test/support/store.ts';
import { curveFrontier, downsample, meanCurveOf, performanceProfile, profileScore, rho, TAU_MAX, targetTable } from './lib/curves.ts';

// parity's cpu-tier target, whatever it is set to: the hand-made curves below are placed around it
const TARGET = constantsOf('parity', 'cpu')?.target ?? Number.NaN;
const run = (arch: string, seed: number, curve: [number, number][], task = 'parity') =>
  makeRun({ arch, seed, curve, task, tier: 'cpu', family: arch === 'dense' ? 'dense' : 'moe' });

describe('mean curves', () => {
  it('matches seeds by evaluation index, averages quality, and clips accuracy bands to [0, 1]', () => {
    const runs = [
      run('a', 0, [
        [1e8, 0.9],
        [1e9, 0.999],
      ]),
      run('a', 1, [
        [1e8, 0.7],
        [1e9, 0.95],
      ]),
    ];
    const pts = meanCurveOf(runs, 'executedFlops', 24);
    if (typeof pts === 'string') throw new Error(pts);
    expect(pts).toHaveLength(2);
    expect((pts[0]?.x ?? 0) / 1e8).toBeCloseTo(1, 12);
    expect((pts[1]?.x ?? 0) / 1e9).toBeCloseTo(1, 12);
    expect(pts[0]?.y).toBeCloseTo(0.8, 12);
    expect(pts[1]?.hi).toBe(1); // the t-interval would pass 1
    expect(pts[0]?.lo).toBe(0); // and 0
  });

  it('matches by index when seeds evaluate at different steps (a routed step’s FLOPs vary)', () => {
    const a = run('a', 0, [
      [1e8, 0.5],
      [1e9, 0.9],
    ]);
    const b = run('a', 1, [
      [1.1e8, 0.7],
      [1.05e9, 0.95],
    ]);
    const shifted = { ...b, curve: b.curve.map((p, i) => ({ ...p, step: p.step + 3 * i + 1 })) };
    const pts = meanCurveOf([a, shifted], 'executedFlops', 24);
    if (typeof pts === 'string') throw new Error(pts);
    expect(pts).toHaveLength(2);
    expect(pts[1]?.y).toBeCloseTo(0.925, 12);
  });

  it('says why there is no curve on joules when energy was not measured', () => {
    const runs = [run('a', 0, [[1e9, 0.9]])];
    expect(meanCurveOf(runs, 'joules', 24)).toMatch(/energy not measured/);
  });

  it('downsamples to at most n points, keeping both ends', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const d = downsample(xs, 10);
    expect(d).toHaveLength(10);
    expect(d[0]).toBe(0);
    expect(d.at(-1)).toBe(99);
  });

  it('the frontier is the best quality at or below each cost, held to the largest cost', () => {
    const curves = [
      {
        name: 'a',
        family: 'moe' as const,
        seeds: 1,
        points: [
          { x: 1, y: 0.5, lo: 0.5, hi: 0.5 },
          { x: 10, y: 0.6, lo: 0.6, hi: 0.6 },
        ],
      },
      {
        name: 'b',
        family: 'moe' as const,
        seeds: 1,
        points: [
          { x: 2, y: 0.7, lo: 0.7, hi: 0.7 },
          { x: 20, y: 0.65, lo: 0.65, hi: 0.65 },
        ],
      },
    ];
    expect(curveFrontier(curves, true)).toEqual([
      { x: 1, y: 0.5, name: 'a' },
      { x: 2, y: 0.7, name: 'b' },
      { x: 20, y: 0.7, name: 'b' },
    ]);
  });
});

describe('cost to target', () => {
  const dense = [0, 1, 2].map((s) =>
    run('dense', s, [
      [1e8, 0.5],
      [1e9, TARGET + 0.005 + s * 0.01],
    ]),
  );
  const fast = [0, 1, 2].map((s) =>
    run('fast', s, [
      [1e8, 0.6],
      [4e8, TARGET + 0.015],
      [1e9, TARGET + 0.025],
    ]),
  );
  const half = [0, 1].map((s) =>
    run('half', s, [
      [1e8, 0.5],
      [1e9, s === 0 ? TARGET + 0.005 : TARGET - 0.055],
    ]),
  );

  it('ranks by cost to target, counts seeds that reached it, and takes the multiplier from the findings code', () => {
    const t = targetTable([...dense, ...fast, ...half], 'parity', 'cpu', 'executedFlops');
    expect(t?.target).toBe(TARGET);
    expect(t?.rows.map((r) => [r.name, r.rank, r.reached, r.n])).toEqual([
      ['fast', 1, 3, 3],
      ['dense', 2, 3, 3],
      ['half', null, 1, 2],
    ]);
    const f = t?.rows[0];
    expect(f?.multiplier).toEqual(multiplierOf(dense, fast, TARGET, 'executedFlops'));
    expect(f?.multiplier?.kind).toBe('estimate');
    expect(t?.rows[1]?.multiplier).toBeNull(); // dense against itself
    expect(t?.rows[2]?.summary.kind).toBe('counts');
  });

  it('a tier without a target says so instead of a figure', () => {
    const smoke = makeRun({ arch: 'dense', seed: 0, task: 'parity', tier: 'smoke', curve: [[1e9, 0.99]] });
    const t = targetTable([smoke], 'parity', 'smoke', 'executedFlops');
    expect(t?.target).toBeNull();
    expect(t?.rows[0]?.summary).toMatchObject({ kind: 'not measured' });
    expect(t?.multiplierNote).toMatch(/no target/);
  });
});

describe('performance profile', () => {
  it('AlgoPerf’s score is the area under ρ(τ) on [1, τmax] over τmax − 1', () => {
    const ratios = [1, 1.5, 3, Number.POSITIVE_INFINITY];
    // numeric integral of the step function
    let area = 0;
    const steps = 30_000;
    for (let i = 0; i < steps; i++) area += rho(ratios, 1 + ((i + 0.5) * (TAU_MAX - 1)) / steps);
    expect(profileScore(ratios)).toBeCloseTo(area / steps, 4);
    expect(profileScore([1, 1])).toBe(1);
  });

  it('counts only tasks every architecture completed, and says which were left out', () => {
    const recs = [
      run('dense', 0, [
        [1e8, 0.5],
        [1e9, 0.96],
      ]),
      run('fast', 0, [
        [1e8, 0.5],
        [5e8, 0.96],
        [1e9, 0.97],
      ]),
      // only dense ran mnist: a mean over it would compare different sets of tasks
      run('dense', 0, [[1e9, 0.99]], 'mnist'),
    ];
    const p = performanceProfile(recs, 'cpu', 'executedFlops');
    expect(p.tasks).toEqual(['parity']);
    expect(p.excluded).toEqual([{ task: 'mnist', why: 'no completed run of fast' }]);
    const fast = p.archs.find((a) => a.name === 'fast');
    const dense = p.archs.find((a) => a.name === 'dense');
    expect(fast?.ratios).toEqual([1]);
    expect(fast?.score).toBe(1);
    expect(dense?.ratios[0]).toBeGreaterThan(1);
    expect(p.archs[0]?.name).toBe('fast');
  });

  it('leaves out a task whose cheapest cost is only a bound (on target at the first evaluation)', () => {
    const early = (arch: string) =>
      run(arch, 0, [
        [1e8, 0.97],
        [1e9, 0.98],
      ]);
    const p = performanceProfile([early('dense'), early('fast')], 'cpu', 'executedFlops');
    expect(p.tasks).toEqual([]);
    expect(p.excluded[0]?.task).toBe('parity');
    expect(p.excluded[0]?.why).toMatch(/bound/);
  });
});
