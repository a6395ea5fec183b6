/**
 * The training loop: one architecture on one task at one tier and seed, trained until the
 * executed FLOPs reach the tier's budget, evaluated on a fixed FLOP schedule. Returns the
 * run record (unsealed). A run that diverges, times out or throws is still a record, with
 * the reason; only an interrupt (Ctrl-C) produces nothing.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { xsmmJitSeconds } from '../kernels/xsmm.ts';
import type { SizeSpec } from './architecture.ts';
import type { ActiveBackend } from './backend.ts';
import { type CausalityProbe, causalityProbe, checkCausality, disposeProbe, withProbe } from './causality.ts';
import { ArchitectureError, thrownMessage } from './errors.ts';
import { ablateExperts, evaluate } from './evaluate.ts';
import { RunFailure } from './forward.ts';
import type { LoadedArchitecture } from './load-architecture.ts';
import { createEnergyMeter, type EnergyMeter } from './measure/energy.ts';
import type { FlopCounter, FlopTotals } from './measure/flops.ts';
import { createMemoryTracker } from './measure/memory.ts';
import { modelFlopsPerStep } from './measure/model-flops.ts';
import {
  type CurvePoint,
  type Fingerprint,
  hyperparameters as hyperparametersSchema,
  RECORD_SCHEMA_VERSION,
  type RunStatus,
  type TierName,
  type TuningRecord,
  type UnhashedRecord,
} from './results/record.ts';
import { runKey } from './run-key.ts';
import { type BuiltModel, localRunner, type Runner, type RunnerSetup, type StepResult } from './runner.ts';
import type { Batch, EvalSplit, Task, TaskData, TierSettings } from './tasks/types.ts';
import { HARNESS_VERSION } from './version.ts';

export { buildModel, ScheduledAdam, trainingStep } from './step.ts';

export interface TrainOptions {
  task: Task;
  tier: TierName;
  seed: number;
  /** held-out variant of the task's data; null for the public data */
  variantSeed: number | null;
  arch: LoadedArchitecture;
  backend: ActiveBackend;
  /** the in-process FLOP counter (the local runner's); not needed with `runner` */
  counter?: FlopCounter;
  /** where the architecture runs: default in this process; harness/confined/runner.ts puts it in a confined child */
  runner?: (setup: RunnerSetup) => Runner;
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
/** Bytes of a batch's tensors (4 an element): what a step may hold beside the model and the optimizer. */
const batchBytes = (b: Batch) => 4 * (b.x.size + b.y.size + b.groups.size);

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
 * Step 0 near chance: a model that already scores well before its first step was trained
 * (or fitted) inside build(), where the FLOP budget does not reach. Cheap: the step-0
 * evaluation is made anyway. Classification by accuracy: at most chance + 0.25; next-token
 * by bits per character: at least 80% of a uniform guess's log2(vocab).
 */
export function stepZeroRefusal(task: Task, quality: number): string | null {
  const { output } = task.spec;
  const bound =
    task.metric.name === 'accuracy' && output.kind === 'classes'
      ? { limit: 1 / output.count + 0.25, over: true, chance: 1 / output.count }
      : task.metric.name === 'bits per character' && output.kind === 'next-token'
        ? { limit: 0.8 * Math.log2(output.vocab), over: false, chance: Math.log2(output.vocab) }
        : null;
  if (!bound || (bound.over ? quality <= bound.limit : quality >= bound.limit)) return null;
  return `the untrained model already scores ${quality.toFixed(3)} ${task.metric.name} at step 0 (chance is ${bound.chance.toFixed(3)}): build() must only initialise the model — training or fitting there is compute the FLOP budget never sees`;
}

const zeroTotals = (): FlopTotals => ({
  total: 0,
  calls: 0,
  byKind: { matmul: 0, conv: 0, elementwise: 0, reduction: 0, softmax: 0, movement: 0 },
  readbacks: { calls: 0, bytes: 0 },
});
function addTotals(into: FlopTotals, add: FlopTotals): void {
  into.total += add.total;
  into.calls += add.calls;
  into.readbacks.calls += add.readbacks.calls;
  into.readbacks.bytes += add.readbacks.bytes;
  for (const k of Object.keys(into.byKind) as Array<keyof FlopTotals['byKind']>) into.byKind[k] += add.byKind[k];
}

