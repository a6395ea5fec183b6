/**
 * Validate an architecture module before anything is trained or uploaded, through the same
 * path `run` takes: the module runs in the confined child (harness/confined: the OS sandbox,
 * the signed channel, the tier's heap and resident-memory caps), and this process drives the
 * training loop's own stages (train.ts) on each task of the tier — build and its checks
 * (parameters counted from the variables, the state cap, the caps of the tier), the untrained
 * evaluation (shapes, finite outputs, the step-0 score, causality), a few checked training
 * steps (the declared active parameters against the executed matmuls, held tensors, leaks),
 * a timing burst and a last evaluation. So validate refuses what a run would refuse, with
 * the run's words.
 *
 * What is measured here, outside the module's process: each step's seconds (this process's
 * clock around the request, batch included), the child's CPU seconds and peak resident memory
 * (from /proc). What comes from inside it is the module's claim, and the report says so: its
 * parameter count (the shapes its process lists), its FLOPs per step (its process's ledger)
 * and its tensor bytes. Every failure names the check, the task and what to change.
 */
import { availableParallelism, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, selectBackend } from '../backend.ts';
import { causalityProbe, disposeProbe } from '../causality.ts';
import { bundleModule } from '../confined/bundle.ts';
import { loadConfined } from '../confined/describe.ts';
import type { StopReason } from '../confined/host.ts';
import { confinedBackendFor, confinedRunner } from '../confined/runner.ts';
import { ArchitectureError, thrownMessage } from '../errors.ts';
import type { EvalModel } from '../evaluate.ts';
import { RunFailure } from '../forward.ts';
import { type LoadedArchitecture, resolveModule } from '../load-architecture.ts';
import { unmeasuredMeter } from '../measure/energy.ts';
import { collectFingerprint, hardwareClass } from '../measure/fingerprint.ts';
import { createMemoryTracker } from '../measure/memory.ts';
import { flagAt, paceAt } from '../measure/uncounted.ts';
import type { RunRecord } from '../results/record.ts';
import type { Runner, RunnerSetup } from '../runner.ts';
import { TASKS } from '../tasks/index.ts';
import type { TierName } from '../tasks/tiers.ts';
import type { Task, TaskData } from '../tasks/types.ts';
import { limitsFor } from '../tiers.ts';
import {
  buildModelChecked,
  checkDeclaredActive,
  emptyObservations,
  evaluationPoint,
  prepareData,
  type RunContext,
  runnerFor,
  runSettings,
  type StageOptions,
  tensorGuard,
  timedStep,
  untrainedEvaluation,
} from '../train.ts';
import type { CheckName, ValidationFailure } from './protocol.ts';
import { timeVerdict } from './time-check.ts';

export interface ValidateOptions {
  tier: TierName;
  backend?: BackendChoice;
  /** whole validation; default 50 s, so that even a module that never returns is reported within a minute */
  timeLimitSeconds?: number;
  /** a request (import, build, a step, an evaluation) unanswered for this long kills the child; default 20 s */
  stallSeconds?: number;
  /** defaults: the tier's, as a run has them (limitsFor) */
  rssLimitMB?: number;
  tensorLimitMB?: number;
  heapMB?: number;
  /** one line per phase, for a progress display */
  onProgress?: (line: string) => void;
  /**
   * Baseline runs to compare each task's pace with (training seconds per counted FLOP, as a
   * run is flagged: harness/measure/uncounted.ts): those of this machine's hardware class, the
   * task and the tier count. None given, or none of the class: the check says it was not made.
   */
  baselines?: readonly RunRecord[];
}

