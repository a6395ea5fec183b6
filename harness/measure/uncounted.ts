/**
 * Uncounted compute (issue 8): compute the FLOP ledger never saw — values read back into
 * JavaScript and computed on there, or a backend's memory reached around the kernels — still
 * takes time. A run whose training wall time per executed (counted) FLOP is far above the
 * baselines' on the same hardware class, task and tier is flagged, not failed: an honest
 * architecture of many small kernels is slower per FLOP too, so the flag asks a maintainer to
 * look. It says *readback* when the run also read back far more per step than any of those
 * baselines: readback-then-JavaScript compute, which `verify`-style review should refuse.
 */
import type { RunRecord } from '../results/record.ts';

/** Flag a run slower per counted FLOP than this many times the baselines' median. */
export const UNCOUNTED_COMPUTE_FACTOR = 5;
/** …and call it readback when it read back this many times more bytes per step than any baseline (and at least READBACK_FLOOR_BYTES). */
export const READBACK_FACTOR = 5;
export const READBACK_FLOOR_BYTES = 64 * 1024;

export interface UncountedComputeFlag {
  kind: 'uncounted-compute' | 'readback-compute';
  /** the run's training seconds per executed FLOP over the baselines' median */
  ratio: number;
  secondsPerFlop: number;
  baselineSecondsPerFlop: number;
  /** how many baseline runs it was compared with */
  baselines: number;
  readbackBytesPerStep: number | null;
  baselineReadbackBytesPerStep: number | null;
  message: string;
}

const secondsPerFlop = (r: RunRecord) => r.training.wallSeconds / r.flops.executed;
const readbackPerStep = (r: RunRecord) => (r.readbacks && r.training.steps > 0 ? r.readbacks.bytes / r.training.steps : null);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const usable = (r: RunRecord) => r.status === 'completed' && r.flops.executed > 0 && r.training.wallSeconds > 0;

/**
 * The flag for `record` against completed baseline runs (origin 'baseline') of the same
 * hardware class, task and tier among `others`; null when it is within the factor, is a
 * baseline itself, or has nothing to be compared with.
 */
export function uncountedCompute(record: RunRecord, others: RunRecord[]): UncountedComputeFlag | null {
  if (!usable(record) || record.architecture.origin === 'baseline') return null;
  const like = others.filter(
    (b) =>
      b.architecture.origin === 'baseline' &&
      usable(b) &&
      b.hardwareClass === record.hardwareClass &&
      b.task.id === record.task.id &&
      b.task.tier === record.task.tier,
  );
  if (!like.length) return null;
  const mine = secondsPerFlop(record);
  const base = median(like.map(secondsPerFlop));
  const ratio = mine / base;
  if (!(ratio > UNCOUNTED_COMPUTE_FACTOR)) return null;
  const rb = readbackPerStep(record);
  const baseRbs = like.map(readbackPerStep).filter((x): x is number => x !== null);
  const baseRb = baseRbs.length ? Math.max(...baseRbs) : null;
  const readback = rb !== null && rb >= READBACK_FLOOR_BYTES && rb > READBACK_FACTOR * (baseRb ?? 0);
  const who = `${record.architecture.name} on ${record.task.id} (${record.task.tier}, ${record.hardwareClass})`;
  const slow = `${ratio.toFixed(1)}× the training seconds per counted FLOP of the ${like.length} baseline run(s) of its hardware class (${mine.toExponential(2)} s against a median ${base.toExponential(2)} s)`;
  return {
    kind: readback ? 'readback-compute' : 'uncounted-compute',
    ratio,
    secondsPerFlop: mine,
    baselineSecondsPerFlop: base,
    baselines: like.length,
    readbackBytesPerStep: rb,
    baselineReadbackBytesPerStep: baseRb,
    message: readback
      ? `${who}: readback compute — ${slow}, and it read ${Math.round(rb).toLocaleString('en')} bytes per step back into JavaScript (baselines at most ${Math.round(baseRb ?? 0).toLocaleString('en')}): compute on read-back values is not in the FLOP ledger; keep the model's compute in tfjs ops`
      : `${who}: uncounted compute? ${slow}; the FLOP ledger may be missing compute (or the model runs many small kernels): a maintainer should look`,
  };
}

/** Every flagged run of `records`, each compared with the baselines among `baselines` (default: `records` themselves). */
export function uncountedComputeFlags(
  records: RunRecord[],
  baselines: RunRecord[] = records,
): Array<{ record: RunRecord; flag: UncountedComputeFlag }> {
  return records.flatMap((record) => {
    const flag = uncountedCompute(record, baselines);
    return flag ? [{ record, flag }] : [];
  });
}
