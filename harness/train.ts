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
import { ablateExperts, type Evaluation, evaluate } from './evaluate.ts';
import { RunFailure } from './forward.ts';
import { architectureKnobs, definedKnobs, type RunKnobs, sizeWithKnobs } from './knobs.ts';
import type { LoadedArchitecture } from './load-architecture.ts';
import { createEnergyMeter, type EnergyMeter } from './measure/energy.ts';
import type { FlopCounter, FlopTotals } from './measure/flops.ts';
import { createMemoryTracker, type MemoryTracker } from './measure/memory.ts';
import { modelFlopsPerStep } from './measure/model-flops.ts';
import { stampInForce } from './results/protocol.ts';
import {
  type CurvePoint,
  type EnergyReading,
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
  /** sweep knobs: the architecture's (ctx.knobs) and the size's (width, caps); part of the key */
  knobs?: RunKnobs;
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

/**
 * What a run has observed so far, and all the record is made from: the FLOP ledger, the
 * clock, the curve and the checks' counts. The stages below add to it; none reads a figure
 * from anywhere else.
 */
export interface Observations {
  /** the FLOP ledger's totals, kept here in the harness: each step's ledger (from wherever the model runs) is added */
  ledger: FlopTotals;
  curve: CurvePoint[];
  steps: number;
  trainSeconds: number;
  /** CPU seconds of the training steps, read by this process: the child's from /proc, or this process's own; null where unreadable */
  trainCpuSeconds: number | null;
  firstStepSeconds: number;
  evalSeconds: number;
  /** joules spent evaluating, taken out of training's */
  evalJoules: number;
  modelFlops: number;
  perStepModelFlops: number;
  peakTensorBytes: number;
  /** training loss since the previous evaluation point */
  lossSum: number;
  lossCount: number;
  lastQuality: number | null;
  updateSample: { update: number; gradient: number } | null;
  params: { total: number; active: number };
  hyperparameters: Record<string, string | number | boolean>;
  final: UnhashedRecord['final'];
}

/**
 * What the stages before the record read of a run's options: everything but what only the
 * record needs (the backend, the fingerprint, the class). `validate` drives the same stages
 * on a run that makes no record (harness/submit/validate.ts).
 */
export type StageOptions = Omit<TrainOptions, 'backend' | 'fingerprint' | 'hardwareClass' | 'energyMeter' | 'idleSeconds'>;

/** One run in progress: its options, settings, identity, meters and observations. */
export interface RunContext<O extends StageOptions = TrainOptions> {
  opts: O;
  settings: TierSettings;
  id: string;
  meter: EnergyMeter;
  memory: MemoryTracker;
  /** on a causal task, inputs the model is evaluated on beside the held-out set (never scored): set once the data are loaded */
  probe: CausalityProbe | null;
  obs: Observations;
}

export const emptyObservations = (): Observations => ({
  ledger: zeroTotals(),
  curve: [],
  steps: 0,
  trainSeconds: 0,
  trainCpuSeconds: 0,
  firstStepSeconds: 0,
  evalSeconds: 0,
  evalJoules: 0,
  modelFlops: 0,
  perStepModelFlops: 0,
  peakTensorBytes: 0,
  lossSum: 0,
  lossCount: 0,
  lastQuality: null,
  updateSample: null,
  params: { total: 0, active: 0 },
  hyperparameters: {},
  final: null,
});

/** The tier's settings with the run's overrides, the size and evaluation knobs, and the tuned learning rate where the run has one. */
export function runSettings(opts: Pick<TrainOptions, 'task' | 'tier' | 'settings' | 'tuning' | 'knobs'>): TierSettings {
  const settings = { ...opts.task.tiers[opts.tier], ...opts.settings };
  return {
    ...settings,
    size: sizeWithKnobs(opts.task.spec, settings.size, opts.knobs),
    evalPoints: opts.knobs?.evalPoints ?? settings.evalPoints,
    ...(opts.tuning ? { learningRate: opts.tuning.chosen } : {}),
  };
}

/** <tier>.<task>.<arch>.s<seed>.<UTC time to the millisecond>.<random tag>: unique even for runs started together. */
export function runId(opts: Pick<TrainOptions, 'task' | 'tier' | 'seed' | 'arch'>, startedMs: number): string {
  const stamp = iso(startedMs).replace(/[-:.]/g, '').replace(/Z$/, 'z').toLowerCase();
  return `${opts.tier}.${opts.task.spec.id}.${opts.arch.architecture.name}.s${opts.seed}.${stamp}.${randomBytes(2).toString('hex')}`;
}

/** Stage 1, the data: the task's fixed data for this seed (or held-out variant) and split. */
export function prepareData(opts: Pick<TrainOptions, 'task' | 'seed' | 'variantSeed' | 'split'>): TaskData {
  return opts.task.load({ runSeed: opts.seed, dataSeed: opts.variantSeed ?? 0, split: opts.split ?? 'test' });
}

/** Where the model runs: the runner the options name (a confined child), else this process. */
export function runnerFor(run: Pick<RunContext<StageOptions>, 'opts' | 'settings' | 'id' | 'probe'>, data: TaskData): Runner {
  const { opts, settings } = run;
  // the model is evaluated on the held-out inputs and, on a causal task, the causality probe (never scored)
  const setup = {
    spec: opts.task.spec,
    size: settings.size,
    seed: opts.seed,
    scope: run.id,
    learningRate: settings.learningRate,
    knobs: architectureKnobs(opts.knobs),
    data: withProbe(data, run.probe),
  };
  if (opts.runner) return opts.runner(setup);
  if (opts.counter) return localRunner(opts.arch, opts.counter, setup);
  throw new Error('trainRun needs a FLOP counter (in-process) or a runner');
}

/**
 * Stage 2, the model: start the architecture, build it (metered: what build() computes counts
 * against the budget) and check it before it trains: its name, a refusal, its parameters
 * counted from its variables against the tier's caps.
 */
export async function buildModelChecked(run: RunContext<StageOptions>, runner: Runner): Promise<BuiltModel> {
  const { task, tier, arch } = run.opts;
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
  const obs = run.obs;
  addTotals(obs.ledger, built.ledger);
  obs.params = countParams(built);
  const declared = hyperparametersSchema.safeParse(built.hyperparameters);
  if (!declared.success) {
    throw new RunFailure(
      'build',
      `Model.hyperparameters is too large for a record (${declared.error.issues[0]?.message}): declare at most 64 settings, keys ≤ 64 characters, text values ≤ 200`,
    );
  }
  obs.hyperparameters = declared.data;
  checkParamCaps(obs.params, run.settings.size, tier, task.spec.id, arch);
  obs.perStepModelFlops = modelFlopsPerStep(
    task.spec,
    run.settings.batchSize,
    obs.params.active,
    built.attention ? { attention: built.attention } : undefined,
  );
  return built;
}

/** Evaluate on the held-out set now (off the training clock and its joules) and add the curve's point. */
export async function evaluationPoint(run: RunContext<StageOptions>, runner: Runner, data: TaskData): Promise<Evaluation> {
  const { meter, obs } = run;
  const t0 = performance.now();
  const j0 = meter.sinceBegin();
  const model = await runner.evaluation();
  const evaluation = evaluate(model, run.opts.task, data);
  if (run.probe) checkCausality(model, data, run.probe);
  obs.evalSeconds += (performance.now() - t0) / 1000;
  const j1 = meter.sinceBegin();
  if (j0 !== null && j1 !== null) obs.evalJoules += j1 - j0;
  const legibility = evaluation.legibility;
  if (obs.updateSample) {
    legibility.updateDensity = obs.updateSample.update;
    legibility.gradientDensity = obs.updateSample.gradient;
  }
  const j = meter.sinceBegin();
  obs.curve.push({
    step: obs.steps,
    flops: obs.ledger.total,
    modelFlops: obs.modelFlops,
    seconds: obs.trainSeconds,
    joules: j === null ? null : Math.max(0, j - obs.evalJoules),
    trainLoss: obs.lossCount > 0 ? obs.lossSum / obs.lossCount : null,
    quality: evaluation.quality,
    evalLoss: evaluation.evalLoss,
    legibility,
  });
  obs.lossSum = 0;
  obs.lossCount = 0;
  obs.lastQuality = evaluation.quality;
  return evaluation;
}

/**
 * Stage 4, the evaluation schedule: the grid's FLOP points (evaluationGrid); after a step,
 * whether it passed one. One evaluation per step however many points it passed (early points
 * can be closer together than a step); the last point is the final evaluation, after the loop.
 */
export interface EvaluationSchedule {
  dueAfterStep(flops: number): boolean;
}

export function evaluationSchedule(budgetFlops: number, points: number): EvaluationSchedule {
  const evalAt = evaluationGrid(points).map((f) => budgetFlops * f);
  let next = 0;
  return {
    dueAfterStep(flops) {
      let passed = false;
      while (next < evalAt.length && flops >= (evalAt[next] as number)) {
        next++;
        passed = true;
      }
      return passed && next < evalAt.length;
    },
  };
}

/** Step 0: the untrained model, also the shape check; a model already trained in build() is refused. Opens the energy window. */
export async function untrainedEvaluation(run: RunContext<StageOptions>, runner: Runner, data: TaskData): Promise<void> {
  const first = await evaluationPoint(run, runner, data);
  const untrained = stepZeroRefusal(run.opts.task, first.quality);
  if (untrained) throw new RunFailure('build', untrained);
  run.meter.begin();
}

/**
 * Tensors must not pile up across steps, in number or in bytes (one kept tensor that grows is
 * a store of examples): the optimizer's slots appear in step 1, so step 2 sets the baseline.
 */
export function tensorGuard(
  built: BuiltModel,
  totalParams: number,
): (steps: number, held: Pick<StepResult, 'numTensors' | 'numBytes'>, batchBytes: number) => void {
  let baseline = -1;
  let baselineBytes = 0;
  let strikes = 0;
  return (steps, held, batchBytes) => {
    if (steps === 2) {
      baseline = held.numTensors;
      baselineBytes = held.numBytes;
      // By now a step holds the parameters, Adam's two moments of each and at most the batch:
      // more is state made in forward(), where build()'s cap on it would not see it.
      const extra = held.numBytes - built.heldBytes - 8 * totalParams - batchBytes;
      if (extra > LEAK_BYTES_SLACK) {
        throw new RunFailure(
          'train',
          `after step 2 the model holds ${kib(extra)} of tensors beyond its parameters, the optimizer's two moments of each and the batch: state made in forward(), outside build()'s cap on it — create every variable and constant in build()`,
        );
      }
    } else if (steps > 2) {
      const grew =
        held.numTensors > baseline
          ? `${held.numTensors - baseline} more tensors alive`
          : held.numBytes > baselineBytes + LEAK_BYTES_SLACK
            ? `${kib(held.numBytes - baselineBytes)} more tensor memory held`
            : null;
      if (grew && ++strikes >= 3) {
        throw new RunFailure(
          'train',
          `the model leaks tensors: ${grew} after step ${steps} than after step 2 — dispose what forward() creates outside tf.tidy, or create variables in build(), not forward()`,
        );
      }
    }
  };
}

/** Gradient and update densities are sampled on one step in this many. */
const SAMPLE_EVERY = 25;

/** CPU seconds so far of where the model runs: the child's (from /proc), or this process's own; null where unreadable. */
function cpuSecondsOf(runner: Runner): number | null {
  if (runner.cpuSeconds) return runner.cpuSeconds();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One training step on the clock: its ledger, seconds and loss added to the observations; a non-finite loss diverges. */
export async function timedStep(
  run: RunContext<StageOptions>,
  runner: Runner,
  data: TaskData,
): Promise<{ result: StepResult; batchBytes: number }> {
  const { obs, settings } = run;
  const budget = settings.budgetFlops;
  const batch = data.nextTrainBatch(settings.batchSize);
  const sample = obs.steps % SAMPLE_EVERY === 1;
  // Read before the clock starts: a confined child's CPU time comes from /proc, the harness's reading, not the model's work.
  const cpu0 = cpuSecondsOf(runner);
  // The clock is this process's, and a step's time includes handing the batch over (a confined
  // child gets it over its pipe), the request and the answer back: nothing the child does is off it.
  const t0 = performance.now();
  const jit0 = xsmmJitSeconds(); // libxsmm's kernel generation (first call of a shape, in this process) is kept off the clock
  let result: StepResult;
  try {
    result = await runner.step(batch, learningRateAt(obs.ledger.total / budget, settings.learningRate), sample, obs.steps);
  } finally {
    disposeBatch(batch);
  }
  const seconds = (performance.now() - t0) / 1000 - (xsmmJitSeconds() - jit0);
  const cpu1 = cpuSecondsOf(runner);
  if (cpu0 !== null && cpu1 !== null && obs.trainCpuSeconds !== null) obs.trainCpuSeconds += cpu1 - cpu0;
  else obs.trainCpuSeconds = null;
  addTotals(obs.ledger, result.ledger);
  if (result.density) obs.updateSample = result.density;
  obs.trainSeconds += seconds;
  if (obs.steps === 0) obs.firstStepSeconds = seconds;
  obs.steps++;
  obs.modelFlops += obs.perStepModelFlops;
  if (!Number.isFinite(result.loss)) {
    throw new RunFailure(
      'train',
      `the training loss became ${result.loss} at step ${obs.steps} (${obs.ledger.total.toExponential(2)} FLOPs)`,
      'diverged',
    );
  }
  obs.lossSum += result.loss;
  obs.lossCount++;
  return { result, batchBytes: batchBytes(batch) };
}

/**
 * Stage 3, the budgeted step loop: steps until the executed FLOPs reach the budget, each
 * checked (declared cost, held tensors), evaluated on the schedule; stopped by Ctrl-C or the
 * tier's time limit.
 */
export async function stepLoop(
  run: RunContext<StageOptions>,
  runner: Runner,
  data: TaskData,
  built: BuiltModel,
  schedule: EvaluationSchedule,
): Promise<void> {
  const { opts, settings, obs } = run;
  const budget = settings.budgetFlops;
  const guard = tensorGuard(built, obs.params.total);
  while (obs.ledger.total < budget) {
    if (opts.signal?.aborted) throw new Interrupted('interrupted');
    if (obs.trainSeconds > settings.timeLimitSeconds) {
      throw new RunFailure(
        'train',
        `stopped after ${obs.trainSeconds.toFixed(0)} s (the ${opts.tier} tier's limit is ${settings.timeLimitSeconds} s) at ${((100 * obs.ledger.total) / budget).toFixed(0)}% of the FLOP budget`,
        'timeout',
      );
    }
    const { result, batchBytes: heldBatch } = await timedStep(run, runner, data);
    if (obs.steps === 3) checkDeclaredActive(built, result.ledger, obs.perStepModelFlops, obs.params.active);
    obs.peakTensorBytes = Math.max(obs.peakTensorBytes, result.numBytes);
    if (obs.steps % 10 === 0) run.memory.observe();
    guard(obs.steps, result, heldBatch);
    if (schedule.dueAfterStep(obs.ledger.total)) await evaluationPoint(run, runner, data);
    opts.onProgress?.({
      step: obs.steps,
      flops: obs.ledger.total,
      budgetFlops: budget,
      loss: result.loss,
      seconds: obs.trainSeconds,
      lastQuality: obs.lastQuality,
    });
    await new Promise((r) => setImmediate(r)); // let signals (Ctrl-C) and the power sampler's timer run
  }
}

/** Stage 5, the final evaluation and legibility: the last curve point, then modularity (one expert masked at a time). */
export async function finalEvaluation(
  run: RunContext<StageOptions>,
  runner: Runner,
  data: TaskData,
): Promise<NonNullable<UnhashedRecord['final']>> {
  const last = await evaluationPoint(run, runner, data);
  const t0 = performance.now();
  last.legibility.ablation = await ablateExperts((ablate) => runner.evaluation(ablate), run.opts.task, data, last);
  run.obs.evalSeconds += (performance.now() - t0) / 1000;
  return { quality: last.quality, evalLoss: last.evalLoss, subQualities: last.subQualities, legibility: last.legibility };
}

/** How a run ended: completed, or the status and reason from what was thrown. An interrupt is rethrown: it makes no record. */
export type Outcome = { status: RunStatus; failure: UnhashedRecord['failure'] };

export function outcomeOf(e: unknown): Outcome {
  if (e instanceof Interrupted) throw e;
  if (e instanceof RunFailure) return { status: e.status, failure: { phase: e.phase, message: e.message } };
  if (e instanceof ArchitectureError) return { status: 'failed', failure: { phase: 'build', message: e.message } };
  return {
    status: 'failed',
    failure: { phase: 'train', message: `harness error: ${e instanceof Error ? (e.stack ?? e.message) : thrownMessage(e)}` },
  };
}

/** Close the energy window: training's joules (evaluation's taken out), net of idle power over the training seconds. */
export function trainingEnergy(
  meter: EnergyMeter,
  obs: Pick<Observations, 'evalJoules' | 'trainSeconds'>,
): { energy: EnergyReading; powerTrace: { t: number; watts: number }[] } {
  const energy = meter.end();
  const powerTrace = meter.trace();
  meter.dispose();
  if (!energy.measured) return { energy, powerTrace };
  const joules = Math.max(0, energy.grossJoules - obs.evalJoules);
  return {
    energy: { ...energy, grossJoules: joules, netJoules: joules - energy.idleWatts * obs.trainSeconds, windowSeconds: obs.trainSeconds },
    powerTrace,
  };
}

/** Stage 6, the record: the run's identity, settings and outcome, and what it observed. */
export function runRecordOf(
  run: RunContext,
  outcome: Outcome,
  at: { startedMs: number; loadAtStart: number; runner: Runner | undefined },
): UnhashedRecord {
  const { opts, settings, obs } = run;
  const { task, tier, seed, arch } = opts;
  const { energy, powerTrace } = trainingEnergy(run.meter, obs);
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: run.id,
    key: runKey({
      task: task.spec.id,
      tier,
      seed,
      variantSeed: opts.variantSeed,
      sourceHash: arch.sourceHash,
      tuning: opts.tuning,
      knobs: opts.knobs,
    }),
    status: outcome.status,
    failure: outcome.failure,
    startedAt: iso(at.startedMs),
    finishedAt: iso(Date.now()),
    harnessVersion: HARNESS_VERSION,
    protocol: stampInForce(),
    task: { id: task.spec.id, tier, seed, variantSeed: opts.variantSeed, metric: task.metric },
    architecture: {
      name: arch.architecture.name,
      family: arch.architecture.family,
      description: arch.architecture.description,
      reference: arch.architecture.reference ?? null,
      origin: arch.origin,
      sourceHash: arch.sourceHash,
      hyperparameters: obs.hyperparameters,
    },
    params: obs.params,
    ...(definedKnobs(opts.knobs) ? { knobs: definedKnobs(opts.knobs) } : {}),
    size: { ...settings.size },
    training: {
      optimizer: 'adam(0.9, 0.999, 1e-8), warm-up 5% then cosine to 10% over the FLOP budget',
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      steps: obs.steps,
      examples: obs.steps * settings.batchSize,
      budgetFlops: settings.budgetFlops,
      timeLimitSeconds: settings.timeLimitSeconds,
      wallSeconds: obs.trainSeconds,
      firstStepSeconds: obs.firstStepSeconds,
      evalSeconds: obs.evalSeconds,
      load: { cores: availableParallelism(), atStart: at.loadAtStart, atEnd: loadavg()[0] ?? 0 },
      confined: at.runner?.confined ?? opts.runner !== undefined,
      cpuSeconds: obs.trainCpuSeconds,
      sandbox: at.runner?.sandbox?.() ?? null,
    },
    flops: {
      executed: obs.ledger.total,
      model: obs.modelFlops,
      byKind: { ...obs.ledger.byKind },
      perStep: obs.steps > 0 ? obs.ledger.total / obs.steps : 0,
    },
    readbacks: { ...obs.ledger.readbacks },
    energy,
    powerTrace,
    // where the model ran in a child, its tensors and resident memory are the child's
    memory: at.runner?.peakRssBytes
      ? { peakTensorBytes: obs.peakTensorBytes, peakRssBytes: at.runner.peakRssBytes() }
      : run.memory.result(),
    curve: obs.curve,
    final: obs.final,
    backend: { name: opts.backend.name, reason: opts.backend.reason },
    fingerprint: opts.fingerprint,
    hardwareClass: opts.hardwareClass,
    evaluationSplit: opts.split ?? 'test',
    ...(opts.tuning ? { tuning: opts.tuning } : {}),
  };
}

/**
 * The run, in the order the methods text gives it: prepare the data, build and check the
 * model, evaluate it untrained, train to the FLOP budget evaluating on the schedule, evaluate
 * at the end with legibility, and make the record from what was observed.
 */
export async function trainRun(opts: TrainOptions): Promise<UnhashedRecord> {
  const startedMs = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const run: RunContext = {
    opts,
    settings: runSettings(opts),
    id: runId(opts, startedMs),
    // Meter the device that trains: RAPL for CPU backends, NVML for GPU ones (never an idle GPU for a CPU run).
    meter: opts.energyMeter ? opts.energyMeter() : createEnergyMeter({ target: opts.backend.device === 'cpu' ? 'cpu' : 'gpu' }),
    memory: createMemoryTracker(tf),
    probe: null,
    obs: emptyObservations(),
  };
  let outcome: Outcome = { status: 'completed', failure: null };
  let data: TaskData | undefined;
  let runner: Runner | undefined;
  try {
    await run.meter.measureIdle(opts.idleSeconds ?? 0);
    data = prepareData(opts);
    run.probe = causalityProbe(opts.task.spec, data);
    runner = runnerFor(run, data);
    const built = await buildModelChecked(run, runner);
    const schedule = evaluationSchedule(run.settings.budgetFlops, run.settings.evalPoints);
    await untrainedEvaluation(run, runner, data);
    await stepLoop(run, runner, data, built, schedule);
    run.obs.final = await finalEvaluation(run, runner, data);
  } catch (e) {
    outcome = outcomeOf(e);
  } finally {
    runner?.dispose();
    disposeProbe(run.probe);
    data?.dispose();
  }
  return runRecordOf(run, outcome, { startedMs, loadAtStart, runner });
}
