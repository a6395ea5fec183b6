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
import { beyondEdge, choose, pick, runTune } from './tune.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mp-tune-test-'));
const tiny = { budgetFlops: 4e8, evalPoints: 2, timeLimitSeconds: 60 };
/** tune dense on the toy task into `file` */
const toyTune = (file: string) => ({
  tier: 'smoke' as const,
  tasks: ['superposition'],
  archs: ['dense'],
  backend: 'wasm' as const,
  file,
});
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
    await expect(parse('--seeds', '900')).rejects.toThrow(/two or more distinct/);
    await expect(parse('--seeds', '900,900')).rejects.toThrow(/two or more distinct/);
    await expect(parse('--seed', '1', '--seeds', '900,901')).rejects.toThrow(/cannot be used with/);
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

describe('pick, several seeds per value', () => {
  const t = (learningRate: number, seed: number, quality: number | null) => ({
    learningRate,
    seed,
    status: quality === null ? ('diverged' as const) : ('completed' as const),
    quality,
    steps: 9,
    failure: quality === null ? 'NaN' : null,
  });
  // per value: three seeds spread ±0.01 about the mean, so the pooled seed SD is 0.01
  const at = (lr: number, mean: number) => [t(lr, 0, mean - 0.01), t(lr, 1, mean), t(lr, 2, mean + 0.01)];
  const grid = [0.5, 1, 2];
  it('takes the best mean where it beats the runner-up by more than the pooled seed SD', () => {
    const entry = { grid, centre: 1, higherIsBetter: false, trials: [...at(0.5, 0.3), ...at(1, 0.32), ...at(2, 0.4)] };
    const p = pick(entry);
    expect(p.chosen).toBe(0.5);
    expect(p.clear).toBe(true);
    expect(p.why).toMatch(/gap of 0\.02, seed SD 0\.01/);
  });
  it('keeps the grid centre where the best is within the seed SD of the runner-up, and says so', () => {
    const entry = { grid, centre: 1, higherIsBetter: false, trials: [...at(0.5, 0.3), ...at(1, 0.305), ...at(2, 0.4)] };
    const p = pick(entry);
    expect(p.chosen).toBe(1);
    expect(p.clear).toBe(false);
    expect(p.why).toMatch(/centre, the earlier choice, is kept/);
    // a kept centre is no evidence of an optimum past the edge: the grid does not grow
    const edge = { grid, centre: 1, higherIsBetter: true, trials: [...at(0.5, 0.3), ...at(1, 0.395), ...at(2, 0.4)] };
    expect(pick(edge).chosen).toBe(1);
    expect(beyondEdge(edge, grid, 2)).toBeUndefined();
    const clearEdge = { grid, centre: 1, higherIsBetter: true, trials: [...at(0.5, 0.3), ...at(1, 0.35), ...at(2, 0.4)] };
    expect(beyondEdge(clearEdge, grid, 2)).toBe(4);
  });
  it('counts a value only where every seed completed; with no centre left it takes the best and says why', () => {
    const trials = [...at(0.5, 0.3), t(1, 0, 0.2), t(1, 1, null), t(1, 2, 0.2), ...at(2, 0.305)];
    const p = pick({ grid, centre: 1, higherIsBetter: false, trials });
    expect(p.chosen).toBe(0.5);
    expect(p.why).toMatch(/no completed centre/);
    expect(pick({ grid, centre: 1, higherIsBetter: false, trials: [t(1, 0, null)] }).chosen).toBeNull();
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
      ...toyTune(file),
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

describe('middlepath tune with several seeds, around an earlier choice (smoke tier, tiny budgets)', () => {
  it('centres the grid on the earlier choice, runs every seed of every value, and records means and why', async () => {
    const dir = tmp();
    const earlierFile = join(dir, 'earlier.json');
    const opts = {
      tier: 'smoke' as const,
      tasks: ['superposition'],
      archs: ['dense'],
      backend: 'wasm' as const,
      multipliers: [0.5, 1, 2],
      extend: 0,
      settings: tiny,
    };
    await runTune({ ...opts, file: earlierFile, multipliers: [1, 3] });
    const earlier = tuningFile.parse(JSON.parse(readFileSync(earlierFile, 'utf8'))).entries[0];
    const centre = earlier?.chosen as number;
    expect(centre).toBeGreaterThan(0);

    const file = join(dir, 'seeds.json');
    const run = await runTune({ ...opts, file, seeds: [7, 8], around: earlierFile, jobs: 2 });
    expect(run.trialsRun).toBe(6);
    const saved = tuningFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    const [entry] = saved.entries;
    expect(entry?.grid).toEqual([0.5, 1, 2].map((m) => Number((m * centre).toPrecision(3))));
    expect(entry?.centre).toBe(centre);
    expect(entry?.seeds).toEqual([7, 8]);
    expect(entry?.trials.map((t) => `${t.learningRate}/${t.seed}`).sort()).toEqual(
      (entry?.grid ?? []).flatMap((lr) => [`${lr}/7`, `${lr}/8`]).sort(),
    );
    // two seeds of one value differ (different initial weights and data order)
    const first = entry?.trials.filter((t) => t.learningRate === entry.grid[0]).map((t) => t.quality);
    expect(first?.[0]).not.toBe(first?.[1]);
    expect(entry?.chosen).toBe(pick(entry as NonNullable<typeof entry>).chosen);
    expect(entry?.why).toMatch(/seed SD/);
    expect((await runTune({ ...opts, file, seeds: [7, 8], around: earlierFile })).trialsRun).toBe(0);

    // a run trains at the choice and records the seeds, the per-value means and why
    const { records } = await toyRun(file);
    const r = runRecord.parse(records[0]);
    expect(r.training.learningRate).toBe(entry?.chosen);
    expect(r.tuning?.seeds).toEqual([7, 8]);
    expect(r.tuning?.why).toBe(entry?.why);
    const mean = (lr: number) => {
      const q = (entry?.trials ?? []).filter((t) => t.learningRate === lr).map((t) => t.quality as number);
      return (q[0] as number) / 2 + (q[1] as number) / 2;
    };
    const means = (entry?.grid ?? []).map(mean);
    expect(r.tuning?.validationQualities.map((q) => Number(q?.toPrecision(12)))).toEqual(means.map((m) => Number(m.toPrecision(12))));
  }, 300_000);
});

describe("middlepath tune with knobs (a sweep cell's)", () => {
  it('keeps an entry of its own per knob set, which the standard suite never reads', async () => {
    const file = join(tmp(), 'knobs.json');
    const opts = {
      ...toyTune(file),
      multipliers: [1, 2],
      extend: 0,
      settings: tiny,
    };
    expect((await runTune({ ...opts, knobs: { evalPoints: 3 } })).trialsRun).toBe(2);
    expect((await runTune(opts)).trialsRun).toBe(2); // the standard configuration is another entry
    expect((await runTune({ ...opts, knobs: { evalPoints: 3 } })).trialsRun).toBe(0); // and the knobbed one resumes
    const saved = tuningFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(saved.entries.map((e) => e.knobs ?? null)).toEqual([{ evalPoints: 3 }, null]);
    // the suite reads the knob-less entry only
    const standard = saved.entries.find((e) => !e.knobs);
    const knobbed = saved.entries.find((e) => e.knobs);
    if (!standard || !knobbed) throw new Error('both entries expected');
    writeFileSync(
      file,
      JSON.stringify({
        ...saved,
        entries: [
          { ...knobbed, chosen: 123 },
          { ...standard, chosen: 0.5 },
        ],
      }),
    );
    const { records } = await toyRun(file);
    expect(records[0]?.training.learningRate).toBe(0.5);
  }, 300_000);
});
