/**
 * Which records' seconds may be compared: a pair's only where both ran on one machine class
 * and the machine was quiet at the start and the end of both trainings. A seconds cell with
 * too few such pairs says which of the two kept it empty.
 */
import type { RunRecord } from '../results/record.ts';

/** Whether a record's seconds count: the machine's load per core at most `max` at the start and at the end of training. */
export function isQuiet(r: RunRecord, max: number): boolean {
  const l = r.training.load;
  return l !== undefined && l.atStart / l.cores <= max && l.atEnd / l.cores <= max;
}

/** Whether a seed pair's seconds compare: one machine class, both quiet (`quiet`: the protocol's or the tables' test). */
export const timedPair =
  (quiet: (r: RunRecord) => boolean) =>
  (a: RunRecord, b: RunRecord): boolean =>
    a.hardwareClass === b.hardwareClass && quiet(a) && quiet(b);

type Pair = readonly [RunRecord, RunRecord];

/** The seed pairs whose seconds compare. */
export function timedPairs<P extends Pair>(pairs: readonly P[], quiet: (r: RunRecord) => boolean): P[] {
  const timed = timedPair(quiet);
  return pairs.filter(([a, b]) => timed(a, b));
}

/** The cell for seconds not measured: how many of the pairs were timed, and why the rest were not. */
export function secondsNotMeasured(pairs: readonly Pair[], quiet: (r: RunRecord) => boolean): string {
  const timed = timedPairs(pairs, quiet).length;
  const split = pairs.filter(([a, b]) => a.hardwareClass !== b.hardwareClass).length;
  return split === 0
    ? `not measured: the machine was busy (${timed} of ${pairs.length} seeds quiet)`
    : `not measured: ${timed} of ${pairs.length} seeds quiet on one machine class (${split} ran on two classes)`;
}
