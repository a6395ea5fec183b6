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

/**
 * Flag a run slower per counted FLOP than the slowest baseline of its hardware class, task and
 * tier by more than this factor: the baselines' own range (routed models of small matmuls run
 * 2–5× dense's seconds per FLOP) plus a margin for run-to-run noise (a quiet re-run of the
 * published seconds moved single runs by −21…+39%). It was 5× the baselines' median, which let
 * a ledger divided by 4 through (issue 24). The FLOP ledger comes from inside the child: a
 * claim, and this is its check against the seconds the harness measures itself.
 */
export const UNCOUNTED_COMPUTE_FACTOR = 1.5;
/** …and call it readback when it read back this many times more bytes per step than any baseline (and at least READBACK_FLOOR_BYTES). */
export const READBACK_FACTOR = 5;
export const READBACK_FLOOR_BYTES = 64 * 1024;

export interface UncountedComputeFlag {
  /**
   * uncounted-compute: slow per counted FLOP; readback-compute: slow, and reading back far more
   * than the baselines; readback-heavy: at a normal pace, reading back far more than the
   * baselines (values kept in JavaScript can be used at evaluation, where nothing is counted)
   */
  kind: 'uncounted-compute' | 'readback-compute' | 'readback-heavy';
  /** the run's training seconds per executed FLOP over the slowest comparable baseline's */
  ratio: number;
  secondsPerFlop: number;
  baselineSecondsPerFlop: number;
  /** how many baseline runs it was compared with */
  baselines: number;
  readbackBytesPerStep: number | null;
  baselineReadbackBytesPerStep: number | null;
  message: string;
}

const recordSecondsPerFlop = (r: RunRecord) => r.training.wallSeconds / r.flops.executed;
const readbackPerStep = (r: RunRecord) => (r.readbacks && r.training.steps > 0 ? r.readbacks.bytes / r.training.steps : null);
const usable = (r: RunRecord) => r.status === 'completed' && r.flops.executed > 0 && r.training.wallSeconds > 0;

/** Where a pace is measured: the hardware class, the task and its tier (a run's record, or validate's timed burst). */
export interface PaceOf {
  hardwareClass: string;
  task: string;
  tier: string;
  /** the run's own id, never compared with itself */
  id?: string;
}

/** The completed runs among `baselines` that a pace `at` is compared with: same hardware class, task and tier, not itself. */
function comparableBaselines(at: PaceOf, baselines: readonly RunRecord[]): RunRecord[] {
  return baselines.filter(
    (b) => b.id !== at.id && usable(b) && b.hardwareClass === at.hardwareClass && b.task.id === at.task && b.task.tier === at.tier,
  );
}

/**
 * `secondsPerFlop` (training seconds per counted FLOP, measured at `at`) over the slowest of the
 * comparable baselines'; null when none compare. validate's burst is tested with this, as a run is.
 */
export function paceAt(at: PaceOf, secondsPerFlop: number, baselines: readonly RunRecord[]): Pace | null {
  const like = comparableBaselines(at, baselines);
  if (!like.length) return null;
  const base = Math.max(...like.map(recordSecondsPerFlop));
  return { ratio: secondsPerFlop / base, like, mine: secondsPerFlop, base };
}

/**
 * `record`'s training seconds per counted FLOP over the median of its comparable baselines
 * (what the flag tests); null for a baseline, an unusable run, or when none compare.
 * `baselines` are the baseline runs to compare with: the store's published baselines, or
 * the runs of `record`'s own suite whose module came from baselines/ (uncountedComputeFlags).
 */
export function paceAgainstBaselines(record: RunRecord, baselines: readonly RunRecord[]): Pace | null {
  if (!usable(record) || record.architecture.origin === 'baseline') return null;
  return paceAt(
    { hardwareClass: record.hardwareClass, task: record.task.id, tier: record.task.tier, id: record.id },
    recordSecondsPerFlop(record),
    baselines,
  );
}

export interface Pace {
  /** the run's seconds per counted FLOP over the slowest baseline's */
  ratio: number;
  /** the baseline runs compared with */
  like: RunRecord[];
  mine: number;
  base: number;
}

/**
 * The flag for `record` against the completed runs of the same hardware class, task and tier
 * among `baselines`; null when it is within the factor, is a baseline itself, or has nothing
 * to be compared with.
 */
export function uncountedCompute(record: RunRecord, baselines: readonly RunRecord[]): UncountedComputeFlag | null {
  const pace = paceAgainstBaselines(record, baselines);
  return pace ? flagOf(record, pace) : null;
}

/** The flag for `record` at an already measured pace; null within the factor and the baselines' readbacks. */
export function flagOf(record: RunRecord, pace: Pace): UncountedComputeFlag | null {
  return flagAt(
    `${record.architecture.name} on ${record.task.id} (${record.task.tier}, ${record.hardwareClass})`,
    readbackPerStep(record),
    pace,
  );
}

