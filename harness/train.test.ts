/**
 * The training loop on real tasks with real (tiny) budgets: determinism, no tensor leaks,
 * and every way an architecture can break is recorded with a specific reason while the
 * suite goes on.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runSuite, type SuiteOptions } from './suite.ts';
import { evaluationGrid, FIRST_EVAL_FRACTION } from './train.ts';

const fixture = (name: string) => join(import.meta.dirname, '..', 'test', 'fixtures', name);
const small = { budgetFlops: 4e8, evalPoints: 2, timeLimitSeconds: 60 };
const tmp = () => mkdtempSync(join(tmpdir(), 'mp-train-'));

function suite(over: Partial<SuiteOptions>) {
  return runSuite({ tier: 'smoke', backend: 'wasm', outDir: tmp(), seeds: 1, settings: small, tasks: ['mnist'], ...over });
}

describe('evaluation grid', () => {
  it('spaces the points evenly in log-FLOPs from 1% of the budget to the end', () => {
    const grid = evaluationGrid(20);
    expect(grid).toHaveLength(20);
    expect(grid[0]).toBeCloseTo(FIRST_EVAL_FRACTION, 12);
    expect(grid[19]).toBe(1);
    const ratios = grid.slice(1).map((f, i) => f / (grid[i] as number));
    for (const q of ratios) expect(q).toBeCloseTo(100 ** (1 / 19), 9);
    expect(evaluationGrid(1)).toEqual([1]);
    expect(() => evaluationGrid(0)).toThrow(/positive integer/);
  });
});

describe('training loop', () => {
  it('trains to the FLOP budget and records a curve on the fixed schedule', async () => {
    const settings = { ...small, budgetFlops: 3e9 };
    const { records } = await suite({ archs: ['dense'], settings });
    const r = records[0];
    expect(r?.status).toBe('completed');
    if (!r?.final) throw new Error('no final results');
    expect(r.flops.executed).toBeGreaterThanOrEqual(settings.budgetFlops);
    expect(r.flops.executed - settings.budgetFlops).toBeLessThanOrEqual(r.flops.perStep); // stops at the first step past the budget
    expect(r.curve.map((p) => p.step)[0]).toBe(0);
    expect(r.curve).toHaveLength(small.evalPoints + 1);
    // the grid is log-spaced: the first evaluation after step 0 is the first step past 1% of the budget
    const first = r.curve[1];
    expect(first?.flops).toBeGreaterThanOrEqual(FIRST_EVAL_FRACTION * settings.budgetFlops);
    expect((first?.flops ?? 0) - r.flops.perStep).toBeLessThan(FIRST_EVAL_FRACTION * settings.budgetFlops);
    expect(r.final.quality).toBeGreaterThan(0.8); // ~40 steps of mnist
    expect(r.energy).toEqual({ measured: false, reason: expect.stringContaining('energy cannot be read') });
    expect(r.backend.name).toBe('wasm');
    // the machine's load beside the seconds, so a busy machine's slower seconds can be told apart
    expect(r.training.load?.cores).toBe(availableParallelism());
    expect(r.training.load?.atStart).toBeGreaterThanOrEqual(0);
    expect(r.training.load?.atEnd).toBeGreaterThan(0); // the run itself was running a moment ago
  });

  it('gives the same loss curve for the same seed, and a different one for another seed', async () => {
    const out = tmp();
    const a = await suite({ archs: ['dense'], outDir: out, tasks: ['parity'] });
    const b = await suite({ archs: ['dense'], outDir: out, tasks: ['parity'], force: true });
    const c = await suite({ archs: ['dense'], tasks: ['parity'], seeds: 2 });
    const curve = (r: (typeof a.records)[number] | undefined) => r?.curve.map((p) => [p.trainLoss, p.quality, p.evalLoss]);
    expect(curve(a.records[0])).toEqual(curve(b.records[0]));
    expect(curve(c.records[1])).not.toEqual(curve(c.records[0]));
  });

  it('leaks no tensors across steps or runs', async () => {
    const before = tf.memory().numTensors;
    await suite({ archs: ['dense'], tasks: ['superposition', 'parity'] });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skips runs already recorded unless forced', async () => {
    const out = tmp();
    const first = await suite({ archs: ['dense'], outDir: out });
    const again = await suite({ archs: ['dense'], outDir: out });
    expect(first.records).toHaveLength(1);
    expect(again.records).toHaveLength(0);
    expect(again.skipped).toBe(1);
  });

  it('runs exactly the seeds listed, skipping those recorded, and refuses a list with a count', async () => {
    const out = tmp();
    const first = await suite({ archs: ['dense'], outDir: out, seeds: undefined, seedList: [2] });
    expect(first.records.map((r) => r.task.seed)).toEqual([2]);
    const again = await suite({ archs: ['dense'], outDir: out, seeds: undefined, seedList: [1, 2] });
    expect(again.records.map((r) => r.task.seed)).toEqual([1]);
    expect(again.skipped).toBe(1);
    await expect(suite({ archs: ['dense'], outDir: out, seeds: 2, seedList: [0] })).rejects.toThrow(/--seeds .* or --seed .*, not both/);
  });

  it('records each broken architecture with a specific reason and goes on', async () => {
    const out = tmp();
    const ok = await suite({ archs: ['dense'], outDir: out });
    const okPath = join(out, 'runs', `${ok.records[0]?.id}.json`);
    const okBytes = readFileSync(okPath, 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['throws-build', 'failed', /build\(\) threw: expert count must be a power of two/],
      ['throws-forward', 'failed', /router weights not initialised/],
      ['wrong-shape', 'failed', /output of shape \[500, 9\]; the task 'mnist' needs \[500, 10\]/],
      ['nan-output', 'diverged', /not finite|NaN/],
      ['leaks', 'failed', /leaks tensors/],
      ['too-big', 'failed', /parameters .* allows .* make it smaller/],
    ];
    const { records, loadErrors } = await suite({
      archs: [
        ...cases.map(([name]) => fixture(`broken/${name}.ts`)),
        fixture('broken/no-default.ts'),
        fixture('broken/wrong-export.ts'),
        fixture('broken/syntax-error.ts'),
        fixture('broken/bad-definition.ts'),
        fixture('broken/claims-control.ts'),
        'dense',
      ],
      outDir: out,
      force: true,
    });
    for (const [name, status, message] of cases) {
      const r = records.find((x) => x.architecture.name === name);
      expect(r?.status, name).toBe(status);
      expect(r?.failure?.message, name).toMatch(message);
    }
    expect(loadErrors.map((e) => e.message)).toEqual([
      expect.stringMatching(/no-default\.ts has no default export — end it with `export default defineArchitecture/),
      expect.stringMatching(/wrong-export\.ts: the default export is not an architecture/),
      expect.stringMatching(/syntax-error\.ts failed to load/),
      expect.stringMatching(/bad-definition\.ts failed to load: defineArchitecture: name: name must be lower-case.*build/),
      expect.stringMatching(/claims-control\.ts declares control: 'matched-total', which only the harness's own baselines may/),
    ]);
    expect(records.at(-1)?.architecture.name).toBe('dense'); // the suite went on
    expect(records.at(-1)?.status).toBe('completed');
    expect(readFileSync(okPath, 'utf8')).toBe(okBytes); // nothing recorded was touched
  });

  it('stops a run past its time limit and records it as a timeout', async () => {
    const { records } = await suite({ archs: ['dense'], settings: { ...small, budgetFlops: 1e13, timeLimitSeconds: 0.5 } });
    expect(records[0]?.status).toBe('timeout');
    expect(records[0]?.failure?.message).toMatch(/limit is 0.5 s/);
  });

  it('records an architecture that refuses the task as refused (not failed), before training', async () => {
    const { records } = await suite({ archs: [fixture('tiny-mlp.ts')], tasks: ['charlm'] });
    expect(records[0]?.status).toBe('refused');
    expect(records[0]?.failure).toEqual({ phase: 'build', message: expect.stringContaining('tiny-mlp only takes vector inputs') });
    expect(records[0]?.training.steps).toBe(0);
  });
});
