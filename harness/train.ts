/**
 * The training loop: one architecture on one task at one tier and seed, trained until the
 * executed FLOPs reach the tier's budget, evaluated on a fixed FLOP schedule. Returns the
 * run record (unsealed). A run that diverges, times out or throws is still a record, with
 * the reason; only an interrupt (Ctrl-C) produces nothing.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { Model, SizeSpec, TaskSpec } from './architecture.ts';
import type { ActiveBackend } from './backend.ts';
import { createBuildContext, type OwnedBuildContext } from './build-context.ts';
import { ArchitectureError, thrownMessage } from './errors.ts';
import { ablateExperts, evaluate } from './evaluate.ts';
import { checkedForward, RunFailure } from './forward.ts';
import type { LoadedArchitecture } from './load-architecture.ts';
import { createEnergyMeter, type EnergyMeter } from './measure/energy.ts';
import type { FlopCounter } from './measure/flops.ts';
import { createMemoryTracker } from './measure/memory.ts';
import { modelFlopsPerStep, paramCounts } from './measure/model-flops.ts';
import { densityOfChange } from './metrics/index.ts';
import {
  type CurvePoint,
  type Fingerprint,
  RECORD_SCHEMA_VERSION,
  type RunStatus,
  type TierName,
  type TuningRecord,
  type UnhashedRecord,
} from './results/record.ts';
import { runKey } from './run-key.ts';
import type { Batch, EvalSplit, Task, TaskData, TierSettings } from './tasks/types.ts';
import { HARNESS_VERSION } from './version.ts';

export interface TrainOptions {
  task: Task;
  tier: TierName;
  seed: number;
  /** held-out variant of the task's data; null for the public data */
  variantSeed: number | null;
  arch: LoadedArchitecture;
  backend: ActiveBackend;
  counter: FlopCounter;
  fingerprint: Fingerprint;
  hardwareClass: string;
  /** overrides of the tier's settings (tests use small budgets) */
  settings?: Partial<TierSettings>;
  /** idle power window before the run; 0 skips it */
  idleSeconds?: number;
  onProgress?: (p: Progress) => void;
  /** set by Ctrl-C: the run stops between steps and no record is written */
  signal?: AbortSignal;
  energyMeter?: () => EnergyMeter;
  /** which held-out set to evaluate on: 'test' (default) or 'validation' (tuning trials) */
  split?: EvalSplit;
  /** the tuning whose chosen learning rate this run trains at (it overrides the tier's) */
  tuning?: TuningRecord;
}

export interface Progress {
  step: number;
  flops: number;
  budgetFlops: number;
  loss: number | null;
  seconds: number;
  lastQuality: number | null;
}

export class Interrupted extends Error {
  override name = 'Interrupted';
}

/** Adam whose learning rate the harness's schedule sets before every step. */
export class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number) {
    this.learningRate = lr;
  }
}