/** The flag for `who` (what the message names) at a measured pace and readbacks per step; null within the factor and the baselines' readbacks. */
export function flagAt(who: string, rb: number | null, pace: Pace): UncountedComputeFlag | null {
  const { ratio, like, mine, base } = pace;
  const baseRbs = like.map(readbackPerStep).filter((x): x is number => x !== null);
  const baseRb = baseRbs.length ? Math.max(...baseRbs) : null;
  const readback = rb !== null && rb >= READBACK_FLOOR_BYTES && rb > READBACK_FACTOR * (baseRb ?? 0);
  const slowRun = ratio > UNCOUNTED_COMPUTE_FACTOR;
  if (!slowRun && !readback) return null;
  const slow = `${ratio.toFixed(1)}× the training seconds per counted FLOP of the slowest of ${like.length} baseline run(s) of its hardware class (${mine.toExponential(2)} s against ${base.toExponential(2)} s; flagged above ${UNCOUNTED_COMPUTE_FACTOR}×)`;
  const read = `it read ${Math.round(rb ?? 0).toLocaleString('en')} bytes per step back into JavaScript (baselines at most ${Math.round(baseRb ?? 0).toLocaleString('en')})`;
  const figures = {
    ratio,
    secondsPerFlop: mine,
    baselineSecondsPerFlop: base,
    baselines: like.length,
    readbackBytesPerStep: rb,
    baselineReadbackBytesPerStep: baseRb,
  };
  if (!slowRun)
    return {
      kind: 'readback-heavy',
      ...figures,
      message: `${who}: readback-heavy — ${read}, at ${ratio.toFixed(1)}× the slowest baseline's seconds per counted FLOP: values kept in JavaScript can be computed on at evaluation, where no budget or clock reaches (or the model routes in JavaScript on wide scores): a maintainer should look`,
    };
  return {
    kind: readback ? 'readback-compute' : 'uncounted-compute',
    ...figures,
    message: readback
      ? `${who}: readback compute — ${slow}, and ${read}: compute on read-back values is not in the FLOP ledger; keep the model's compute in tfjs ops`
      : `${who}: uncounted compute? ${slow}; the FLOP ledger may be missing compute (or the model runs many small kernels): a maintainer should look`,
  };
}

/** Every flagged run of `records`, each compared with `baselines` (default: those of `records` whose module came from baselines/). */
export function uncountedComputeFlags(
  records: RunRecord[],
  baselines: readonly RunRecord[] = records.filter((r) => r.architecture.origin === 'baseline'),
): Array<{ record: RunRecord; flag: UncountedComputeFlag }> {
  return records.flatMap((record) => {
    const flag = uncountedCompute(record, baselines);
    return flag ? [{ record, flag }] : [];
  });
}

/**
 * `verify`'s reading of the flags: a re-run flagged for readback compute is refused; one
 * flagged for uncounted compute or heavy readbacks is refused unless the maintainer has
 * looked at the module and accepts it (`acceptSlow`), since honest models of many small
 * kernels are slow per FLOP too, and one that routes in JavaScript on wide scores reads back
 * much. `notes` say what was not checked, and why, so a verdict never implies a
 * check it did not make.
 */
export function uncountedComputeVerdict(
  reruns: readonly RunRecord[],
  baselines: readonly RunRecord[],
  acceptSlow: boolean,
): { reasons: string[]; notes: string[] } {
  const reasons: string[] = [];
  const notes: string[] = [];
  const unchecked = new Set<string>();
  for (const r of reruns) {
    if (!usable(r)) continue;
    const pace = paceAgainstBaselines(r, baselines);
    if (!pace) {
      unchecked.add(`${r.task.id} (${r.task.tier}, ${r.hardwareClass})`);
      continue;
    }
    const flag = flagOf(r, pace);
    const seed = `${r.task.id} seed ${r.task.seed}`;
    if (flag?.kind === 'readback-compute') reasons.push(`${seed}: ${flag.message}`);
    else if (flag && !acceptSlow)
      reasons.push(`${seed}: ${flag.message} (a maintainer who has read the module may accept it with --accept-slow)`);
    else if (flag) notes.push(`${seed}: accepted with --accept-slow: ${flag.message}`);
    else
      notes.push(
        `uncounted compute checked for ${seed}: ${pace.ratio.toFixed(2)}× the slowest baseline's seconds per counted FLOP (flagged above ${UNCOUNTED_COMPUTE_FACTOR}×)`,
      );
  }
  for (const u of unchecked)
    notes.push(
      `uncounted compute not checked for ${u}: the store holds no baseline runs of that task, tier and hardware class to compare with (run the baselines there first)`,
    );
  return { reasons, notes };
}
