/**
 * The protocol's claims as tests: each test belongs to the family its claim names, and Holm
 * corrects within each family, never across (statistics.md: families by claim and
 * direction). A directional claim's p is the two-sided p where the effect points its way
 * and 1 otherwise — twice the one-sided p, so the two directions together are the two-sided
 * test the protocol's power calculation assumes. An equivalence claim's p is the TOST p.
 * Pure: figures in, adjusted p-values and words out.
 */
import type { Claim } from '../results/protocol.ts';
import { minimumDetectableLog } from '../stats/power.ts';
import { type Difference, holm } from '../stats/tests.ts';
import { sig } from './format.ts';

/** One test of one claim on one task and architecture. */
export interface ClaimTest {
  claim: Claim;
  task: string;
  arch: string;
  /** the p entering the claim's family; null where the test could not run */
  p: number | null;
}

/** A directional p from a two-sided test: the two-sided p where the effect points `direction`, else 1. */
export function directionalP(d: Pick<Difference, 'effect' | 'p'>, direction: 'greater' | 'less'): number | null {
  if (d.p === null) return null;
  return (direction === 'greater' ? d.effect > 0 : d.effect < 0) ? d.p : 1;
}

/** Holm within each family; tests keep their order. Adjusted p per test, and each family's size (tests that ran). */
export function holmByFamily(tests: readonly ClaimTest[]): { adjusted: (number | null)[]; sizes: Map<string, number> } {
  const adjusted: (number | null)[] = tests.map(() => null);
  const sizes = new Map<string, number>();
  const families = [...new Set(tests.map((t) => t.claim.family))];
  for (const f of families) {
    const idx = tests.flatMap((t, i) => (t.claim.family === f ? [i] : []));
    const adj = holm(idx.map((i) => (tests[i] as ClaimTest).p));
    idx.forEach((i, k) => {
      adjusted[i] = adj[k] ?? null;
    });
    sizes.set(f, idx.filter((i) => (tests[i] as ClaimTest).p !== null).length);
  }
  return { adjusted, sizes };
}

/**
 * The minimum detectable effect of a paired test on n pairs with spread sd at level alpha
 * (two-sided) and the protocol's power, on the log scale for multipliers.
 */
export function mde(sd: number, n: number, alpha: number, power: number): number | null {
  return minimumDetectableLog(sd, n, { alpha, power });
}

/** "MDE 1.49× planned, 1.62× from the observed spread, 2.3× at the Holm threshold α/9" (multipliers). */
export function multiplierMdeText(o: {
  planned: number | null;
  sd: number | null;
  n: number;
  alpha: number;
  power: number;
  familySize: number;
}): string {
  const x = (log: number | null) => (log === null ? 'not measured' : `${sig(Math.exp(log), 3)}×`);
  const parts = [o.planned === null ? null : `MDE ${sig(o.planned, 3)}× planned`];
  if (o.sd !== null) {
    parts.push(`${x(mde(o.sd, o.n, o.alpha, o.power))} from the observed spread (${o.n} pairs)`);
    if (o.familySize > 1)
      parts.push(`${x(mde(o.sd, o.n, o.alpha / o.familySize, o.power))} at the family's Holm threshold α/${o.familySize}`);
  } else parts.push('achieved MDE not measured: fewer than 2 exact pairs');
  return parts.filter(Boolean).join(', ');
}

/** The same for a difference in the metric's units. */
export function differenceMdeText(o: {
  sd: number | null;
  n: number;
  alpha: number;
  power: number;
  familySize: number;
  show: (x: number) => string;
}): string {
  if (o.sd === null) return 'MDE not measured: fewer than 2 pairs';
  const at = (a: number) => {
    const d = mde(o.sd as number, o.n, a, o.power);
    return d === null ? 'not measured' : o.show(d);
  };
  const holmPart = o.familySize > 1 ? `, ${at(o.alpha / o.familySize)} at the family's Holm threshold α/${o.familySize}` : '';
  return `MDE ${at(o.alpha)} from the observed spread (${o.n} pairs)${holmPart}`;
}