export interface TaskPass {
  task: string;
  /** measured by the harness: median seconds of a settled training step on this process's clock, the batch's hand-over included */
  stepSeconds: number;
  /** measured by the harness: CPU seconds of the child's processes per settled step (/proc), or null where unreadable */
  cpuSecondsPerStep: number | null;
  /** measured by the harness: the child's peak resident memory (the kernel's high-water mark), or null where unreadable */
  peakRssMB: number | null;
  /** the module's claim: counted from the variable shapes its process lists (checked as a run checks them) */
  params: { total: number; active: number };
  /** the module's claim: its process's FLOP ledger for one step */
  flopsPerStep: number;
  /** the measured step seconds × the steps the claimed FLOPs give to reach the budget */
  estimatedRunSeconds: number;
  /** the module's claim: the tensor bytes its process's engine reported */
  peakTensorBytes: number;
  /**
   * the measured step seconds per claimed FLOP over the slowest comparable baseline run's
   * (same hardware class, task and tier; flagged above UNCOUNTED_COMPUTE_FACTOR), or null
   * where none compare
   */
  pace: { ratio: number; baselines: number } | null;
}

export interface ValidationReport {
  ok: boolean;
  module: string;
  tier: TierName;
  backend: string | null;
  seconds: number;
  architecture: { name: string; family: string; description: string; sourceHash: string } | null;
  passed: TaskPass[];
  refused: { task: string; reason: string }[];
  failures: ValidationFailure[];
  warnings: { check: CheckName; task: string | null; message: string }[];
  /** measured by the harness: the highest resident memory of the module's processes */
  peakRssMB: number | null;
  limits: { timeLimitSeconds: number; stallSeconds: number; rssLimitMB: number; tensorLimitMB: number; heapMB: number };
}

/** Steps before the timing burst, as a run checks them: step 2 sets the tensor baseline, step 3 checks the declared cost; the burst's steps are checked too. */
const STEPS = 5;
/** the timing burst after the checked steps: at most this many steps or this long (on this process's clock) */
const TIMING_STEPS = 400;
const TIMING_MS = 1000;

const FIX = {
  import:
    "make the module import cleanly on its own, importing only '@tensorflow/tfjs', 'middlepath', Node's built-ins and files in its own folder",
  defaultExport:
    'end the module with `export default defineArchitecture({ name, family, description, build })`, importing defineArchitecture from middlepath',
  refuse: 'make refuse(task) return a reason string or undefined, never throw',
  build:
    "make build(task, size, ctx) return { variables, forward } for this task's TaskSpec, or decline the task with `refuse: (task) => 'reason'`",
  paramCap:
    'make the model smaller for this task and count it honestly: list every trainable variable in Model.variables, stay within size.maxParams (total) and size.maxActiveParams (per example), and declare cost.activeParams as what each example really passes through',
  outputShape:
    'return `output` with the shape TaskSpec.output asks for: classes → [batch, count], reconstruction → [batch, dim], next-token → [batch, length, vocab]',
  evalForward: 'make forward(x, { training: false }) free of exceptions for this task: the harness evaluates in this mode from step 0',
  finiteEval:
    'keep the outputs finite in evaluation mode too (training: false): scoring reads every value, and NaN or Infinity scores as a failed run',
  untrained: 'build() must only initialise the model: train only in the harness’s training steps',
  causality:
    'on a causal task the output at t may read inputs at positions ≤ t only: mask attention to the past, route and mix tokens without looking ahead',
  offClock:
    'do all training work inside forward() of a training step: leave no timers or promises that compute after it returns, and change no variable in evaluation',
  trainStep: 'make forward(x, { training: true }) and its auxLoss differentiable and free of exceptions for this task',
  finiteLoss:
    "keep the loss finite from the first steps at the harness's learning rate: look for division by zero, log of 0, sqrt of a negative, or an initialisation that explodes",
  leak: 'dispose every tensor forward() creates outside the harness tf.tidy (no tf.keep, no module-level arrays of tensors); create variables in build(), not forward()',
  memory: "stay within the tier's memory: dispose what you allocate and size tensors from SizeSpec, not from a loop",
  time: "make a training step cheaper: the run must reach the tier's FLOP budget within its time limit",
  crash: 'the module ended the process (process.exit, an uncaught asynchronous error, an unsettled top-level await): remove that',
} as const;