/** Growth of the tensor bytes held between steps that counts as a leak (honest models hold exactly the same bytes). */
const LEAK_BYTES_SLACK = 64 * 1024;

/** The state a model may hold beside its trainable variables, at least (the baselines hold ≤ 41 KiB: causal masks, hash tables). */
export const STATE_BYTES_FLOOR = 256 * 1024;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Parameters counted by the harness from the variables' shapes; active: the declaration, checked against the total. */
export function countParams(built: BuiltModel): { total: number; active: number } {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const total = built.variables.reduce((n, v) => n + size(v.shape), 0);
  const nonEmbedding = built.variables.filter((v) => !v.embedding).reduce((n, v) => n + size(v.shape), 0);
  if (built.engineParams > total) {
    throw new RunFailure(
      'build',
      `the engine holds ${built.engineParams} trainable parameters after build() but Model.variables lists ${total}: list every trainable variable in Model.variables (parameters outside it are trained or read without being counted)`,
    );
  }
  // State beside the parameters (constants, non-trainable variables) is where a model could keep
  // training examples to look up at evaluation, outside every cap: small tables only.
  const stateLimit = Math.max(STATE_BYTES_FLOOR, (4 * total) / 8);
  if (built.stateBytes > stateLimit) {
    throw new RunFailure(
      'build',
      `build() left ${kib(built.stateBytes)} of tensors beside the model's trainable variables (constants, non-trainable variables); the limit is ${kib(stateLimit)} (${kib(STATE_BYTES_FLOOR)} or an eighth of the parameters' bytes): state outside the parameters could hold stored examples that no cap counts — keep only small constants (masks, lookup tables), and make what learns a listed trainable variable`,
    );
  }
  const declared = built.declaredActive;
  if (declared !== null && !(Number.isInteger(declared) && declared > 0 && declared <= total)) {
    throw new RunFailure(
      'build',
      `cost.activeParams is ${declared}; it must be a positive integer no larger than the ${total} parameters the model's variables hold`,
    );
  }
  return { total, active: declared ?? nonEmbedding };
}

/**
 * How far a step's executed matmul FLOPs may exceed the model FLOPs of the declared active
 * parameters. The baselines' ratio is 0.72–1.06 on every task at the cpu tier (the first
 * layer's input gradient is not computed, so mnist's MLPs sit at 0.75), so 2× is margin,
 * and a module that declares an eighth of what it uses is far past it.
 */
export const ACTIVE_CONTRADICTION_RATIO = 2;

/** Refuse a declared cost.activeParams that a training step's executed matmuls contradict. */
export function checkDeclaredActive(built: BuiltModel, stepLedger: FlopTotals, perStepModelFlops: number, active: number): void {
  if (built.declaredActive === null || perStepModelFlops <= 0) return;
  const ratio = stepLedger.byKind.matmul / perStepModelFlops;
  if (ratio <= ACTIVE_CONTRADICTION_RATIO) return;
  throw new RunFailure(
    'train',
    `cost.activeParams declares ${active} active parameters, but a training step executes ${ratio.toFixed(1)}× the matmul FLOPs that many would (6 per parameter per example): declare the parameters each example really passes through (and cost.attention for attention layers)`,
  );
}

