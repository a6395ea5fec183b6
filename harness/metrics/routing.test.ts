import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { routingLayerStats } from '../results/record.ts';
import { rng } from '../tasks/random.ts';
import { createRoutingAccumulator, entropy, loadBalance, normalizedMutualInformation } from './routing.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Feed one batch: `choose(group, row)` gives the row's experts, best first. */
function feed(
  acc: ReturnType<typeof createRoutingAccumulator>,
  groups: number[],
  k: number,
  choose: (group: number, row: number) => number[],
  probabilities?: number[][],
) {
  const assignment = groups.flatMap((g, t) => choose(g, t));
  const a = tf.tensor2d(assignment, [groups.length, k], 'int32');
  const g = tf.tensor1d(groups, 'int32');
  const p = probabilities ? tf.tensor2d(probabilities) : undefined;
  acc.add({ layer: acc.layer, experts: acc.experts, assignment: a, ...(p ? { probabilities: p } : {}) }, g);
  tf.dispose([a, g, ...(p ? [p] : [])]);
}

const balancedGroups = (count: number, groups: number) => Array.from({ length: count }, (_, t) => t % groups);

describe('routing accumulator', () => {
  it('perfect one-to-one routing: NMI 1, balanced load, E effective experts', () => {
    const acc = createRoutingAccumulator('moe0', 4, 4);
    feed(acc, balancedGroups(4000, 4), 1, (g) => [g]);
    const r = acc.result();
    expect(routingLayerStats.parse(r)).toEqual(r);
    expect(r.nmi).toBeCloseTo(1, 12);
    expect(r.ami).toBeCloseTo(1, 9);
    expect(r.amiNull?.permutations).toBe(100);
    expect(r.amiNull?.p95).toBeLessThan(0.01);
    expect(r.load).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(r.effectiveExperts).toBeCloseTo(4, 12);
    expect(r.maxVio).toBeCloseTo(0, 12);
    expect(r.coefficientOfVariation).toBeCloseTo(0, 12);
    expect(r.counts).toEqual([
      [1000, 0, 0, 0],
      [0, 1000, 0, 0],
      [0, 0, 1000, 0],
      [0, 0, 0, 1000],
    ]);
    expect(r.routingEntropy).toBeNull();
  });

  it('uses the top-1 choice for NMI and every slot for load', () => {
    const acc = createRoutingAccumulator('moe0', 4, 4);
    const random = rng(1);
    // second choice: any other expert, at random
    feed(acc, balancedGroups(4000, 4), 2, (g) => [g, (g + 1 + Math.floor(random() * 3)) % 4]);
    const r = acc.result();
    expect(r.nmi).toBeCloseTo(1, 12);
    expect(r.load.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(r.counts.flat().reduce((a, b) => a + b, 0)).toBe(4000); // top-1 only
  });

  it('gives NMI 1 when one variable determines the other (many-to-one, one-to-many)', () => {
    const manyToOne = createRoutingAccumulator('moe0', 5, 10); // 10 digits onto 5 experts, two each
    feed(manyToOne, balancedGroups(5000, 10), 1, (g) => [g >> 1]);
    expect(manyToOne.result().nmi).toBeCloseTo(1, 12);
    const oneToMany = createRoutingAccumulator('moe0', 4, 2); // each group split over two experts of its own
    feed(oneToMany, balancedGroups(4000, 2), 1, (g, t) => [2 * g + ((t >> 1) % 2)]);
    expect(oneToMany.result().nmi).toBeCloseTo(1, 12);
  });

  it('gives NMI ≈ 0 for routing independent of the group (large T)', () => {
    const acc = createRoutingAccumulator('moe0', 8, 10);
    const random = rng(2);
    const groups = Array.from({ length: 200_000 }, () => Math.floor(random() * 10));
    feed(acc, groups, 1, () => [Math.floor(random() * 8)]);
    const r = acc.result();
    expect(r.nmi).toBeLessThan(0.02);
    expect(r.ami).toBeLessThan(r.amiNull?.p95 ?? Number.NaN);
    expect(r.effectiveExperts).toBeGreaterThan(7.99);
  });

  it('corrects the small-sample bias: independent routing on a 1,000-example set stays near 0', () => {
    const random = rng(3);
    const counts = Array.from({ length: 10 }, () => new Array<number>(8).fill(0));
    for (let t = 0; t < 1000; t++) (counts[Math.floor(random() * 10)] as number[])[Math.floor(random() * 8)]! += 1;
    // the plain plug-in I / min(H) would be ≈ 63/2000/ln 8 ≈ 0.015 here; averaged over seeds the corrected one is ≈ 0
    let sum = 0;
    for (let s = 0; s < 20; s++) {
      const r = rng(100 + s);
      const c = Array.from({ length: 10 }, () => new Array<number>(8).fill(0));
      for (let t = 0; t < 1000; t++) (c[Math.floor(r() * 10)] as number[])[Math.floor(r() * 8)]! += 1;
      sum += normalizedMutualInformation(c);
    }
    expect(sum / 20).toBeLessThan(0.005);
    expect(normalizedMutualInformation(counts)).toBeLessThan(0.02);
  });

  it('puts partly group-driven routing strictly between 0 and 1', () => {
    const acc = createRoutingAccumulator('moe0', 4, 4);
    const random = rng(4);
    feed(acc, balancedGroups(20_000, 4), 1, (g) => [random() < 0.5 ? g : Math.floor(random() * 4)]);
    const { nmi } = acc.result();
    expect(nmi).toBeGreaterThan(0.1);
    expect(nmi).toBeLessThan(0.6);
  });

  it('shows a collapsed router plainly: load [1, 0, …], MaxVio E−1, one effective expert', () => {
    const acc = createRoutingAccumulator('moe0', 4, 3);
    feed(acc, balancedGroups(300, 3), 1, () => [0]);
    const r = acc.result();
    expect(routingLayerStats.parse(r)).toEqual(r);
    expect(r.load).toEqual([1, 0, 0, 0]);
    expect(r.maxVio).toBeCloseTo(3, 12);
    expect(r.coefficientOfVariation).toBeCloseTo(Math.sqrt(3), 12);
    expect(r.effectiveExperts).toBeCloseTo(1, 12);
    expect(r.nmi).toBe(0);
  });

  it('normalises routing entropy by log E: uniform → 1, one-hot → 0, renormalising each row', () => {
    const uniform = createRoutingAccumulator('moe0', 4, 2);
    feed(uniform, [0, 1, 0], 1, () => [0], [
      [0.25, 0.25, 0.25, 0.25],
      [0.25, 0.25, 0.25, 0.25],
      [0.5, 0.5, 0.5, 0.5], // not summing to 1: still uniform
    ]);
    expect(uniform.result().routingEntropy).toBeCloseTo(1, 6);
    const peaked = createRoutingAccumulator('moe0', 4, 2);
    feed(peaked, [0, 1], 1, (g) => [g], [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ]);
    expect(peaked.result().routingEntropy).toBe(0);
    const half = createRoutingAccumulator('moe0', 4, 1);
    feed(half, [0], 1, () => [0], [[0.5, 0.5, 0, 0]]);
    expect(half.result().routingEntropy).toBeCloseTo(0.5, 6); // ln 2 / ln 4
  });

  it('flattens [B, L] groups to the T = B·L rows, and repeats [B] groups over per-token rows', () => {
    const perToken = createRoutingAccumulator('moe0', 3, 3);
    const a = tf.tensor2d([0, 1, 2, 2, 1, 0], [6, 1], 'int32');
    const g2 = tf.tensor2d(
      [
        [0, 1, 2],
        [2, 1, 0],
      ],
      [2, 3],
      'int32',
    );
    perToken.add({ layer: 'moe0', experts: 3, assignment: a }, g2);
    expect(perToken.result().counts).toEqual([
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 2],
    ]);
    const perExample = createRoutingAccumulator('moe0', 3, 2);
    const g1 = tf.tensor1d([0, 1], 'int32');
    perExample.add({ layer: 'moe0', experts: 3, assignment: a }, g1);
    expect(perExample.result().counts).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const odd = tf.tensor1d([0, 1, 0, 1], 'int32');
    expect(() => perExample.add({ layer: 'moe0', experts: 3, assignment: a }, odd)).toThrow(/6 routed rows cannot be matched to 4/);
    tf.dispose([a, g1, g2, odd]);
  });

  it('accumulates batch by batch exactly as one batch', () => {
    const random = rng(5);
    const groups = Array.from({ length: 600 }, () => Math.floor(random() * 5));
    const experts = groups.map((g) => (random() < 0.7 ? g % 3 : Math.floor(random() * 3)));
    const whole = createRoutingAccumulator('moe0', 3, 5);
    feed(whole, groups, 1, (_, t) => [experts[t] as number]);
    const parts = createRoutingAccumulator('moe0', 3, 5);
    for (let b = 0; b < 600; b += 100) feed(parts, groups.slice(b, b + 100), 1, (_, t) => [experts[b + t] as number]);
    expect(parts.result()).toEqual(whole.result());
  });

  it('skips dropped slots (negative expert index) and leaks no tensors', () => {
    const acc = createRoutingAccumulator('moe0', 2, 2);
    const a = tf.tensor2d([0, -1, 1, -1, -1, -1], [3, 2], 'int32');
    const g = tf.tensor1d([0, 1, 1], 'int32');
    const p = tf.tensor2d([0.9, 0.1, 0.2, 0.8, 0.5, 0.5], [3, 2]);
    const before = tf.memory().numTensors;
    acc.add({ layer: 'moe0', experts: 2, assignment: a, probabilities: p }, g);
    expect(tf.memory().numTensors).toBe(before);
    const r = acc.result();
    expect(r.load).toEqual([0.5, 0.5]);
    expect(r.counts).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(a.isDisposed || g.isDisposed || p.isDisposed).toBe(false);
    tf.dispose([a, g, p]);
  });

  it('refuses labels and expert indices out of range, and mismatched traces', () => {
    const acc = createRoutingAccumulator('moe0', 2, 2);
    expect(() => feed(acc, [2], 1, () => [0])).toThrow(/group label 2/);
    expect(() => feed(acc, [0], 1, () => [2])).toThrow(/expert index 2/);
    const a = tf.tensor2d([0], [1, 1], 'int32');
    const g = tf.tensor1d([0], 'int32');
    expect(() => acc.add({ layer: 'other', experts: 2, assignment: a }, g)).toThrow(/layer 'other'/);
    expect(() => acc.add({ layer: 'moe0', experts: 3, assignment: a }, g)).toThrow(/3 experts/);
    tf.dispose([a, g]);
    expect(() => createRoutingAccumulator('moe0', 0, 2)).toThrow(RangeError);
  });

  it('reports an empty layer as zeros, still schema-valid', () => {
    const r = createRoutingAccumulator('moe0', 3, 2).result();
    expect(routingLayerStats.parse(r)).toEqual(r);
    expect(r.effectiveExperts).toBe(0);
    expect(r.nmi).toBe(0);
  });
});

describe('entropy and load balance helpers', () => {
  it('computes entropy in nats and the balance figures', () => {
    expect(entropy([1, 1])).toBeCloseTo(Math.log(2), 12);
    expect(entropy([3, 0])).toBe(0);
    const b = loadBalance([0.5, 0.25, 0.25, 0]);
    expect(b.maxVio).toBeCloseTo(1, 12);
    expect(b.coefficientOfVariation).toBeCloseTo(Math.sqrt((0.0625 + 0 + 0 + 0.0625) / 4) / 0.25, 12);
    expect(b.effectiveExperts).toBeCloseTo(Math.exp(1.5 * Math.log(2)), 12);
  });
});