/** Linear warm-up over the first 5% of the budget, then cosine decay to 10% of the peak. */
export function learningRateAt(fraction: number, peak: number): number {
  const f = Math.min(Math.max(fraction, 0), 1);
  const warmup = 0.05;
  if (f < warmup) return peak * Math.max(f / warmup, 0.02);
  const progress = (f - warmup) / (1 - warmup);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

/** The first evaluation after step 0 comes at this share of the budget. */
export const FIRST_EVAL_FRACTION = 0.01;

/**
 * Fractions of the budget at which the loop evaluates: `points` values spaced evenly in
 * log-FLOPs from FIRST_EVAL_FRACTION to 1 (the final evaluation), so the early part of
 * every curve, where cost-to-target is decided, is sampled densely (~1.27× apart at 20
 * points) and the grid, not the model, does not set where a target is first met.
 */
export function evaluationGrid(points: number): number[] {
  if (!Number.isInteger(points) || points < 1) throw new RangeError(`evalPoints must be a positive integer, got ${points}`);
  if (points === 1) return [1];
  return Array.from({ length: points }, (_, i) => FIRST_EVAL_FRACTION ** ((points - 1 - i) / (points - 1)));
}

const iso = (ms: number) => new Date(ms).toISOString();
const disposeBatch = (b: Batch) => tf.dispose([b.x, b.y, b.groups]);

/**
 * Build the architecture's model for a task and check that it is a Model (its size is
 * checked by checkParamCaps). Exported for submission validation, which runs the same checks.
 */
export function buildModel(arch: LoadedArchitecture, spec: TaskSpec, size: SizeSpec, ctx: OwnedBuildContext): Model {
  let model: Model;
  try {
    model = arch.architecture.build(spec, size, ctx);
  } catch (e) {
    throw new RunFailure('build', `build() threw: ${thrownMessage(e)}`);
  }
  if (!model || !Array.isArray(model.variables) || typeof model.forward !== 'function') {
    throw new RunFailure('build', 'build() must return a Model: { variables: tf.Variable[], forward(x, ctx) }');
  }
  if (model.variables.length === 0) throw new RunFailure('build', 'the model has no variables to train');
  return model;
}

/**
 * Refuse a model over the tier's parameter caps before it trains. A baseline declared as a
 * matched-total control is held to the total cap only (see ArchitectureDefinition.control).
 */
export function checkParamCaps(
  params: { total: number; active: number },
  size: SizeSpec,
  tier: TierName,
  taskId: string,
  arch: Pick<LoadedArchitecture, 'architecture' | 'origin'>,
): void {
  const { maxParams, maxActiveParams } = size;
  const activeCap = arch.origin === 'baseline' && arch.architecture.control === 'matched-total' ? maxParams : maxActiveParams;
  if (params.total > maxParams || params.active > activeCap) {
    throw new RunFailure(
      'build',
      `the model has ${params.total} parameters (${params.active} active); the ${tier} tier allows ${maxParams} (${activeCap} active) on '${taskId}' — make it smaller`,
    );
  }
}

/**
 * One training step: forward, task loss (+ aux loss), gradients (masked if the model asks),
 * optimizer update, all inside one tidy. Returns the task loss (kept; the caller disposes it)
 * and, when sampled, the share of non-zero gradients. Exported for submission validation.
 */
export function trainingStep(
  model: Model,
  spec: TaskSpec,
  data: TaskData,
  batch: Batch,
  optimizer: ScheduledAdam,
  sample: boolean,
  step: number,
): { taskLoss: tf.Scalar | undefined; gradientShare: number } {
  let taskLoss: tf.Scalar | undefined;
  let gradientShare = 0;
  try {
    tf.tidy(() => {
      const { grads: reached } = tf.variableGrads(() => {
        const result = checkedForward(model, spec, batch, true);
        const loss = data.loss(result.output, batch);
        taskLoss = tf.keep(loss);
        return result.auxLoss ? (tf.add(loss, result.auxLoss) as tf.Scalar) : loss;
      }, model.variables);
      // tfjs's Adam pairs its moment slots with gradients by position, not by name: a variable
      // this step did not reach (an idle expert) must still get a (zero) gradient, in its place.
      // So: every variable, always in the model's order.
      const grads: tf.NamedTensorMap = {};
      for (const v of model.variables) grads[v.name] = reached[v.name] ?? tf.zerosLike(v);
      const masks = model.gradientMask?.({ x: batch.x, groups: batch.groups });
      if (masks) {
        for (const v of model.variables) {
          const mask = masks.get(v);
          const g = grads[v.name];
          if (mask && g) grads[v.name] = tf.mul(g, mask);
        }
      }
      if (sample) gradientShare = densityOfChange(Object.values(grads));
      optimizer.applyGradients(grads as tf.NamedTensorMap as Parameters<ScheduledAdam['applyGradients']>[0]);
    });
  } catch (e) {
    taskLoss?.dispose();
    if (e instanceof RunFailure) throw e;
    throw new RunFailure('train', `forward/backward threw at step ${step}: ${thrownMessage(e)}`);
  }
  return { taskLoss, gradientShare };
}

export async function trainRun(opts: TrainOptions): Promise<UnhashedRecord> {
  const { task, tier, seed, arch, backend, counter } = opts;
  const settings: TierSettings = {
    ...task.tiers[tier],
    ...opts.settings,
    ...(opts.tuning ? { learningRate: opts.tuning.chosen } : {}),
  };
  const split = opts.split ?? 'test';
  const startedMs = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  // UTC time to the millisecond plus a random tag: unique even for runs started together.
  const stamp = iso(startedMs).replace(/[-:.]/g, '').replace(/Z$/, 'z').toLowerCase();
  const id = `${tier}.${task.spec.id}.${arch.architecture.name}.s${seed}.${stamp}.${randomBytes(2).toString('hex')}`;
  const dataSeed = opts.variantSeed ?? 0;

  let status: RunStatus = 'completed';
  let failure: UnhashedRecord['failure'] = null;
  let ctx: OwnedBuildContext | undefined;
  let data: TaskData | undefined;
  let optimizer: ScheduledAdam | undefined;
  // Meter the device that trains: RAPL for CPU backends, NVML for GPU ones (never an idle GPU for a CPU run).
  const meter = opts.energyMeter ? opts.energyMeter() : createEnergyMeter({ target: backend.device === 'cpu' ? 'cpu' : 'gpu' });
  const memory = createMemoryTracker(tf);
  const curve: CurvePoint[] = [];
  let params = { total: 0, active: 0 };
  let final: UnhashedRecord['final'] = null;
  let steps = 0;
  let trainSeconds = 0;
  let firstStepSeconds = 0;
  let evalSeconds = 0;
  let evalJoules = 0;
  let modelFlops = 0;
  let perStepModelFlops = 0;
  let executedBudgetFlops = 0;
  let lossSum = 0;
  let lossCount = 0;
  let lastQuality: number | null = null;
  let updateSample: { update: number; gradient: number } | null = null;
  let hyperparameters: Record<string, string | number | boolean> = {};
  counter.reset();

  const joulesNow = () => {
    const j = meter.sinceBegin();
    return j === null ? null : Math.max(0, j - evalJoules);
  };

  const runEval = async (model: Model, d: TaskData) => {
    const t0 = performance.now();
    const j0 = meter.sinceBegin();
    const evaluation = evaluate(model, task, d);
    evalSeconds += (performance.now() - t0) / 1000;
    const j1 = meter.sinceBegin();
    if (j0 !== null && j1 !== null) evalJoules += j1 - j0;
    const legibility = evaluation.legibility;
    if (updateSample) {
      legibility.updateDensity = updateSample.update;
      legibility.gradientDensity = updateSample.gradient;
    }
    curve.push({
      step: steps,
      flops: counter.totals.total,
      modelFlops,
      seconds: trainSeconds,
      joules: joulesNow(),
      trainLoss: lossCount > 0 ? lossSum / lossCount : null,
      quality: evaluation.quality,
      evalLoss: evaluation.evalLoss,
      legibility,
    });
    lossSum = 0;
    lossCount = 0;
    lastQuality = evaluation.quality;
    return evaluation;
  };

  try {
    await meter.measureIdle(opts.idleSeconds ?? 0);
    data = task.load({ runSeed: seed, dataSeed, split });
    let refusal: string | undefined;
    try {
      refusal = arch.architecture.refuse?.(task.spec);
    } catch (e) {
      throw new RunFailure('build', `refuse() threw: ${thrownMessage(e)}`);
    }
    if (refusal) throw new RunFailure('build', `${arch.architecture.name} refuses task '${task.spec.id}': ${refusal}`, 'refused');

    ctx = createBuildContext(seed, id);
    const model = buildModel(arch, task.spec, settings.size, ctx);
    params = paramCounts(model, ctx);
    hyperparameters = { ...model.hyperparameters };
    checkParamCaps(params, settings.size, tier, task.spec.id, arch);
    perStepModelFlops = modelFlopsPerStep(task.spec, settings.batchSize, params.active, model.cost);

    optimizer = new ScheduledAdam(settings.learningRate, 0.9, 0.999, 1e-8);
    const budget = settings.budgetFlops;
    const evalAt = evaluationGrid(settings.evalPoints).map((f) => budget * f);
    let nextEval = 0;
    let leakBaseline = -1;
    let leakStrikes = 0;
    const sampleEvery = 25;

    await runEval(model, data); // step 0: the untrained model, also the shape check
    meter.begin();

    while (counter.totals.total < budget) {
      if (opts.signal?.aborted) throw new Interrupted('interrupted');
      if (trainSeconds > settings.timeLimitSeconds) {
        throw new RunFailure(
          'train',
          `stopped after ${trainSeconds.toFixed(0)} s (the ${tier} tier's limit is ${settings.timeLimitSeconds} s) at ${((100 * counter.totals.total) / budget).toFixed(0)}% of the FLOP budget`,
          'timeout',
        );
      }
      const batch = data.nextTrainBatch(settings.batchSize);
      optimizer.setLearningRate(learningRateAt(counter.totals.total / budget, settings.learningRate));
      const sample = steps % sampleEvery === 1;
      const before = sample ? model.variables.map((v) => v.clone()) : [];
      const t0 = performance.now();
      counter.active = true;
      let taskLoss: tf.Scalar | undefined;
      let gradientShare = 0;
      try {
        ({ taskLoss, gradientShare } = trainingStep(model, task.spec, data, batch, optimizer, sample, steps));
      } finally {
        counter.active = false;
      }
      const loss = taskLoss ? ((await taskLoss.data())[0] as number) : Number.NaN; // device sync
      const seconds = (performance.now() - t0) / 1000;
      taskLoss?.dispose();
      disposeBatch(batch);
      if (sample) {
        const moved = tf.tidy(() => densityOfChange(model.variables.map((v, i) => tf.sub(v, before[i] as tf.Tensor))));
        updateSample = { update: moved, gradient: gradientShare };
        tf.dispose(before);
      }
      trainSeconds += seconds;
      if (steps === 0) firstStepSeconds = seconds;
      steps++;
      modelFlops += perStepModelFlops;
      if (!Number.isFinite(loss)) {
        throw new RunFailure(
          'train',
          `the training loss became ${loss} at step ${steps} (${counter.totals.total.toExponential(2)} FLOPs)`,
          'diverged',
        );
      }
      lossSum += loss;
      lossCount++;
      if (steps % 10 === 0) memory.observe();

      // Tensors must not pile up across steps: the optimizer's slots appear in step 1.
      const tensors = tf.memory().numTensors;
      if (steps === 2) leakBaseline = tensors;
      else if (steps > 2 && tensors > leakBaseline) {
        leakStrikes++;
        if (leakStrikes >= 3) {
          throw new RunFailure(
            'train',
            `the model leaks tensors: ${tensors - leakBaseline} more alive after step ${steps} than after step 2 — dispose what forward() creates outside tf.tidy, or create variables in build(), not forward()`,
          );
        }
      }

      // One evaluation per step however many grid points it passed (early points can be
      // closer together than a step); the final evaluation follows the loop.
      let passed = false;
      while (nextEval < evalAt.length && counter.totals.total >= (evalAt[nextEval] as number)) {
        nextEval++;
        passed = true;
      }
      if (passed && nextEval < evalAt.length) await runEval(model, data);
      opts.onProgress?.({ step: steps, flops: counter.totals.total, budgetFlops: budget, loss, seconds: trainSeconds, lastQuality });
      await new Promise((r) => setImmediate(r)); // let signals (Ctrl-C) and the power sampler's timer run
    }
    executedBudgetFlops = budget;
    const last = await runEval(model, data);
    const t0 = performance.now();
    // Modularity, once at the end: the same held-out set with one expert masked at a time.
    last.legibility.ablation = ablateExperts(model, task, data, last);
    evalSeconds += (performance.now() - t0) / 1000;
    final = { quality: last.quality, evalLoss: last.evalLoss, subQualities: last.subQualities, legibility: last.legibility };
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    if (e instanceof RunFailure) {
      status = e.status;
      failure = { phase: e.phase, message: e.message };
    } else if (e instanceof ArchitectureError) {
      status = 'failed';
      failure = { phase: 'build', message: e.message };
    } else {
      status = 'failed';
      failure = { phase: 'train', message: `harness error: ${e instanceof Error ? (e.stack ?? e.message) : thrownMessage(e)}` };
    }
  } finally {
    optimizer?.dispose();
    ctx?.dispose();
    data?.dispose();
  }

  const energy = meter.end();
  const powerTrace = meter.trace();
  meter.dispose();
  const joules = energy.measured ? Math.max(0, energy.grossJoules - evalJoules) : null;
  const finishedMs = Date.now();
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    key: runKey({
      task: task.spec.id,
      tier,
      seed,
      variantSeed: opts.variantSeed,
      sourceHash: arch.sourceHash,
      tuning: opts.tuning,
    }),
    status,
    failure,
    startedAt: iso(startedMs),
    finishedAt: iso(finishedMs),
    harnessVersion: HARNESS_VERSION,
    task: { id: task.spec.id, tier, seed, variantSeed: opts.variantSeed, metric: task.metric },
    architecture: {
      name: arch.architecture.name,
      family: arch.architecture.family,
      description: arch.architecture.description,
      reference: arch.architecture.reference ?? null,
      origin: arch.origin,
      sourceHash: arch.sourceHash,
      hyperparameters,
    },
    params,
    training: {
      optimizer: 'adam(0.9, 0.999, 1e-8), warm-up 5% then cosine to 10% over the FLOP budget',
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      steps,
      examples: steps * settings.batchSize,
      budgetFlops: status === 'completed' ? executedBudgetFlops : settings.budgetFlops,
      timeLimitSeconds: settings.timeLimitSeconds,
      wallSeconds: trainSeconds,
      firstStepSeconds,
      evalSeconds,
      load: { cores: availableParallelism(), atStart: loadAtStart, atEnd: loadavg()[0] ?? 0 },
    },
    flops: {
      executed: counter.totals.total,
      model: modelFlops,
      byKind: { ...counter.totals.byKind },
      perStep: steps > 0 ? counter.totals.total / steps : 0,
    },
    energy: energy.measured
      ? { ...energy, grossJoules: joules ?? 0, netJoules: (joules ?? 0) - energy.idleWatts * trainSeconds, windowSeconds: trainSeconds }
      : energy,
    powerTrace,
    memory: memory.result(),
    curve,
    final,
    backend: { name: backend.name, reason: backend.reason },
    fingerprint: opts.fingerprint,
    hardwareClass: opts.hardwareClass,
    evaluationSplit: split,
    ...(opts.tuning ? { tuning: opts.tuning } : {}),
  };
}
