/**
 * The compute multiplier against dense: per seed, dense's cost-to-target ÷ the
 * architecture's (same seed, so the pair shares its data order and initial draw); the
 * geometric mean over seeds with a t-interval on the logs, which includes dense's own
 * variance and can never go below 0. Censored seeds are never dropped: a pair where a side
 * only has a bound (on target at its first evaluation point) or never reached the target
 * turns the multiplier into a bound, or into "k of n reached" with no figure at all.
 */
import type { CostReading } from '../results/record.ts';
import { type Difference, logScaleMean, oneSampleT } from './tests.ts';

/** One seed's costs on one axis: dense's and the architecture's. */
export interface CostPair {
  seed: number;
  dense: CostReading;
  arch: CostReading;
}

/** What one pair says about d = log(dense cost) − log(arch cost). */
type PairLog = { kind: 'exact' | 'at least' | 'at most'; d: number } | { kind: 'unknown' } | { kind: 'not measured'; reason: string };

/** A side's cost as a value and which way the truth lies from it: cost = v, cost ≤ v, or cost > v. */
function side(c: CostReading): { v: number; way: 'exact' | 'at most' | 'above' } | { reason: string } {
  switch (c.status) {
    case 'reached':
      return { v: c.cost, way: 'exact' };
    case 'bound':
      return { v: c.cost, way: 'at most' };
    case 'not reached':
      return { v: c.spent, way: 'above' };
    case 'not measured':
      return { reason: c.reason };
  }
}

function pairLog(p: CostPair): PairLog {
  const dense = side(p.dense);
  const arch = side(p.arch);
  if ('reason' in dense) return { kind: 'not measured', reason: dense.reason };
  if ('reason' in arch) return { kind: 'not measured', reason: arch.reason };
  if (!(dense.v > 0 && arch.v > 0)) return { kind: 'unknown' };
  const d = Math.log(dense.v) - Math.log(arch.v);
  // dense smaller than v (at most) lowers d's ceiling; dense above v raises its floor; the reverse for arch
  const fromDense = dense.way === 'exact' ? 0 : dense.way === 'at most' ? -1 : 1;
  const fromArch = arch.way === 'exact' ? 0 : arch.way === 'at most' ? 1 : -1;
  if (fromDense * fromArch < 0) return { kind: 'unknown' };
  const dir = fromDense + fromArch;
  return { kind: dir === 0 ? 'exact' : dir > 0 ? 'at least' : 'at most', d };
}

export type Multiplier =
  /** every pair reached the target past the first evaluation point on both sides */
  | { kind: 'estimate'; value: number; lo: number | null; hi: number | null; p: number | null; n: number; logs: Difference }
  /** some pairs censored, all the same way: the geometric mean of the pairs' bounds */
  | {
      kind: 'bound';
      direction: 'at least' | 'at most';
      value: number;
      n: number;
      archReached: number;
      denseReached: number;
      /** the t-test on the pairs' log bounds: read one-sidedly, in the bound's own direction, it is conservative */
      logs: Difference;
    }
  /** censored both ways, or a side unknown: no figure, only the counts */
  | { kind: 'censored'; n: number; archReached: number; denseReached: number }
  | { kind: 'not measured'; reason: string }
  | { kind: 'no pairs' };

const reached = (c: CostReading) => c.status === 'reached' || c.status === 'bound';

/** The seed-paired multiplier on one axis; > 1: the architecture needs less to reach the target. */
export function pairedMultiplier(pairs: readonly CostPair[]): Multiplier {
  if (pairs.length === 0) return { kind: 'no pairs' };
  const logs = pairs.map(pairLog);
  const unmeasured = logs.find((l): l is { kind: 'not measured'; reason: string } => l.kind === 'not measured');
  if (unmeasured) return { kind: 'not measured', reason: unmeasured.reason };
  const n = pairs.length;
  const archReached = pairs.filter((p) => reached(p.arch)).length;
  const denseReached = pairs.filter((p) => reached(p.dense)).length;
  const ds = logs.flatMap((l) => ('d' in l ? [l.d] : []));
  const kinds = new Set(logs.map((l) => l.kind));
  if (kinds.size === 1 && kinds.has('exact')) {
    const g = logScaleMean(ds);
    return { kind: 'estimate', ...g, p: g.logs.p, n };
  }
  if (kinds.has('unknown') || (kinds.has('at least') && kinds.has('at most'))) return { kind: 'censored', n, archReached, denseReached };
  const direction = kinds.has('at least') ? 'at least' : 'at most';
  const logsT = oneSampleT(ds);
  return { kind: 'bound', direction, value: Math.exp(logsT.effect), n, archReached, denseReached, logs: logsT };
}