export async function trainRun(opts: TrainOptions): Promise<UnhashedRecord> {
  const { task, tier, seed, arch, backend } = opts;
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
  let data: TaskData | undefined;
  let probe: CausalityProbe | null = null;
  let runner: Runner | undefined;
  // Meter the device that trains: RAPL for CPU backends, NVML for GPU ones (never an idle GPU for a CPU run).
  const meter = opts.energyMeter ? opts.energyMeter() : createEnergyMeter({ target: backend.device === 'cpu' ? 'cpu' : 'gpu' });
  const memory = createMemoryTracker(tf);
  let peakTensorBytes = 0;
  const curve: CurvePoint[] = [];
  let params = { total: 0, active: 0 };
  let final: UnhashedRecord['final'] = null;
  let steps = 0;
  let trainSeconds = 0;
  /** CPU seconds of the training steps, read by this process: the child's from /proc, or this process's own; null where unreadable */
  let trainCpuSeconds: number | null = 0;
  const cpuNow = (): number | null => {
    if (runner?.cpuSeconds) return runner.cpuSeconds();
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
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
  // The FLOP ledger's totals live here, in the harness: each step's ledger (from wherever the model runs) is added to them.
  const ledger = zeroTotals();

  const joulesNow = () => {
    const j = meter.sinceBegin();
    return j === null ? null : Math.max(0, j - evalJoules);
  };

  const runEval = async (r: Runner, d: TaskData) => {
    const t0 = performance.now();
    const j0 = meter.sinceBegin();
    const model = await r.evaluation();
    const evaluation = evaluate(model, task, d);
    if (probe) checkCausality(model, d, probe);
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
      flops: ledger.total,
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
    probe = causalityProbe(task.spec, data);
    // the model is evaluated on the held-out inputs and, on a causal task, the causality probe (never scored)
    const setup = {
      spec: task.spec,
      size: settings.size,
      seed,
      scope: id,
      learningRate: settings.learningRate,
      data: withProbe(data, probe),
    };
    if (opts.runner) runner = opts.runner(setup);
    else if (opts.counter) runner = localRunner(arch, opts.counter, setup);
    else throw new Error('trainRun needs a FLOP counter (in-process) or a runner');
    const described = await runner.start();
    if (described.name !== arch.architecture.name) {
      throw new RunFailure(
        'build',
        `the module declares name '${described.name}' where it was loaded as '${arch.architecture.name}': one module, one name`,
      );
    }
    if (described.refusal)
      throw new RunFailure('build', `${arch.architecture.name} refuses task '${task.spec.id}': ${described.refusal}`, 'refused');

    const built = await runner.build();
    addTotals(ledger, built.ledger); // build() is metered: what it computed counts against the budget
    params = countParams(built);
    const declared = hyperparametersSchema.safeParse(built.hyperparameters);
    if (!declared.success) {
      throw new RunFailure(
        'build',
        `Model.hyperparameters is too large for a record (${declared.error.issues[0]?.message}): declare at most 64 settings, keys ≤ 64 characters, text values ≤ 200`,
      );
    }
    hyperparameters = declared.data;
    checkParamCaps(params, settings.size, tier, task.spec.id, arch);
    perStepModelFlops = modelFlopsPerStep(
      task.spec,
      settings.batchSize,
      params.active,
      built.attention ? { attention: built.attention } : undefined,
    );

    const budget = settings.budgetFlops;
    const evalAt = evaluationGrid(settings.evalPoints).map((f) => budget * f);
    let nextEval = 0;
    let leakBaseline = -1;
    let leakBytes = 0;
    let leakStrikes = 0;
    const sampleEvery = 25;

    const first = await runEval(runner, data); // step 0: the untrained model, also the shape check
    const untrained = stepZeroRefusal(task, first.quality);
    if (untrained) throw new RunFailure('build', untrained);
    meter.begin();

    while (ledger.total < budget) {
      if (opts.signal?.aborted) throw new Interrupted('interrupted');
      if (trainSeconds > settings.timeLimitSeconds) {
        throw new RunFailure(
          'train',
          `stopped after ${trainSeconds.toFixed(0)} s (the ${tier} tier's limit is ${settings.timeLimitSeconds} s) at ${((100 * ledger.total) / budget).toFixed(0)}% of the FLOP budget`,
          'timeout',
        );
      }
      const batch = data.nextTrainBatch(settings.batchSize);
      const sample = steps % sampleEvery === 1;
      // The clock is this process's, and a step's time includes handing the batch over (a confined
      // child gets it over its pipe), the request and the answer back: nothing the child does is off it.
      const t0 = performance.now();
      const cpu0 = cpuNow();
      const jit0 = xsmmJitSeconds(); // libxsmm's kernel generation (first call of a shape, in this process) is kept off the clock
      let result: StepResult;
      try {
        await runner.stage?.(batch);
        result = await runner.step(batch, learningRateAt(ledger.total / budget, settings.learningRate), sample, steps);
      } finally {
        disposeBatch(batch);
      }
      const seconds = (performance.now() - t0) / 1000 - (xsmmJitSeconds() - jit0);
      const cpu1 = cpuNow();
      if (cpu0 !== null && cpu1 !== null && trainCpuSeconds !== null) trainCpuSeconds += cpu1 - cpu0;
      else trainCpuSeconds = null;
      addTotals(ledger, result.ledger);
      if (result.density) updateSample = result.density;
      const loss = result.loss;
      trainSeconds += seconds;
      if (steps === 0) firstStepSeconds = seconds;
      steps++;
      modelFlops += perStepModelFlops;
      if (!Number.isFinite(loss)) {
        throw new RunFailure(
          'train',
          `the training loss became ${loss} at step ${steps} (${ledger.total.toExponential(2)} FLOPs)`,
          'diverged',
        );
      }
      lossSum += loss;
      lossCount++;
      if (steps === 3) checkDeclaredActive(built, result.ledger, perStepModelFlops, params.active);
      peakTensorBytes = Math.max(peakTensorBytes, result.numBytes);
      if (steps % 10 === 0) memory.observe();

      // Tensors must not pile up across steps, in number or in bytes (one kept tensor that grows
      // is a store of examples): the optimizer's slots appear in step 1.
      const tensors = result.numTensors;
      if (steps === 2) {
        leakBaseline = tensors;
        leakBytes = result.numBytes;
        // By now a step holds the parameters, Adam's two moments of each and at most the batch:
        // more is state made in forward(), where build()'s cap on it would not see it.
        const extra = result.numBytes - built.heldBytes - 8 * params.total - batchBytes(batch);
        if (extra > LEAK_BYTES_SLACK) {
          throw new RunFailure(
            'train',
            `after step 2 the model holds ${kib(extra)} of tensors beyond its parameters, the optimizer's two moments of each and the batch: state made in forward(), outside build()'s cap on it — create every variable and constant in build()`,
          );
        }
      } else if (steps > 2) {
        const grew =
          tensors > leakBaseline
            ? `${tensors - leakBaseline} more tensors alive`
            : result.numBytes > leakBytes + LEAK_BYTES_SLACK
              ? `${kib(result.numBytes - leakBytes)} more tensor memory held`
              : null;
        if (grew && ++leakStrikes >= 3) {
          throw new RunFailure(
            'train',
            `the model leaks tensors: ${grew} after step ${steps} than after step 2 — dispose what forward() creates outside tf.tidy, or create variables in build(), not forward()`,
          );
        }
      }

      // One evaluation per step however many grid points it passed (early points can be
      // closer together than a step); the final evaluation follows the loop.
      let passed = false;
      while (nextEval < evalAt.length && ledger.total >= (evalAt[nextEval] as number)) {
        nextEval++;
        passed = true;
      }
      if (passed && nextEval < evalAt.length) await runEval(runner, data);
      opts.onProgress?.({ step: steps, flops: ledger.total, budgetFlops: budget, loss, seconds: trainSeconds, lastQuality });
      await new Promise((r) => setImmediate(r)); // let signals (Ctrl-C) and the power sampler's timer run
    }
    executedBudgetFlops = budget;
    const last = await runEval(runner, data);
    const t0 = performance.now();
    // Modularity, once at the end: the same held-out set with one expert masked at a time.
    const r = runner;
    last.legibility.ablation = await ablateExperts((ablate) => r.evaluation(ablate), task, data, last);
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
    runner?.dispose();
    disposeProbe(probe);
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
      confined: runner?.confined ?? opts.runner !== undefined,
      cpuSeconds: trainCpuSeconds,
      sandbox: runner?.sandbox?.() ?? null,
    },
    flops: {
      executed: ledger.total,
      model: modelFlops,
      byKind: { ...ledger.byKind },
      perStep: steps > 0 ? ledger.total / steps : 0,
    },
    readbacks: { ...ledger.readbacks },
    energy: energy.measured
      ? { ...energy, grossJoules: joules ?? 0, netJoules: (joules ?? 0) - energy.idleWatts * trainSeconds, windowSeconds: trainSeconds }
      : energy,
    powerTrace,
    // where the model ran in a child, its tensors and resident memory are the child's
    memory: runner?.peakRssBytes ? { peakTensorBytes, peakRssBytes: runner.peakRssBytes() } : memory.result(),
    curve,
    final,
    backend: { name: backend.name, reason: backend.reason },
    fingerprint: opts.fingerprint,
    hardwareClass: opts.hardwareClass,
    evaluationSplit: split,
    ...(opts.tuning ? { tuning: opts.tuning } : {}),
  };
}
