import { describe, expect, it } from 'vitest';
import { legibility } from '../results/record.ts';
import { rng } from '../tasks/random.ts';
import { type AblationStats, ablationMatrix, diagonalDominance, dominanceNull, expertAblation } from './ablation.ts';

const E = 4;
const G = 4;
const BASE = 0.9;

/** Per-group accuracy of a model where masking expert e removes `effect(e, g)` from group g. */
const evaluator = (effect: (e: number, g: number) => number) => (masked: number | null) =>
  Array.from({ length: G }, (_, g) => BASE - (masked === null ? 0 : effect(masked, g)));

/** expertAblation on a task with groups: never null. */
function ablate(...args: Parameters<typeof expertAblation>): AblationStats {
  const a = expertAblation(...args);
  if (a === null) throw new Error('expected an ablation record');
  return a;
}

describe('expertAblation', () => {
  it('a diagonal effect (each expert owns one group) gives dominance 1', () => {
    const a = ablate(
      'moe0',
      E,
      evaluator((e, g) => (e === g ? 0.5 : 0)),
      { higherIsBetter: true },
    );
    expect(legibility.shape.ablation.parse(a)).toEqual(a);
    expect(a.layer).toBe('moe0');
    for (const [e, row] of a.matrix.entries()) for (const [g, v] of row.entries()) expect(v).toBeCloseTo(e === g ? 0.5 : 0, 12);
    expect(a.diagonalDominance).toBeCloseTo(1, 12);
  });

  it('a noisy diagonal effect stays near the maximum', () => {
    const random = rng(1);
    const a = ablate(
      'moe0',
      E,
      evaluator((e, g) => (e === g ? 0.5 : 0) + 0.01 * (random() - 0.5)),
      { higherIsBetter: true },
    );
    expect(a.diagonalDominance).toBeGreaterThan(0.95);
  });

  it('a uniform effect (every expert hurts every group alike) gives dominance 0, and near 0 with noise', () => {
    const uniform = ablate(
      'moe0',
      E,
      evaluator(() => 0.1),
      { higherIsBetter: true },
    );
    expect(uniform.diagonalDominance).toBeCloseTo(0, 12);
    const random = rng(2);
    const noisy = ablate(
      'moe0',
      E,
      evaluator(() => 0.1 + 0.005 * (random() - 0.5)),
      { higherIsBetter: true },
    );
    expect(noisy.diagonalDominance).toBeLessThan(0.05);
  });

  it('lies between for an effect that is partly shared', () => {
    const a = ablate(
      'moe0',
      E,
      evaluator((e, g) => (e === g ? 0.4 : 0.1)),
      { higherIsBetter: true },
    );
    // per expert: top 0.4, rest 0.1 → (0.4 − 0.1) / 0.4
    expect(a.diagonalDominance).toBeCloseTo(0.75, 12);
  });

  it('evaluates unmasked first, then each expert once', () => {
    const calls: (number | null)[] = [];
    expertAblation(
      'moe0',
      3,
      (m) => {
        calls.push(m);
        return [1, 1];
      },
      { higherIsBetter: true },
    );
    expect(calls).toEqual([null, 0, 1, 2]);
  });

  it('signs drops so that worse is positive when lower is better (bpc, MSE)', () => {
    const a = ablate('moe0', 2, (m) => (m === null ? [1.5, 1.5] : m === 0 ? [2.0, 1.5] : [1.5, 1.7]), { higherIsBetter: false });
    expect(a.matrix[0]?.[0]).toBeCloseTo(0.5, 12);
    expect(a.matrix[1]?.[1]).toBeCloseTo(0.2, 12);
    expect(a.diagonalDominance).toBeCloseTo(1, 12);
  });

  it('takes a scorer’s subQualities record, columns in the unmasked result’s key order', () => {
    const q = (m: number | null): Record<string, number> => ({ '0': m === 1 ? 0.5 : 0.9, '1': m === 0 ? 0.6 : 0.9 });
    const a = ablate('moe0', 2, q, { higherIsBetter: true });
    expect(a.matrix[0]?.[1]).toBeCloseTo(0.3, 12);
    expect(a.matrix[1]?.[0]).toBeCloseTo(0.4, 12);
    expect(() =>
      expertAblation('moe0', 1, (m): Record<string, number> => (m === null ? { a: 1, b: 1 } : { b: 1, c: 1 }), { higherIsBetter: true }),
    ).toThrow(/group 'a'/);
  });

  it('is null, after one evaluation, when the task reports fewer than two groups', () => {
    let calls = 0;
    const a = expertAblation(
      'moe0',
      4,
      () => {
        calls++;
        return {};
      },
      { higherIsBetter: false },
    );
    expect(a).toBeNull();
    expect(calls).toBe(1);
  });

  it('refuses non-finite qualities and mismatched group counts', () => {
    expect(() => ablationMatrix([1, 1], [[Number.NaN, 1]], true)).toThrow(/non-finite/);
    expect(() => ablationMatrix([1, 1], [[1]], true)).toThrow(/1 groups/);
  });
});

describe('diagonalDominance', () => {
  it('ignores improvements, experts without effect, and single-group matrices', () => {
    expect(diagonalDominance([[0.5, -0.3, -0.3]])).toBeCloseTo(1, 12); // masking helps the others: counted as unaffected
    expect(diagonalDominance([[0, 0, 0]])).toBe(0);
    expect(
      diagonalDominance([
        [0.5, 0, 0],
        [0, 0, 0],
      ]),
    ).toBeCloseTo(1, 12);
    expect(diagonalDominance([[0.5], [0.2]])).toBe(0);
    expect(diagonalDominance([])).toBe(0);
  });
});

describe('dominance beside its label-blind null', () => {
  const groups = Int32Array.from({ length: 800 }, (_, i) => i % G);
  const unmasked = new Float64Array(800).fill(1);
  const dominanceOf = (masked: Float64Array[]) => {
    const means = (scores: Float64Array) =>
      Array.from({ length: G }, (_, g) => scores.filter((_, i) => groups[i] === g).reduce((a, b) => a + b, 0) / 200);
    return diagonalDominance(
      ablationMatrix(
        means(unmasked),
        masked.map((m) => means(m)),
        true,
      ),
    );
  };

  it('experts that each own a group: dominance 1, far above the null of permuted labels', () => {
    const masked = Array.from({ length: G }, (_, e) => Float64Array.from(groups, (g) => (g === e ? 0 : 1)));
    const observed = dominanceOf(masked);
    const n = dominanceNull(groups, unmasked, masked, { higherIsBetter: true, permutations: 100, seed: 'test' });
    expect(observed).toBeCloseTo(1, 12);
    expect(n.permutations).toBe(100);
    expect(n.p95).toBeLessThan(0.4);
    expect(n.mean).toBeLessThan(n.p95);
  });

  it('experts that each break random examples whatever their group: dominance inside the null', () => {
    const random = rng('ablation-null');
    const masked = Array.from({ length: G }, () => Float64Array.from(groups, () => (random() < 0.25 ? 0 : 1)));
    const observed = dominanceOf(masked);
    const n = dominanceNull(groups, unmasked, masked, { higherIsBetter: true, permutations: 100, seed: 'test' });
    // not 0: the max over noisy groups is what the null is there to show
    expect(observed).toBeGreaterThan(0.05);
    expect(observed).toBeLessThan(n.p95);
    expect(dominanceNull(groups, unmasked, masked, { higherIsBetter: true, permutations: 100, seed: 'test' })).toEqual(n);
  });
});
