/**
 * Learning-rate tuning end to end on the smoke tier with tiny budgets: it picks the grid
 * value with the best validation quality, resumes without re-running recorded trials,
 * and a suite run then trains at the chosen value and records the tuning it used.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runRecord } from '../results/record.ts';
import { tuningFile } from '../results/tuning.ts';
import { runKey } from '../run-key.ts';
import { runSuite } from '../suite.ts';
import { TASKS } from '../tasks/index.ts';
import { registerTuneCommands } from './cli.ts';
import { beyondEdge, choose, runTune } from './tune.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mp-tune-test-'));
const tiny = { budgetFlops: 4e8, evalPoints: 2, timeLimitSeconds: 60 };
/** dense on the toy task, with the given tuning file (null: none) */
const toyRun = (tuningFile: string | null) =>
  runSuite({
    tier: 'smoke',
    backend: 'wasm',
    outDir: tmp(),
    seeds: 1,
    tasks: ['superposition'],
    archs: ['dense'],
    settings: tiny,
    tuningFile,
  });

describe('the tune command', () => {
  it('refuses a bad grid or budget fraction with what to fix', async () => {
    const parse = (...args: string[]) => {
      const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
      registerTuneCommands(program);
      return program.parseAsync(['node', 'middlepath', 'tune', ...args]);
    };
    await expect(parse('--grid', '1,-2')).rejects.toThrow(/positive numbers separated by commas/);
    await expect(parse('--budget-fraction', '1.5')).rejects.toThrow(/in \(0, 1\]/);
  });
});

describe('choose', () => {
  it('takes the best completed trial in the metric’s direction, ignoring failed ones', () => {
    const trials = [
      { learningRate: 1, status: 'completed' as const, quality: 0.5, steps: 9, failure: null },
      { learningRate: 2, status: 'completed' as const, quality: 0.7, steps: 9, failure: null },
      { learningRate: 4, status: 'diverged' as const, quality: null, steps: 3, failure: 'NaN' },
    ];
    expect(choose({ grid: [1, 2, 4], trials, higherIsBetter: true })).toBe(2);
    expect(choose({ grid: [1, 2, 4], trials, higherIsBetter: false })).toBe(1);
    expect(choose({ grid: [4], trials, higherIsBetter: true })).toBeNull();
  });
});

describe('beyondEdge', () => {
  const done = (learningRate: number, quality: number) => ({
    learningRate,
    status: 'completed' as const,
    quality,
    steps: 9,
    failure: null,
  });
  const given = [0.3, 1, 3];
  it('steps past the edge the best value sits on, by the given grid’s ratio on that side', () => {
    const up = { grid: given, trials: [done(0.3, 0.5), done(1, 0.6), done(3, 0.7)], higherIsBetter: true };
    expect(beyondEdge(up, given, 2)).toBe(9);
    const down = { grid: given, trials: [done(0.3, 0.7), done(1, 0.6), done(3, 0.5)], higherIsBetter: true };
    expect(beyondEdge(down, given, 2)).toBeCloseTo(0.09, 10);
  });
  it('stops when the best is interior, when the extension is spent, or when nothing completed', () => {
    expect(
      beyondEdge({ grid: given, trials: [done(0.3, 0.5), done(1, 0.9), done(3, 0.7)], higherIsBetter: true }, given, 2),
    ).toBeUndefined();
    const grown = [0.3, 1, 3, 9, 27];
    const trials = grown.map((lr) => done(lr, lr)); // best at 27, two steps past the given grid already
    expect(beyondEdge({ grid: grown, trials, higherIsBetter: true }, given, 2)).toBeUndefined();
    expect(beyondEdge({ grid: grown.slice(0, 4), trials: trials.slice(0, 4), higherIsBetter: true }, given, 2)).toBe(27);
    expect(beyondEdge({ grid: given, trials: [], higherIsBetter: true }, given, 2)).toBeUndefined();
    expect(
      beyondEdge({ grid: given, trials: [done(0.3, 0.5), done(1, 0.6), done(3, 0.7)], higherIsBetter: true }, given, 0),
    ).toBeUndefined();
  });
  it('a diverged trial past the edge leaves the chosen value interior, so the grid stops growing', () => {
    const grid = [0.3, 1, 3, 9];
    const trials = [
      done(0.3, 0.5),
      done(1, 0.6),
      done(3, 0.7),
      { learningRate: 9, status: 'diverged' as const, quality: null, steps: 3, failure: 'NaN' },
    ];
    expect(choose({ grid, trials, higherIsBetter: true })).toBe(3);
    expect(beyondEdge({ grid, trials, higherIsBetter: true }, given, 2)).toBeUndefined();
  });
});