/** Where validation is: the check under way, its task and step; what a failure is named for. */
interface Where {
  check: CheckName;
  task: string | null;
  step?: number;
}
const whereText = (w: Where) => `${w.check}${w.task ? ` on '${w.task}'` : ''}${w.step ? ` (step ${w.step})` : ''}`;

/** What a failed stage means: the check it fails and what to change, from the run's own refusal (train.ts, the child). */
const REFUSALS: { test: RegExp; check: CheckName; fix: string }[] = [
  { test: /heap out of memory|Allocation failed|Out of memory|Aborted\(\)/i, check: 'memory', fix: FIX.memory },
  { test: /^the architecture's process ended/, check: 'crash', fix: FIX.crash },
  { test: /between the harness's requests|while it was evaluated|while the harness asked/, check: 'off-clock', fix: FIX.offClock },
  { test: /returned output of (shape|dtype)|must return \{ output/, check: 'output-shape', fix: FIX.outputShape },
  { test: /the model is not causal/, check: 'causality', fix: FIX.causality },
  { test: /already scores .* at step 0/, check: 'eval-forward', fix: FIX.untrained },
  { test: /^refuse\(\) threw/, check: 'refuse', fix: FIX.refuse },
  { test: /the model leaks tensors|state made in forward\(\)/, check: 'leak', fix: FIX.leak },
];
const FIX_OF: Partial<Record<CheckName, string>> = {
  import: FIX.import,
  build: FIX.build,
  'param-cap': FIX.paramCap,
  'eval-forward': FIX.evalForward,
  'train-step': FIX.trainStep,
  time: FIX.time,
  memory: FIX.memory,
};

/** A stage's failure as the report's: a limit the harness stopped the child for, else the run's refusal, named. */
function failureOf(e: unknown, where: Where, stopped: StopReason | null, limits: ValidationReport['limits']): ValidationFailure {
  const at = whereText(where);
  const task = where.task;
  if (stopped?.reason === 'memory') return { check: 'memory', task, message: `stopped during ${at}: ${stopped.detail}`, fix: FIX.memory };
  if (stopped?.reason === 'time') {
    const overall = /still running after/.test(stopped.detail);
    return {
      check: 'time',
      task,
      message: `stopped during ${at}: ${overall ? stopped.detail : `no progress for ${limits.stallSeconds} s (${stopped.detail})`}`,
      fix: `${where.check === 'import' ? 'the module' : `the ${where.check} phase`} never returned: look for an unbounded loop or a wait that never ends`,
    };
  }
  const message = thrownMessage(e).split('\n')[0] ?? '';
  if (e instanceof RunFailure && e.status === 'diverged')
    return { check: 'finite-loss', task, message: message.replace(/became/, 'is'), fix: FIX.finiteLoss };
  const known = REFUSALS.find((r) => r.test.test(message));
  if (known?.check === 'memory' || known?.check === 'crash')
    return { check: known.check, task, message: `during ${at}: ${message.slice(0, 800)}`, fix: known.fix };
  if (known?.check === 'output-shape')
    return {
      check: known.check,
      task,
      message: `in ${where.check === 'train-step' ? 'training (training: true)' : 'evaluation (training: false)'}: ${message}`,
      fix: known.fix,
    };
  if (known) return { check: known.check, task, message, fix: known.fix };
  return { check: where.check, task, message, fix: FIX_OF[where.check] ?? FIX.build };
}

/** Non-finite values among an evaluation's outputs (the held-out batches only), counted here. */
function nonFinite(model: EvalModel, data: TaskData): number {
  return data.evalBatches.reduce(
    (n, batch, i) => n + tf.tidy(() => (model.forwardEval(batch, i).output.isFinite().logicalNot().sum().dataSync()[0] as number) ?? 0),
    0,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : 0;
}

/** What one task's validation needs from the module's: the loaded architecture, the runner factory, the limits, and where to report. */
interface TaskValidation {
  arch: LoadedArchitecture;
  tier: TierName;
  runner: (setup: RunnerSetup) => Runner;
  tensorLimitBytes: number;
  report: ValidationReport;
  at: (where: Where) => void;
  /** the runner in use (until the next task's), to stop at the wall-clock limit and to ask what stopped it */
  hold: (runner: Runner) => void;
  progress: (line: string) => void;
  /** this machine's hardware class for the backend the child runs (as a run would record it) */
  hardwareClass: string;
  /** baseline runs to compare paces with (ValidateOptions.baselines) */
  baselines: readonly RunRecord[];
}

/** One task through the run's stages, in a child of its own; the refusal it meets, else its figures. */
async function validateTask(task: Task, v: TaskValidation): Promise<void> {
  const id = task.spec.id;
  const { tier, report } = v;
  v.at({ check: 'data', task: id });
  const data = prepareData({ task, seed: 0, variantSeed: null });
  const run: RunContext<StageOptions> = {
    opts: { task, tier, seed: 0, variantSeed: null, arch: v.arch, runner: v.runner },
    settings: runSettings({ task, tier }),
    id: `validate.${id}`,
    meter: unmeasuredMeter('validation records no energy'),
    memory: createMemoryTracker(tf),
    probe: causalityProbe(task.spec, data),
    obs: emptyObservations(),
  };
  const inner = runnerFor(run, data);
  v.hold(inner);
  let refusal: string | null = null;
  // the run's stages, each named as it starts: a failure is reported under the check that was under way
  const runner: Runner = {
    ...inner,
    async start() {
      v.at({ check: 'import', task: id });
      const described = await inner.start();
      refusal = described.refusal;
      return described;
    },
    async build() {
      v.at({ check: 'build', task: id });
      v.progress(`checking build on '${id}'…`);
      const built = await inner.build();
      v.at({ check: 'param-cap', task: id });
      return built;
    },
    async evaluation(ablate) {
      const model = await inner.evaluation(ablate);
      const bad = nonFinite(model, data);
      if (bad > 0) throw new RunFailure('eval', `forward(x, { training: false }) returned ${bad} NaN or infinite output value(s)`);
      return model;
    },
  };
  try {
    const built = await buildModelChecked(run, runner);
    v.at({ check: 'eval-forward', task: id });
    await untrainedEvaluation(run, runner, data);
    const guard = tensorGuard(built, run.obs.params.total);
    let peakTensorBytes = 0;
    // The checked steps, then a burst timed on this process's clock (the first steps pay for kernel
    // set-up, so the median of the burst's second half is the step time); every step checked as a run's.
    const timed: { seconds: number; cpu: number | null; flops: number; readbackBytes: number }[] = [];
    let burstStart = 0;
    for (let step = 1; ; step++) {
      if (step === STEPS + 1) burstStart = performance.now();
      if (step > STEPS && (timed.length >= TIMING_STEPS || performance.now() - burstStart >= TIMING_MS)) break;
      v.at(step > STEPS ? { check: 'time', task: id } : { check: 'train-step', task: id, step });
      const seconds0 = run.obs.trainSeconds;
      const cpu0 = run.obs.trainCpuSeconds;
      const { result, batchBytes } = await timedStep(run, runner, data);
      const cpu1 = run.obs.trainCpuSeconds;
      if (step > STEPS)
        timed.push({
          seconds: run.obs.trainSeconds - seconds0,
          cpu: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
          flops: result.ledger.total,
          readbackBytes: result.ledger.readbacks.bytes,
        });
      v.at({ check: 'param-cap', task: id, step });
      if (step === 3) checkDeclaredActive(built, result.ledger, run.obs.perStepModelFlops, run.obs.params.active);
      peakTensorBytes = Math.max(peakTensorBytes, result.numBytes);
      v.at({ check: 'memory', task: id, step });
      if (result.numBytes > v.tensorLimitBytes) {
        throw new RunFailure(
          'train',
          `${(result.numBytes / 2 ** 20).toFixed(0)} MB of tensors alive after step ${step} (limit ${(v.tensorLimitBytes / 2 ** 20).toFixed(0)} MB)`,
        );
      }
      v.at({ check: 'leak', task: id, step });
      guard(step, result, batchBytes);
    }
    // a last evaluation: work left behind by the burst's last step, and causality after training
    v.at({ check: 'eval-forward', task: id });
    await evaluationPoint(run, runner, data);

    const settled = timed.slice(Math.floor(timed.length / 2));
    const seconds = median(settled.map((t) => t.seconds));
    const cpus = settled.map((t) => t.cpu);
    // /proc's CPU times tick at 10 ms: the settled steps' total over their count, not a median of ticks
    const cpuSecondsPerStep = cpus.every((c) => c !== null) ? cpus.reduce((a: number, c) => a + (c ?? 0), 0) / settled.length : null;
    const flops = median(settled.map((t) => t.flops));
    const settings = run.settings;
    const estimatedRunSeconds = flops > 0 ? (settings.budgetFlops / flops) * seconds : Number.POSITIVE_INFINITY;
    // An estimate from a short burst runs high (a small MLP's settled step was 1.3× faster
    // still), so only twice the limit fails; past the limit alone is a warning.
    const estimate = `a training step takes ${(seconds * 1000).toFixed(2)} ms on the harness's clock for ${flops.toExponential(2)} executed FLOPs (the module's count): reaching the ${tier} budget of ${settings.budgetFlops.toExponential(1)} FLOPs would take about ${estimatedRunSeconds.toFixed(0)} s on this machine; the tier stops a run at ${settings.timeLimitSeconds} s`;
    const cores = availableParallelism();
    const load = loadavg()[0] ?? 0;
    switch (timeVerdict(estimatedRunSeconds, settings.timeLimitSeconds, load / cores)) {
      case 'too slow':
        throw new RunFailure('train', estimate);
      case 'too slow, machine busy':
        report.warnings.push({
          check: 'time',
          task: id,
          message: `${estimate}, timed while the machine was busy (load ${load.toFixed(1)} on ${cores} cores), so not failed: validate again on a quiet machine`,
        });
        break;
      case 'may time out':
        report.warnings.push({ check: 'time', task: id, message: `${estimate} — it may time out` });
        break;
      case 'ok':
        break;
    }
    // Uncounted compute, as a run is flagged: the harness's seconds per FLOP the module claims, against the baselines' of this class
    const pace =
      v.arch.origin === 'baseline'
        ? null
        : paceAt({ hardwareClass: v.hardwareClass, task: id, tier }, flops > 0 ? seconds / flops : Number.POSITIVE_INFINITY, v.baselines);
    const flag =
      pace &&
      flagAt(`${v.arch.architecture.name} on ${id} (${tier}, ${v.hardwareClass})`, median(settled.map((t) => t.readbackBytes)), pace);
    if (flag)
      report.warnings.push({
        check: 'uncounted-compute',
        task: id,
        message: `${flag.message} (validate's timed burst: ${(seconds * 1000).toFixed(2)} ms a step on the harness's clock for the ${flops.toExponential(2)} FLOPs the module counts; a run is flagged the same way, and verify refuses it unless a maintainer accepts it)`,
      });
    const rss = inner.peakRssBytes?.() ?? 0;
    report.passed.push({
      task: id,
      stepSeconds: seconds,
      cpuSecondsPerStep,
      peakRssMB: rss > 0 ? rss / 2 ** 20 : null,
      params: run.obs.params,
      flopsPerStep: flops,
      estimatedRunSeconds,
      peakTensorBytes,
      pace: pace ? { ratio: pace.ratio, baselines: pace.like.length } : null,
    });
    v.progress(
      `✓ ${id}: ${(seconds * 1000).toFixed(1)} ms a step timed by the harness${cpuSecondsPerStep !== null ? ` (${(cpuSecondsPerStep * 1000).toFixed(1)} ms CPU)` : ''}, a run ≈ ${estimatedRunSeconds.toFixed(0)} s; ${run.obs.params.total} params (the module's count, checked)`,
    );
  } catch (e) {
    if (e instanceof RunFailure && e.status === 'refused' && refusal !== null) {
      report.refused.push({ task: id, reason: refusal });
      v.progress(`- ${id}: refused by the module (${refusal}); not run`);
      return;
    }
    throw e;
  } finally {
    const rss = inner.peakRssBytes?.() ?? 0;
    if (rss > 0) report.peakRssMB = Math.max(report.peakRssMB ?? 0, rss / 2 ** 20);
    inner.dispose(); // still held: what stopped it (a limit) names the failure
    disposeProbe(run.probe);
    data.dispose();
  }
}

export async function validateModule(modulePath: string, opts: ValidateOptions): Promise<ValidationReport> {
  const started = performance.now();
  const defaults = limitsFor(opts.tier);
  const limits = {
    timeLimitSeconds: opts.timeLimitSeconds ?? 50,
    stallSeconds: opts.stallSeconds ?? 20,
    rssLimitMB: opts.rssLimitMB ?? defaults.rssLimitMB,
    tensorLimitMB: opts.tensorLimitMB ?? defaults.tensorLimitMB,
    heapMB: opts.heapMB ?? defaults.heapMB,
  };
  const report: ValidationReport = {
    ok: false,
    module: modulePath,
    tier: opts.tier,
    backend: null,
    seconds: 0,
    architecture: null,
    passed: [],
    refused: [],
    failures: [],
    warnings: [],
    peakRssMB: null,
    limits,
  };
  const progress = opts.onProgress ?? (() => {});
  const fail = (f: ValidationFailure) => {
    report.failures.push(f);
    progress(`✗ ${whereText({ check: f.check, task: f.task })}: ${f.message}`);
  };
  const finish = () => {
    report.seconds = (performance.now() - started) / 1000;
    return report;
  };

  // Bundled here, in the trusted process: a module that cannot be bundled (a syntax error, an
  // import it may not make) fails the import check with esbuild's words and where.
  const { isBaseline, path } = resolveModule(modulePath);
  try {
    await bundleModule(path);
  } catch (e) {
    if (!(e instanceof ArchitectureError)) throw e;
    fail({ check: 'import', task: null, message: e.message, fix: FIX.import });
    return finish();
  }
  const backend = await confinedBackendFor(opts.backend ?? 'auto', isBaseline ? 'baseline' : modulePath);
  report.backend = backend;

  let where: Where = { check: 'import', task: null };
  // the child in use, stopped at the wall-clock limit; what stopped it names the failure
  let held: { stop: (why: StopReason) => void; stopped: () => StopReason | null } | null = null;
  let expired: StopReason | null = null;
  const deadline = setTimeout(() => {
    expired = { reason: 'time', detail: `still running after ${limits.timeLimitSeconds} s (the limit)` };
    held?.stop(expired);
  }, limits.timeLimitSeconds * 1000);
  const stoppedFor = () => expired ?? held?.stopped() ?? null;

  try {
    progress('checking import…');
    let arch: LoadedArchitecture;
    try {
      arch = await loadConfined(modulePath, {
        requestSeconds: limits.stallSeconds,
        heapMB: limits.heapMB,
        rssLimitMB: limits.rssLimitMB,
        onChild: (child) => {
          held = { stop: (why) => child.stop(why), stopped: () => child.stoppedFor };
          if (expired) child.stop(expired);
        },
      });
    } catch (e) {
      if (!(e instanceof ArchitectureError)) throw e;
      const stopped = stoppedFor();
      if (stopped) fail(failureOf(e, where, stopped, limits));
      else if (/no default export|default export is not an architecture/.test(e.message))
        fail({ check: 'default-export', task: null, message: e.message, fix: FIX.defaultExport });
      else fail({ check: 'import', task: null, message: e.message, fix: FIX.import });
      return finish();
    }
    const a = arch.architecture;
    report.architecture = { name: a.name, family: a.family, description: a.description, sourceHash: arch.sourceHash };
    // This process runs the child's backend, as a confined run's parent does: for the data, the
    // scoring, and the hardware class a run here would record (what paces are compared within).
    const engine = await selectBackend(backend);
    const fingerprint = await collectFingerprint({ backend: engine.name, backendVersion: engine.version, device: engine.device });
    const { rssLimitMB, heapMB, stallSeconds } = limits;
    const runner = await confinedRunner({
      modulePath,
      backend,
      allowAddons: backend === 'wasm+blas' || backend === 'wasm+libxsmm',
      heapMB,
      rssLimitMB,
      requestSeconds: stallSeconds,
    });
    const task: TaskValidation = {
      arch,
      tier: opts.tier,
      runner,
      tensorLimitBytes: limits.tensorLimitMB * 2 ** 20,
      report,
      at: (w) => {
        where = w;
      },
      hold: (r) => {
        held = { stop: (why) => r.stop?.(why), stopped: () => r.stopped?.() ?? null };
        if (expired) r.stop?.(expired);
      },
      progress,
      hardwareClass: hardwareClass(fingerprint),
      baselines: opts.baselines ?? [],
    };
    for (const t of TASKS) {
      if (expired) break;
      try {
        await validateTask(t, task);
      } catch (e) {
        if (!(e instanceof ArchitectureError || e instanceof RunFailure)) throw e;
        const f = failureOf(e, where, stoppedFor(), limits);
        fail(f);
        // a limit passed or a process that died ends validation, as it ends a run; a refusal moves on to the next task
        if (f.check === 'time' || f.check === 'memory' || f.check === 'crash') break;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  if (report.architecture && report.failures.length === 0 && report.passed.length === 0) {
    fail({
      check: 'refuse',
      task: null,
      message: `the module refuses every task of the ${opts.tier} tier (${report.refused.map((x) => `${x.task}: ${x.reason}`).join('; ')})`,
      fix: 'accept at least one task: refuse only the tasks the architecture cannot handle',
    });
  }
  const unpaced = isBaseline ? [] : report.passed.filter((p) => p.pace === null).map((p) => p.task);
  if (unpaced.length > 0)
    report.warnings.push({
      check: 'uncounted-compute',
      task: null,
      message: `uncounted compute not checked on ${unpaced.join(', ')}: no completed baseline runs of ${unpaced.length > 1 ? 'those tasks' : 'that task'} at the ${opts.tier} tier on this machine's hardware class to compare the pace with (run the baselines here first: npm start, or middlepath run --tier ${opts.tier})`,
    });
  report.ok = report.failures.length === 0 && report.architecture !== null;
  return finish();
}

/** Human-readable lines for a report: one per failure, then a summary. */
export function formatReport(r: ValidationReport): string[] {
  const lines: string[] = [];
  const name = r.architecture ? `${r.architecture.name} (${r.module})` : r.module;
  for (const w of r.warnings) lines.push(`! [${w.check}]${w.task ? ` ${w.task}:` : ''} ${w.message}`);
  for (const f of r.failures) {
    lines.push(`✗ [${f.check}]${f.task ? ` ${f.task}:` : ''} ${f.message}`);
    lines.push(`    → ${f.fix}`);
  }
  lines.push(
    r.ok
      ? `${name} is valid at the ${r.tier} tier: ${r.passed.length} task(s) pass${r.refused.length ? `, ${r.refused.length} refused (${r.refused.map((x) => x.task).join(', ')})` : ''} — ${r.seconds.toFixed(1)} s`
      : `${name} failed validation at the ${r.tier} tier: ${r.failures.length} problem(s) — ${r.seconds.toFixed(1)} s`,
  );
  return lines;
}
