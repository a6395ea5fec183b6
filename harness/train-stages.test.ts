/**
 * trainRun's stages one at a time, on real parts: the wasm backend with the harness's FLOP
 * counter, real tasks and the dense baseline (or a broken fixture) in this process, tiny
 * budgets. train.test.ts runs the whole pipeline; here each stage shows what it adds.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ActiveBackend, selectBackend } from './backend.ts';
import { ArchitectureError } from './errors.ts';
import { RunFailure } from './forward.ts';
import { loadArchitecture } from './load-architecture.ts';
import { createEnergyMeter } from './measure/energy.ts';
import { collectFingerprint, hardwareClass } from './measure/fingerprint.ts';
import { type FlopCounter, installFlopCounter } from './measure/flops.ts';
import { createMemoryTracker } from './measure/memory.ts';
import { sealRecord } from './results/files.ts';
import { type Fingerprint, RECORD_SCHEMA_VERSION, runRecord } from './results/record.ts';
import type { BuiltModel } from './runner.ts';
import { findTask } from './tasks/index.ts';
import {
  buildModelChecked,
  emptyObservations,
  evaluationSchedule,
  finalEvaluation,
  Interrupted,
  outcomeOf,
  prepareData,
  type RunContext,
  runId,
  runnerFor,
  runRecordOf,
  runSettings,
  stepLoop,
  type TrainOptions,
  tensorGuard,
  timedStep,
  trainingEnergy,
  untrainedEvaluation,
} from './train.ts';

const fixture = (name: string) => join(import.meta.dirname, '..', 'test', 'fixtures', name);
const small = { budgetFlops: 4e8, evalPoints: 3, timeLimitSeconds: 60 };

let backend: ActiveBackend;
let counter: FlopCounter;
let fingerprint: Fingerprint;

beforeAll(async () => {
  backend = await selectBackend('wasm');
  counter = installFlopCounter(backend.tfjsName);
  fingerprint = await collectFingerprint({ backend: backend.name, backendVersion: backend.version, device: backend.device });
});

async function options(over: Partial<TrainOptions> & { archName?: string } = {}): Promise<TrainOptions> {
  const { archName, ...rest } = over;
  return {
    task: findTask('parity'),
    tier: 'smoke',
    seed: 0,
    variantSeed: null,
    arch: await loadArchitecture(archName ?? 'dense'),
    backend,
    counter,
    fingerprint,
    hardwareClass: hardwareClass(fingerprint),
    settings: small,
    ...rest,
  };
}

function contextOf(opts: TrainOptions): RunContext {
  return {
    opts,
    settings: runSettings(opts),
    id: runId(opts, Date.now()),
    meter: createEnergyMeter({ target: 'cpu' }),
    memory: createMemoryTracker(tf),
    probe: null,
    obs: emptyObservations(),
  };
}

/** A run with its data and built model, ready to train; `dispose` frees both. */
async function built(over: Parameters<typeof options>[0] = {}) {
  const run = contextOf(await options(over));
  const data = prepareData(run.opts);
  const runner = runnerFor(run, data);
  const model = await buildModelChecked(run, runner);
  return {
    run,
    data,
    runner,
    model,
    dispose: () => {
      runner.dispose();
      data.dispose();
    },
  };
}

describe('settings and identity', () => {
  it('takes the tier, then the overrides, then a tuned learning rate', async () => {
    const task = findTask('parity');
    const tier = task.tiers.smoke;
    expect(runSettings({ task, tier: 'smoke' })).toEqual(tier);
    expect(runSettings({ task, tier: 'smoke', settings: { evalPoints: 3 } }).evalPoints).toBe(3);
    const tuning = {
      source: 't',
      grid: [1e-3, 3e-3],
      chosen: 3e-3,
      validationMetric: 'accuracy',
      higherIsBetter: true,
      validationQualities: [0.5, 0.6],
      budgetFraction: 0.25,
      seed: 0,
    };
    expect(runSettings({ task, tier: 'smoke', settings: { learningRate: 1 }, tuning }).learningRate).toBe(3e-3);
  });

  it('names a run by tier, task, architecture, seed, UTC time and a random tag', async () => {
    const id = runId(await options(), Date.parse('2026-12-07T13:00:00.123Z'));
    expect(id).toMatch(/^smoke\.parity\.dense\.s0\.20261207t130000123z\.[0-9a-f]{4}$/);
  });
});

