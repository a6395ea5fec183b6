/** Seconds compare only within one machine class and on a quiet machine; an empty cell says which kept it empty. */
import { describe, expect, it } from 'vitest';
import { makeRun } from '../../test/support/store.ts';
import { reseal } from '../../test/support/submit.ts';
import type { RunRecord } from '../results/record.ts';
import { isQuiet, secondsNotMeasured, timedPair } from './timed.ts';

const run = (seed: number, hardwareClass: string, load: number): RunRecord =>
  reseal(makeRun({ arch: 'dense', seed, hardwareClass, curve: [[1e6, 0.9]] }), (u) => ({
    ...u,
    training: { ...u.training, load: { cores: 2, atStart: load, atEnd: load } },
  }));
const quiet = (r: RunRecord) => isQuiet(r, 1.5);

describe('timed seconds', () => {
  it('reads load per core at the start and the end, and no load at all as busy', () => {
    expect(quiet(run(0, 'A', 3))).toBe(true);
    expect(quiet(run(0, 'A', 3.01))).toBe(false);
    const { load: _load, ...training } = run(0, 'A', 1).training;
    expect(isQuiet({ ...run(0, 'A', 1), training }, 1.5)).toBe(false);
  });

  it('pairs only one machine class, and says whether load or the class split kept a cell empty', () => {
    const busy = [[run(0, 'A', 1), run(0, 'A', 5)] as const, [run(1, 'A', 1), run(1, 'A', 1)] as const];
    expect(busy.map(([a, b]) => timedPair(quiet)(a, b))).toEqual([false, true]);
    expect(secondsNotMeasured(busy, quiet)).toBe('not measured: the machine was busy (1 of 2 seeds quiet)');
    const [a, b] = [run(2, 'A', 1), run(2, 'B', 1)];
    const split = [...busy, [a, b] as const];
    expect(timedPair(quiet)(a, b)).toBe(false);
    expect(secondsNotMeasured(split, quiet)).toBe('not measured: 1 of 3 seeds quiet on one machine class (1 ran on two classes)');
  });
});
