import { describe, expect, it } from 'vitest';
import { BPC, makeRun, renamedRun } from '../../test/support/store.ts';
import type { RunRecord } from '../results/record.ts';
import { LADDER } from '../tasks/ladder.ts';
import { ladderTasks, PLACEBO_NAME, scalingOf, scalingStudy } from './scaling.ts';
import { scalingSection } from './scaling-text.ts';

const BUDGET = 1e12;

/** Seed noise that is the same at every rung of a seed (its data order), so pairs cancel it. */
const seedNoise = (seed: number) => 1 + 0.02 * Math.sin(seed * 1.7);
/** Small per-run noise, different for every architecture, so pairs keep some spread. */
const runNoise = (arch: string, seed: number, share: number) => 1 + 0.004 * Math.cos(seed * 3.1 + share * 11 + arch.length * 5.3);

/** A ladder whose loss follows L = a·C^(−alpha), per seed, on every rung (cpu included). */
function ladder(arch: string, a: number, alpha: number, seeds: readonly number[], family: 'dense' | 'moe' = 'moe'): RunRecord[] {
  return LADDER.flatMap((rung) =>
    seeds.map((seed) => {
      const c = BUDGET * rung.share;
      const loss = a * c ** -alpha * seedNoise(seed) * runNoise(arch, seed, rung.share);
      return makeRun({ arch, family, task: 'charlm', metric: BPC, tier: rung.tier, seed, curve: [[c, loss]] });
    }),
  );
}

const FIVE = [0, 1, 2, 3, 4];
/** protocol v1's trend rules, written out so the test does not move when the protocol does */
const RULES = { perDoubling: 1.1, alpha: 0.05, power: 0.8 };
const TEN = [...FIVE, 5, 6, 7, 8, 9];