describe('stage 1: the data', () => {
  it('gives the same training batches for the same seed, and held-out batches to evaluate on', async () => {
    const opts = await options();
    const [a, b] = [prepareData(opts), prepareData(opts)];
    const [x, y] = [a.nextTrainBatch(8), b.nextTrainBatch(8)];
    expect(Array.from(x.x.dataSync())).toEqual(Array.from(y.x.dataSync()));
    expect(a.evalBatches.length).toBeGreaterThan(0);
    tf.dispose([x.x, x.y, x.groups, y.x, y.y, y.groups]);
    a.dispose();
    b.dispose();
  });
});

describe('stage 2: build and check the model', () => {
  it("counts the parameters from the model's variables and prices a step, before any training", async () => {
    const b = await built();
    expect(b.run.obs.params.total).toBeGreaterThan(0);
    expect(b.run.obs.params.active).toBeLessThanOrEqual(b.run.obs.params.total);
    expect(b.run.obs.perStepModelFlops).toBeGreaterThan(0);
    expect(b.run.obs.steps).toBe(0);
    b.dispose();
  });

  it("refuses a model over the tier's caps, keeping the parameters it counted", async () => {
    const run = contextOf(await options({ arch: await loadArchitecture(fixture('broken/too-big.ts')), archName: undefined }));
    const data = prepareData(run.opts);
    const runner = runnerFor(run, data);
    await expect(buildModelChecked(run, runner)).rejects.toThrow(/make it smaller/);
    expect(run.obs.params.total).toBeGreaterThan(run.settings.size.maxParams);
    runner.dispose();
    data.dispose();
  });
});

describe('stage 4: the evaluation schedule', () => {
  it('is due once per step that passes grid points, never at the last point (the final evaluation)', () => {
    // points at 1, 10 and 100 FLOPs of a 100-FLOP budget
    const s = evaluationSchedule(100, 3);
    expect([0.5, 1, 5, 10, 50, 100].map((f) => s.dueAfterStep(f))).toEqual([false, true, false, true, false, false]);
    const jump = evaluationSchedule(100, 3);
    expect(jump.dueAfterStep(20)).toBe(true); // two points passed in one step: one evaluation
    expect(jump.dueAfterStep(30)).toBe(false);
  });

  it('puts the untrained model at step 0 of the curve', async () => {
    const b = await built();
    await untrainedEvaluation(b.run, b.runner, b.data);
    expect(b.run.obs.curve).toHaveLength(1);
    expect(b.run.obs.curve[0]).toMatchObject({ step: 0, seconds: 0, trainLoss: null });
    expect(b.run.obs.curve[0]?.flops).toBe(b.run.obs.ledger.total); // build()'s FLOPs, if any
    b.dispose();
  });
});

describe('stage 3: the budgeted step loop', () => {
  it('times a step and adds its FLOPs, seconds and loss', async () => {
    const b = await built();
    const { result } = await timedStep(b.run, b.runner, b.data);
    expect(b.run.obs.steps).toBe(1);
    expect(b.run.obs.ledger.total).toBeGreaterThan(0);
    expect(b.run.obs.trainSeconds).toBeGreaterThan(0);
    expect(b.run.obs.firstStepSeconds).toBe(b.run.obs.trainSeconds);
    expect(b.run.obs.lossSum).toBe(result.loss);
    expect(b.run.obs.modelFlops).toBe(b.run.obs.perStepModelFlops);
    b.dispose();
  });

  it('trains to the budget, evaluating on the schedule', async () => {
    const b = await built();
    await untrainedEvaluation(b.run, b.runner, b.data);
    await stepLoop(b.run, b.runner, b.data, b.model, evaluationSchedule(small.budgetFlops, small.evalPoints));
    const { obs } = b.run;
    expect(obs.ledger.total).toBeGreaterThanOrEqual(small.budgetFlops);
    expect(obs.ledger.total - obs.ledger.total / obs.steps).toBeLessThan(small.budgetFlops); // the step past the budget was the last
    expect(obs.curve.length).toBe(small.evalPoints); // step 0 and the grid's points before the last
    b.dispose();
  });

  it("stops at the tier's time limit, and at once when interrupted", async () => {
    const late = await built({ settings: { ...small, timeLimitSeconds: 0 } });
    const e = await stepLoop(late.run, late.runner, late.data, late.model, evaluationSchedule(small.budgetFlops, 2)).catch((x) => x);
    expect(e).toBeInstanceOf(RunFailure);
    expect(e).toMatchObject({ status: 'timeout' });
    expect(late.run.obs.steps).toBe(1);
    late.dispose();
    const stop = new AbortController();
    stop.abort();
    const cut = await built({ signal: stop.signal });
    await expect(stepLoop(cut.run, cut.runner, cut.data, cut.model, evaluationSchedule(small.budgetFlops, 2))).rejects.toBeInstanceOf(
      Interrupted,
    );
    expect(cut.run.obs.steps).toBe(0);
    cut.dispose();
  });

  it('refuses tensors that pile up across steps', async () => {
    const b = await built({ task: findTask('mnist'), arch: await loadArchitecture(fixture('broken/leaks.ts')) });
    await expect(stepLoop(b.run, b.runner, b.data, b.model, evaluationSchedule(small.budgetFlops, 2))).rejects.toThrow(/leaks tensors/);
    b.dispose();
    // the same guard on counts: three steps past step 2's count is a leak; the same count is not
    const model = { heldBytes: 0 } as BuiltModel;
    const steady = tensorGuard(model, 0);
    for (let s = 2; s < 10; s++) steady(s, { numTensors: 10, numBytes: 0 }, 0);
    const growing = tensorGuard(model, 0);
    growing(2, { numTensors: 10, numBytes: 0 }, 0);
    growing(3, { numTensors: 11, numBytes: 0 }, 0);
    growing(4, { numTensors: 12, numBytes: 0 }, 0);
    expect(() => growing(5, { numTensors: 13, numBytes: 0 }, 0)).toThrow(/3 more tensors alive after step 5/);
  });
});

