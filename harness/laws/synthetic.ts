/**
 * Observations drawn from known laws, for the tests of the fits and of the /laws page: a
 * seeded stream, so every test sees the same draws.
 */
import { rng } from '../tasks/random.ts';
import type { Observation } from './observations.ts';

/** A standard normal draw (Box–Muller). */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** switch-top1 at E = 8, d = 64, G ∈ {1, 2, 4, 8}: log L = 1 + s·log G + noise. */
export function granularityWorld(s: number, noise: number, seeds = 5): Observation[] {
  const random = rng('granularity', s, noise);
  return [1, 2, 4, 8].flatMap((g) =>
    Array.from({ length: seeds }, (_, seed) => {
      const loss = Math.exp(1.0 + s * Math.log(g) + noise * gaussian(random));
      return {
        tier: 'cpu',
        arch: 'switch-top1',
        routers: ['switch-top1'],
        experts: 8,
        granularity: g,
        width: 64,
        activeParams: 1e5,
        totalParams: 8e5,
        seed,
        loss,
        quality: loss,
        executedFlops: 6e11,
        seconds: 100,
        hardwareClass: 'test',
      };
    }),
  );
}