describe('the scaling study on constructed ladders', () => {
  // dense: α = 0.1; "steeper" gains on dense (α = 0.15, equal at the smallest rung); "parallel" is 10% better everywhere
  const a = 2 * (BUDGET / 8) ** 0.1;
  const records = [
    // dense-block is the reference; dense (ten seeds) the placebo's
    ...ladder('dense-block', a, 0.1, FIVE, 'dense'),
    ...ladder('dense', a, 0.1, TEN, 'dense'),
    ...ladder('steeper', 2 * (BUDGET / 8) ** 0.15, 0.15, FIVE),
    ...ladder('parallel', 0.9 * a, 0.1, FIVE),
    // noise the study must leave out: another tier, a failed run
    makeRun({ arch: 'dense', family: 'dense', task: 'charlm', metric: BPC, tier: 'smoke', seed: 0, curve: [[1e9, 9]] }),
    makeRun({ arch: 'parallel', task: 'charlm', metric: BPC, tier: 'cpu-half', seed: 7, status: 'diverged', curve: [[1e9, 9]] }),
  ];
  const study = scalingStudy(records, ['charlm'], RULES)[0];
  if (!study) throw new Error('no study');
  const arch = (name: string) => {
    const found = study.archs.find((x) => x.arch === name);
    if (!found) throw new Error(`no ${name}`);
    return found;
  };

  it('finds the task and every rung, smallest first', () => {
    expect(ladderTasks(records)).toEqual(['charlm']);
    expect(study.tiers).toEqual(['cpu-eighth', 'cpu-quarter', 'cpu-half', 'cpu']);
    expect(arch('dense-block').rungs.map((r) => r.points.length)).toEqual([5, 5, 5, 5]);
  });

  it('recovers each exponent within its interval', () => {
    for (const [name, alpha] of [
      ['dense', 0.1],
      ['steeper', 0.15],
      ['parallel', 0.1],
    ] as const) {
      const fit = arch(name).fit;
      expect(fit?.alpha).toBeCloseTo(alpha, 2);
      expect(fit?.alphaBySeed.lo).toBeLessThan(alpha);
      expect(fit?.alphaBySeed.hi).toBeGreaterThan(alpha);
    }
  });

  it('reads a constant 0.9 loss ratio as 0.9^(−1/α) ≈ 2.9× dense’s compute at every rung, with no trend', () => {
    const p = arch('parallel');
    for (const r of p.rungs) {
      expect(r.lossRatio?.value).toBeCloseTo(0.9, 2);
      expect(r.lossRatio?.p).toBeLessThan(0.001);
      // dense needs (1/0.9)^(1/0.1) ≈ 2.87× the compute to match; outside its ladder at the top rung
      expect(r.multiplier?.value).toBeGreaterThan(2.6);
      expect(r.multiplier?.value).toBeLessThan(3.2);
    }
    expect(p.rungs.at(-1)?.multiplier?.extrapolated).toBe(true);
    expect(p.rungs[0]?.multiplier?.extrapolated).toBe(false);
    expect(p.trend?.value).toBeCloseTo(1, 2);
    expect(p.verdict).toBe('no trend (TOST)');
    expect(p.trend?.holmNone).toBeLessThan(0.05);
  });

  it('reads a steeper curve as gaining on dense, by 2^(−0.05) per doubling', () => {
    const s = arch('steeper');
    expect(s.trend?.value).toBeCloseTo(2 ** -0.05, 2);
    expect(s.trend?.holmGains).toBeLessThan(0.05);
    expect(s.verdict).toBe('gains on dense-block');
    expect(s.rungs[0]?.lossRatio?.value).toBeCloseTo(1, 1);
  });

  it('runs the placebo (dense seeds 5–9 against 0–4) through the same statistics: ratio ≈ 1, no trend', () => {
    const p = study.placebo;
    expect(p?.arch).toBe(PLACEBO_NAME);
    for (const r of p?.rungs ?? []) {
      expect(r.lossRatio?.lo).toBeLessThan(1.05);
      expect(r.lossRatio?.hi).toBeGreaterThan(0.95);
    }
    expect(p?.verdict).not.toMatch(/gains|loses/);
  });

  it('writes a section with the fits, the ladder of ratios and multipliers, the placebo and a verdict per architecture', () => {
    const md = scalingSection([study], RULES);
    expect(md).toContain('#### charlm');
    expect(md).toMatch(/\| steeper \|[^\n]*gains on dense-block/);
    expect(md).toMatch(/\| parallel \|[^\n]*no trend \(TOST\)/);
    expect(md).toContain(PLACEBO_NAME);
    expect(md).toContain('extrapolated');
  });

  it('says what is missing instead of fitting one point', () => {
    const one = records.filter((r) => r.task.tier === 'cpu');
    expect(ladderTasks(one)).toEqual([]);
    expect(scalingSection([], RULES)).toContain('No ladder runs are committed yet');
  });

  it('gives no compute multiplier where dense’s curve is flat (its α’s interval reaches 0), and says why', () => {
    // dense's loss does not move with compute beyond seed noise; the other architecture is 10% better
    const flat = [...ladder('dense-block', 1, 0, FIVE, 'dense'), ...ladder('better', 0.9, 0, FIVE)];
    const t = scalingOf('charlm', flat, RULES);
    const better = t?.archs.find((x) => x.arch === 'better');
    expect(t?.archs.find((x) => x.arch === 'dense-block')?.fit?.alphaBySeed.lo).toBeLessThanOrEqual(0);
    expect(better?.rungs).toHaveLength(4);
    for (const r of better?.rungs ?? []) {
      expect(r.lossRatio?.value).toBeCloseTo(0.9, 1);
      expect(r.multiplier).toBeNull();
      expect(r.multiplierNote).toMatch(/dense-block’s curve is flat/);
    }
    expect(scalingSection(t ? [t] : [], RULES)).toMatch(/No compute multipliers: dense-block’s loss does not fall measurably/);
  });

  it('shows dense once and tests it in no trend family where it is dense-block in all but name on every rung (charlm)', () => {
    const block = ladder('dense-block', a, 0.1, FIVE, 'dense');
    const same = block.map((r) => renamedRun(r, 'dense'));
    const t = scalingStudy([...block, ...same, ...ladder('steeper', 2 * (BUDGET / 8) ** 0.15, 0.15, FIVE)], ['charlm'], RULES)[0];
    const dense = t?.archs.find((x) => x.arch === 'dense');
    expect(dense?.trend).toBeNull();
    expect(dense?.verdict).toBe('identical to dense-block: not tested');
    expect(scalingSection(t ? [t] : [], RULES)).toContain(
      'bit-identical to dense-block on every rung: shown once, tested in no family: dense',
    );
    // where dense differs (the study above), it is tested like any architecture
    expect(arch('dense').trend).not.toBeNull();
  });
});
