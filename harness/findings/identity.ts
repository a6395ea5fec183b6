/**
 * Where two architectures' records are the same runs in all but name: on every shared seed
 * the same quality and executed FLOPs at every evaluation point and at the end (charlm's
 * dense-block, whose one expert reduces the routed scaffold to dense exactly). The findings
 * then say so once and test against one of them only.
 */
import type { RunRecord } from '../results/record.ts';

function sameRun(a: RunRecord, b: RunRecord): boolean {
  if (a.final?.quality !== b.final?.quality || a.flops.executed !== b.flops.executed) return false;
  if (a.curve.length !== b.curve.length) return false;
  return a.curve.every((p, i) => p.flops === b.curve[i]?.flops && p.quality === b.curve[i]?.quality);
}

/** Seeds shared by both, or null where they differ on any shared seed (or share none). */
export function identicalSeeds(a: readonly RunRecord[], b: readonly RunRecord[]): number[] | null {
  const theirs = new Map(b.map((r) => [r.task.seed, r]));
  const shared = a.filter((r) => theirs.has(r.task.seed));
  if (shared.length === 0) return null;
  return shared.every((r) => sameRun(r, theirs.get(r.task.seed) as RunRecord))
    ? shared.map((r) => r.task.seed).sort((x, y) => x - y)
    : null;
}
