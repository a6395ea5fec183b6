/**
 * Where a run's architecture executes, seen from the training loop: a `Runner` builds the
 * model, takes one training step per call and evaluates, and returns what its kernels
 * counted. The loop (train.ts) keeps the clock, totals the ledger, decides the budget and
 * scores; it never touches the model itself. Two runners: `localRunner` (this process, as
 * the harness always did) and `confinedRunner` (harness/confined/runner.ts: the model in a
 * confined child process, the trust boundary of issue 8).
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchitectureKnobs, ForwardContext, Model, ModelCost, SizeSpec, TaskSpec } from './architecture.ts';
import { createBuildContext, type OwnedBuildContext } from './build-context.ts';
import { thrownMessage } from './errors.ts';
import { type EvalModel, localEvalModel } from './evaluate.ts';
import { RunFailure } from './forward.ts';
import type { LoadedArchitecture } from './load-architecture.ts';
import type { FlopCounter, FlopTotals } from './measure/flops.ts';
import { measurementFreeze } from './measure/freeze.ts';
import { densityOfChange } from './metrics/sparsity.ts';
import { buildModel, ScheduledAdam, trainingStep } from './step.ts';
import type { Batch, TaskData } from './tasks/types.ts';

/** What the architecture is, as the runner found it (from the module itself, wherever it ran). */
export interface RunnerArchitecture {
  name: string;
  family: string;
  description: string;
  reference: string | null;
  control: 'matched-total' | null;
  /** refuse(task)'s reason, or null */
  refusal: string | null;
}

export interface BuiltModel {
  /** every trainable variable's shape and whether it is an embedding table */
  variables: Array<{ shape: number[]; embedding: boolean }>;
  /** trainable elements of every variable the engine holds after build(), declared in Model.variables or not */
  engineParams: number;
  /**
   * bytes of the tensors build() left beside the trainable variables (constants, non-trainable
   * variables): state the parameter caps do not see, so it is capped too (train.ts)
   */
  stateBytes: number;
  /** every tensor byte the engine held right after build(), the harness's own included: what a step may add to is known from it */
  heldBytes: number;
  /** Model.cost.activeParams as the module declared it, or null */
  declaredActive: number | null;
  attention: ModelCost['attention'] | null;
  hyperparameters: Record<string, string | number | boolean>;
  /** what build() computed through the kernels */
  ledger: FlopTotals;
}

export interface StepResult {
  loss: number;
  /** this step's kernel ledger */
  ledger: FlopTotals;
  /** sampled steps: share of non-zero gradients and of parameters moved */
  density: { gradient: number; update: number } | null;
  numTensors: number;
  numBytes: number;
}

export interface Runner {
  /** the model runs in a confined child process (harness/confined), not in this one */
  readonly confined: boolean;
  start(): Promise<RunnerArchitecture>;
  build(): Promise<BuiltModel>;
  step(batch: Batch, learningRate: number, sample: boolean, step: number): Promise<StepResult>;
  /** the model for one evaluation of the held-out set (with one expert masked, for ablation) */
  evaluation(ablate?: NonNullable<ForwardContext['ablate']>): Promise<EvalModel>;
  /** resident memory of the process that runs the model, where this runner knows it better than the caller */
  peakRssBytes?(): number;
  /** CPU seconds used so far by the process that runs the model, read by the harness (from /proc), or null where it cannot be */
  cpuSeconds?(): number | null;
  /** why the harness stopped the model's process for a limit (a request unanswered in time, the resident-memory cap), or null */
  stopped?(): { reason: 'time' | 'memory'; detail: string } | null;
  /** stop the model's process now for a limit the caller keeps (validate's wall-clock limit); a pending request then fails */
  stop?(why: { reason: 'time' | 'memory'; detail: string }): void;
  /** the OS sandbox the model runs in, or null (in-process, or a machine without one) */
  sandbox?(): { tool: string; version: string; outsideUid: number } | null;
  dispose(): void;
}

export interface RunnerSetup {
  spec: TaskSpec;
  size: SizeSpec;
  seed: number;
  /** the run id: prefix of variable names */
  scope: string;
  learningRate: number;
  /** the architecture knobs build() gets in ctx.knobs; absent or {} in the standard suite */
  knobs?: ArchitectureKnobs;
  data: TaskData;
}

/** Trainable elements of all the variables the tfjs engine holds (the optimizer's slots do not exist yet after build). */
export function engineTrainableParams(): number {
  return Object.values(tf.engine().registeredVariables)
    .filter((v) => v.trainable)
    .reduce((n, v) => n + v.size, 0);
}

/** The engine's trainable elements and tensor bytes, before and after a build() to compare. */
export function engineFootprint(): { trainable: number; bytes: number } {
  return { trainable: engineTrainableParams(), bytes: tf.memory().numBytes };
}

/** What a build() added: trainable elements, and the bytes of every other tensor it left (4 bytes an element). */
export function builtFootprint(
  before: { trainable: number; bytes: number },
  after: { trainable: number; bytes: number },
): { engineParams: number; stateBytes: number; heldBytes: number } {
  const engineParams = after.trainable - before.trainable;
  return { engineParams, stateBytes: Math.max(0, after.bytes - before.bytes - 4 * engineParams), heldBytes: after.bytes };
}

