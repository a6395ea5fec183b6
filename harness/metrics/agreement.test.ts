/**
 * AMI and its permutation null on partitions with known answers: identical partitions up
 * to relabelling give 1, independent ones ≈ 0, E[MI] equals the average MI over every
 * permutation of a small set, and a label-blind routing sits inside its own null.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../tasks/random.ts';
import { adjustedMutualInformation, amiWithNull, expectedMutualInformation, mutualInformation } from './agreement.ts';

function table(u: ArrayLike<number>, v: ArrayLike<number>): number[][] {
  const rows = Math.max(...Array.from(u)) + 1;
  const cols = Math.max(...Array.from(v)) + 1;
  const t = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < u.length; i++) {
    const row = t[u[i] as number] as number[];
    row[v[i] as number] = (row[v[i] as number] as number) + 1;
  }
  return t;
}

function permutations(items: number[]): number[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('adjusted mutual information', () => {
  it('is 1 for identical partitions up to relabelling', () => {
    const u = Array.from({ length: 400 }, (_, i) => i % 8);
    const v = u.map((g) => (g * 3 + 5) % 8); // a relabelling
    expect(adjustedMutualInformation(table(u, v))).toBeCloseTo(1, 10);
  });

  it('is below 1 for many-to-one routing (10 groups onto 5 experts), unlike a min-normalised NMI', () => {
    const u = Array.from({ length: 1000 }, (_, i) => i % 10);
    const v = u.map((g) => g >> 1);
    const ami = adjustedMutualInformation(table(u, v));
    // MI = log 5, H(U) = log 10, H(V) = log 5: AMI ≈ log 5 / ((log 10 + log 5)/2) = 0.823
    expect(ami).toBeCloseTo(Math.log(5) / ((Math.log(10) + Math.log(5)) / 2), 2);
    expect(ami).toBeLessThan(0.83);
  });

  it('is ≈ 0 for independent labels, where plug-in MI is biased above 0', () => {
    const random = rng('ami-independent');
    const u = Array.from({ length: 2000 }, () => Math.floor(random() * 10));
    const v = Array.from({ length: 2000 }, () => Math.floor(random() * 8));
    const t = table(u, v);
    expect(mutualInformation(t)).toBeGreaterThan(0.01); // the bias AMI removes
    expect(Math.abs(adjustedMutualInformation(t))).toBeLessThan(0.01);
  });

  it('E[MI] is the mean MI over every permutation of a small set', () => {
    const u = [0, 0, 0, 1, 1, 2];
    const v = [0, 0, 1, 1, 2, 2];
    const all = permutations([0, 1, 2, 3, 4, 5]);
    const mean =
      all.reduce(
        (s, p) =>
          s +
          mutualInformation(
            table(
              p.map((i) => u[i] as number),
              v,
            ),
          ),
        0,
      ) / all.length;
    expect(expectedMutualInformation([3, 2, 1], [2, 2, 2], 6)).toBeCloseTo(mean, 12);
  });
});

describe('the permutation null', () => {
  it('holds a label-blind routing: its AMI is below the null’s 95th percentile, the null’s mean ≈ 0', () => {
    const random = rng('ami-null');
    const groups = Int32Array.from({ length: 3000 }, () => Math.floor(random() * 10));
    const experts = Int32Array.from({ length: 3000 }, () => Math.floor(random() * 8));
    const { ami, null: n } = amiWithNull(groups, experts, { permutations: 100, seed: 'test' });
    expect(n.permutations).toBe(100);
    expect(Math.abs(n.mean)).toBeLessThan(0.002);
    expect(n.p95).toBeGreaterThan(0);
    expect(ami).toBeLessThan(n.p95);
  });

  it('leaves a routing that follows the label far above its 95th percentile, and is reproducible', () => {
    const random = rng('ami-signal');
    const groups = Int32Array.from({ length: 3000 }, () => Math.floor(random() * 8));
    // 70% of rows go to their group's expert, the rest anywhere
    const experts = groups.map((g) => (random() < 0.7 ? g : Math.floor(random() * 8)));
    const a = amiWithNull(groups, experts, { permutations: 100, seed: 'test' });
    const b = amiWithNull(groups, experts, { permutations: 100, seed: 'test' });
    expect(a).toEqual(b);
    expect(a.ami).toBeGreaterThan(0.3);
    expect(a.ami).toBeGreaterThan(10 * a.null.p95);
  });
});
