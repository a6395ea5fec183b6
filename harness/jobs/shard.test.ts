// Shards: N slices of the real suite plan cover it exactly once, the same on every machine, balanced by expected run time.
import { describe, expect, it } from 'vitest';
import { planSuite } from '../suite.ts';
import { parseShard, shardOf } from './shard.ts';

describe('shards', () => {
  it('parses i/N and refuses what is not a slice, saying the form', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    for (const bad of ['0/4', '5/4', '3', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(/expected i\/N with 1 ≤ i ≤ N/);
  });

  it('covers every item exactly once, whatever order the items come in, balanced by weight', () => {
    const items = Array.from({ length: 37 }, (_, i) => ({ id: `run-${i}`, w: 1 + ((i * 7919) % 13) }));
    const shuffled = [...items].reverse();
    const n = 5;
    const slices = Array.from({ length: n }, (_, i) =>
      shardOf(
        items,
        { index: i + 1, count: n },
        (x) => x.w,
        (x) => x.id,
      ),
    );
    const again = Array.from({ length: n }, (_, i) =>
      shardOf(
        shuffled,
        { index: i + 1, count: n },
        (x) => x.w,
        (x) => x.id,
      ),
    );
    expect(
      slices
        .flat()
        .map((x) => x.id)
        .sort(),
    ).toEqual(items.map((x) => x.id).sort());
    expect(again.map((s) => s.map((x) => x.id).sort())).toEqual(slices.map((s) => s.map((x) => x.id).sort()));
    const loads = slices.map((s) => s.reduce((a, x) => a + x.w, 0));
    // greedy longest-first: no shard exceeds another by more than the heaviest single item
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(13);
  });

  it('slices the real smoke suite: 3 shards hold every run key once, each within one run of a third of the FLOPs', async () => {
    const base = { tier: 'smoke' as const, backend: 'auto' as const, outDir: '/nonexistent' };
    const whole = await planSuite(base);
    const shards = await Promise.all([1, 2, 3].map((index) => planSuite({ ...base, shard: { index, count: 3 } })));
    const keys = shards.flatMap((s) => s.planned.map((r) => r.key));
    expect(keys.sort()).toEqual(whole.planned.map((r) => r.key).sort());
    const flops = shards.map((s) => s.planned.reduce((a, r) => a + r.task.tiers.smoke.budgetFlops, 0));
    const biggest = Math.max(...whole.planned.map((r) => r.task.tiers.smoke.budgetFlops));
    expect(Math.max(...flops) - Math.min(...flops)).toBeLessThanOrEqual(biggest);
  });
});