describe('stage 5: the final evaluation and legibility', () => {
  it('adds the last curve point and gives the final figures with their legibility', async () => {
    const b = await built();
    await untrainedEvaluation(b.run, b.runner, b.data);
    await stepLoop(b.run, b.runner, b.data, b.model, evaluationSchedule(small.budgetFlops, small.evalPoints));
    const final = await finalEvaluation(b.run, b.runner, b.data);
    const last = b.run.obs.curve.at(-1);
    expect(final.quality).toBe(last?.quality);
    expect(last?.flops).toBe(b.run.obs.ledger.total);
    expect(final.legibility.activationSparsity).not.toBeNull();
    expect(final.legibility.ablation).toBeNull(); // dense has no experts to mask
    b.dispose();
  });
});

describe('stage 6: the record', () => {
  it('says why a run did not complete, from what was thrown; an interrupt makes no record', () => {
    expect(outcomeOf(new RunFailure('train', 'loss NaN', 'diverged'))).toEqual({
      status: 'diverged',
      failure: { phase: 'train', message: 'loss NaN' },
    });
    expect(outcomeOf(new ArchitectureError('bad module'))).toEqual({
      status: 'failed',
      failure: { phase: 'build', message: 'bad module' },
    });
    expect(outcomeOf(new Error('oops')).failure?.message).toMatch(/^harness error: Error: oops/);
    expect(() => outcomeOf(new Interrupted('interrupted'))).toThrow(Interrupted);
  });

  it('is a valid version-2 record of what was observed, with no derived figure in it', async () => {
    const b = await built();
    const startedMs = Date.now();
    await untrainedEvaluation(b.run, b.runner, b.data);
    await stepLoop(b.run, b.runner, b.data, b.model, evaluationSchedule(small.budgetFlops, small.evalPoints));
    b.run.obs.final = await finalEvaluation(b.run, b.runner, b.data);
    b.dispose();
    const record = sealRecord(runRecordOf(b.run, { status: 'completed', failure: null }, { startedMs, loadAtStart: 0, runner: b.runner }));
    expect(runRecord.safeParse(record).success).toBe(true);
    expect(record.schemaVersion).toBe(RECORD_SCHEMA_VERSION);
    expect(record).not.toHaveProperty('costToTarget');
    expect(record.training).toMatchObject({ steps: b.run.obs.steps, budgetFlops: small.budgetFlops, confined: false });
    expect(record.curve).toEqual(b.run.obs.curve);
    expect(record.flops.executed).toBe(b.run.obs.ledger.total);
  });

  it('keeps energy unmeasured, with the reason, where no counter can be read', () => {
    const meter = createEnergyMeter({ target: 'cpu', powercapRoot: '/nonexistent', nvml: false });
    meter.begin();
    const { energy, powerTrace } = trainingEnergy(meter, { evalJoules: 0, trainSeconds: 1 });
    expect(energy.measured).toBe(false);
    expect(powerTrace).toEqual([]);
  });
});