describe('middlepath tune (smoke tier, tiny budgets)', () => {
  it('picks from the grid on the validation split, resumes, and a run records the tuning it used', async () => {
    const file = join(tmp(), 'smoke.json');
    const opts = {
      tier: 'smoke' as const,
      tasks: ['superposition'],
      archs: ['dense'],
      backend: 'wasm' as const,
      file,
      multipliers: [0.5, 1, 2],
      extend: 0,
      settings: tiny,
    };
    const first = await runTune(opts);
    expect(first.trialsRun).toBe(3);
    const saved = tuningFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    const [entry] = saved.entries;
    const base = TASKS.find((t) => t.spec.id === 'superposition')?.tiers.smoke.learningRate ?? 0;
    expect(entry?.grid).toEqual([0.5 * base, base, 2 * base]);
    expect(entry?.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    // lower is better on the toy task: the chosen value is the grid value with the least validation loss
    const best = [...(entry?.trials ?? [])].sort((a, b) => (a.quality ?? 0) - (b.quality ?? 0))[0];
    expect(entry?.chosen).toBe(best?.learningRate);
    expect(entry?.budgetFraction).toBe(0.25);

    // resumable: nothing re-runs; a trial removed from the file is the only one that runs again
    expect((await runTune(opts)).trialsRun).toBe(0);
    const trimmed = { ...saved, entries: saved.entries.map((e) => ({ ...e, trials: e.trials.slice(0, 2), chosen: null })) };
    writeFileSync(file, JSON.stringify(trimmed));
    const resumed = await runTune(opts);
    expect(resumed.trialsRun).toBe(1);
    expect(resumed.entries[0]?.chosen).toBe(entry?.chosen);

    // allowed to grow: a best value on the grid's edge gets one trial beyond it, an interior one none
    const onEdge = entry?.chosen === 0.5 * base || entry?.chosen === 2 * base;
    const grown = await runTune({ ...opts, extend: 1 });
    expect(grown.trialsRun).toBe(onEdge ? 1 : 0);
    expect(grown.entries[0]?.grid.length).toBe(onEdge ? 4 : 3);
    writeFileSync(file, JSON.stringify(saved)); // back to the three-value tuning for the run below

    // the suite trains at the chosen value and says so in the record (and in the run key)
    const { records } = await toyRun(file);
    const r = runRecord.parse(records[0]);
    expect(r.training.learningRate).toBe(entry?.chosen);
    expect(r.tuning?.grid).toEqual(entry?.grid);
    expect(r.tuning?.chosen).toBe(entry?.chosen);
    expect(r.tuning?.validationQualities).toEqual(entry?.trials.map((t) => t.quality));
    expect(r.tuning?.budgetFraction).toBe(0.25);
    expect(r.evaluationSplit).toBe('test');
    expect(r.key).not.toBe(
      runKey({ task: 'superposition', tier: 'smoke', seed: 0, variantSeed: null, sourceHash: r.architecture.sourceHash }),
    );
    // without tuning: the tier's rate, no tuning field
    const plain = await toyRun(null);
    expect(plain.records[0]?.training.learningRate).toBe(base);
    expect(plain.records[0]?.tuning).toBeUndefined();
  }, 300_000);
});