const copyTotals = (t: FlopTotals): FlopTotals => ({
  total: t.total,
  calls: t.calls,
  byKind: { ...t.byKind },
  readbacks: { ...t.readbacks },
});

/** The architecture in this process: the harness's path before issue 8, and still the one tests use. */
/** Runs a module's code frozen (harness/measure/freeze.ts): tampering with the meters fails the phase with its own message. */
function frozenCaller(label: string): <T>(phase: 'build' | 'train', fn: () => T) => T {
  const freezer = measurementFreeze();
  return function frozen<T>(phase: 'build' | 'train', fn: () => T): T {
    freezer.freeze(label); // O(1): a flag and two sizes (freeze.ts)
    let result: T;
    try {
      result = fn();
    } catch (e) {
      freezer.thaw();
      // tampering fails the run with its own message, even where the module caught the refusal
      const tamper = freezer.refused ?? freezer.tamperOf(e);
      throw tamper ? new RunFailure(phase, tamper.message) : e;
    }
    freezer.thaw(); // runs the O(1) after-the-fact checks
    if (freezer.refused) throw new RunFailure(phase, freezer.refused.message);
    return result;
  };
}

/** What the architecture says of itself, and whether it refuses the task. */
function describedArchitecture(a: LoadedArchitecture['architecture'], spec: RunnerSetup['spec']): RunnerArchitecture {
  let refusal: string | undefined;
  try {
    refusal = a.refuse?.(spec);
  } catch (e) {
    throw new RunFailure('build', `refuse() threw: ${thrownMessage(e)}`);
  }
  return {
    name: a.name,
    family: a.family,
    description: a.description,
    reference: a.reference ?? null,
    control: a.control ?? null,
    refusal: refusal ?? null,
  };
}

export function localRunner(
  arch: Pick<LoadedArchitecture, 'architecture'> & Partial<Pick<LoadedArchitecture, 'path'>>,
  counter: FlopCounter,
  setup: RunnerSetup,
): Runner {
  // In this process the module was imported before any freeze, so only its build() and training
  // steps run frozen (thawed between, for the harness's own kernel swaps); confined, it loads frozen.
  const frozen = frozenCaller(arch.path ?? `the module of ${arch.architecture.name}`);
  let ctx: OwnedBuildContext | undefined;
  let model: Model | undefined;
  let optimizer: ScheduledAdam | undefined;
  const built = () => {
    if (!model || !optimizer) throw new Error('localRunner: build() first');
    return { model, optimizer };
  };
  return {
    confined: false,
    async start() {
      return describedArchitecture(arch.architecture, setup.spec);
    },
    async build() {
      // in-process, the engine may hold other runs' variables: count what this build adds
      const before = engineFootprint();
      ctx = createBuildContext(setup.seed, setup.scope, setup.knobs);
      counter.reset();
      counter.active = true;
      try {
        const c = ctx;
        model = frozen('build', () => buildModel(arch, setup.spec, setup.size, c));
      } finally {
        counter.active = false;
      }
      const footprint = builtFootprint(before, engineFootprint()); // before the optimizer, whose step counters are variables too
      optimizer = new ScheduledAdam(setup.learningRate, 0.9, 0.999, 1e-8);
      const embeddings = new Set(ctx.created.filter((c) => c.init === 'embedding').map((c) => c.variable));
      return {
        variables: model.variables.map((v) => ({ shape: [...v.shape], embedding: embeddings.has(v) })),
        ...footprint,
        declaredActive: model.cost?.activeParams ?? null,
        attention: model.cost?.attention ?? null,
        hyperparameters: { ...model.hyperparameters },
        ledger: copyTotals(counter.totals),
      };
    },
    async step(batch, learningRate, sample, step) {
      const { model: m, optimizer: opt } = built();
      opt.setLearningRate(learningRate);
      const before = sample ? m.variables.map((v) => v.clone()) : [];
      counter.reset();
      counter.active = true;
      let taskLoss: tf.Scalar | undefined;
      let gradientShare = 0;
      try {
        ({ taskLoss, gradientShare } = frozen('train', () => trainingStep(m, setup.spec, setup.data, batch, opt, sample, step)));
      } finally {
        counter.active = false;
      }
      const loss = taskLoss ? ((await taskLoss.data())[0] as number) : Number.NaN; // device sync
      taskLoss?.dispose();
      let density: StepResult['density'] = null;
      if (sample) {
        const update = tf.tidy(() => densityOfChange(m.variables.map((v, i) => tf.sub(v, before[i] as tf.Tensor))));
        tf.dispose(before);
        density = { gradient: gradientShare, update };
      }
      const mem = tf.memory();
      return { loss, ledger: copyTotals(counter.totals), density, numTensors: mem.numTensors, numBytes: mem.numBytes };
    },
    async evaluation() {
      return localEvalModel(built().model, setup.spec);
    },
    dispose() {
      optimizer?.dispose();
      ctx?.dispose();
    },
  };
}
