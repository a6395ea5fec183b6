/**
 * The standard suite: every task × every architecture × the tier's seeds, run one after
 * another on one backend, or N at a time in child processes (--jobs). A run whose record already exists (same key) is skipped unless
 * forced or the recorded run failed; a failed run is recorded and the suite goes on; Ctrl-C stops between steps and
 * writes nothing partial.
 */

import type { ArchitectureKnobs } from './architecture.ts';
import { type ActiveBackend, type BackendChoice, selectBackend } from './backend.ts';
import { loadConfined } from './confined/describe.ts';
import { CONFINED_BACKENDS } from './confined/protocol.ts';
import { confinedBackendFor, confinedRunFor } from './confined/runner.ts';
import { sandboxStatus, warnBaselinesInProcess } from './confined/sandbox.ts';
import { ArchitectureError, UsageError } from './errors.ts';
import type { RunJob } from './jobs/job.ts';
import { type Shard, shardOf } from './jobs/shard.ts';
import { architectureKnobs, definedKnobs, type RunKnobs } from './knobs.ts';
import { baselineNames, isBaselineName, type LoadedArchitecture, loadArchitecture } from './load-architecture.ts';
import { collectFingerprint, hardwareClass } from './measure/fingerprint.ts';
import { type FlopCounter, installFlopCounter } from './measure/flops.ts';
import { readRecordDir, sealRecord, writeRecord } from './results/files.ts';
import type { Fingerprint, RunRecord, TierName, TuningRecord } from './results/record.ts';
import { tuningLookup } from './results/tuning.ts';
import { runKey } from './run-key.ts';
import { findTask, TASKS } from './tasks/index.ts';
import type { EvalSplit, Task, TierSettings } from './tasks/types.ts';
import { Interrupted, type Progress, trainRun } from './train.ts';

export interface SuiteOptions {
  tier: TierName;
  /** task ids; default every task */
  tasks?: readonly string[];
  /** baseline names or module paths; default every baseline */
  archs?: readonly string[];
  /** seeds per (task, architecture): 0..seeds−1; default the tier's */
  seeds?: number;
  /** exactly these seeds instead (to add one seed to a suite, or redo one); not with `seeds` */
  seedList?: readonly number[];
  backend: BackendChoice;
  outDir: string;
  force?: boolean;
  variantSeed?: number | null;
  /** overrides of every task's tier settings (tests) */
  settings?: Partial<TierSettings>;
  idleSeconds?: number;
  signal?: AbortSignal;
  /** called with each record once it is on disk, e.g. to index it in the store */
  onRecord?: (record: RunRecord, path: string) => Promise<void> | void;
  onEvent?: (event: SuiteEvent) => void;
  /** a static slice of the suite (array jobs): shard i of N, balanced by expected run time */
  shard?: Shard;
  /** child processes running at once, one run each (default 1: in this process) */
  jobs?: number;
  /** evaluate on the test split (default) or the validation split (tuning trials) */
  split?: EvalSplit;
  /** learning-rate tuning to apply: default results/tuning/<tier>.json where it exists; null for none */
  tuningFile?: string | null;
  /**
   * Where each architecture runs: true, in a confined child process (harness/confined: the
   * trust boundary for submitted code); 'auto' (the CLI's default), modules confined, and the
   * baselines too where this machine has the OS sandbox and the backend runs in it — so the
   * published suite and submissions share one hardware class and one IPC path (elsewhere the
   * baselines run here, after one warning); 'untrusted', confined unless it is one of
   * baselines/ (`--in-process`); false or absent, in this process.
   */
  confine?: Confine;
  /** sweep knobs for every run (`--set experts=16`): in each run's key and record */
  knobs?: RunKnobs;
}

export interface PlannedRun {
  task: Task;
  /** the tier the run trains at (a sweep's runs span tiers) */
  tier: TierName;
  /** the run's knobs, if any (part of its key) */
  knobs?: RunKnobs;
  arch: LoadedArchitecture;
  /** the architecture as the user named it (baseline name or module path) */
  archSpec: string;
  seed: number;
  key: string;
  tuning?: TuningRecord;
}

export type SuiteEvent =
  | { type: 'backend'; backend: ActiveBackend; hardwareClass: string }
  | { type: 'plan'; runs: number; skipped: number }
  | { type: 'skip'; run: PlannedRun; existing: string }
  | { type: 'start'; run: PlannedRun; index: number; total: number; budgetFlops: number }
  | { type: 'progress'; run: PlannedRun; progress: Progress }
  | { type: 'done'; run: PlannedRun; record: RunRecord; path: string }
  | { type: 'load-error'; arch: string; message: string }
  /** a child process ended without a record (killed, out of memory): nothing was written for the run */
  | { type: 'crash'; run: PlannedRun; message: string }
  | { type: 'interrupted' };

export interface SuiteResult {
  records: RunRecord[];
  skipped: number;
  /** architecture modules that could not be loaded, with the reason */
  loadErrors: Array<{ arch: string; message: string }>;
  interrupted: boolean;
  /** runs whose child process ended without a record (--jobs > 1 only) */
  crashed?: number;
}

interface Engine {
  backend: ActiveBackend;
  counter: FlopCounter;
  fingerprint: Fingerprint;
  hardwareClass: string;
}

let engine: Engine | undefined;

/** One backend and one FLOP counter per process: tfjs has one global engine. */
async function startEngine(choice: BackendChoice): Promise<Engine> {
  if (engine) {
    if (choice !== 'auto' && choice !== engine.backend.name) {
      throw new UsageError(`this process already runs the ${engine.backend.name} backend; start a new process for ${choice}`);
    }
    return engine;
  }
  const backend = await selectBackend(choice);
  const counter = installFlopCounter(backend.tfjsName);
  const fingerprint = await collectFingerprint({ backend: backend.name, backendVersion: backend.version, device: backend.device });
  engine = { backend, counter, fingerprint, hardwareClass: hardwareClass(fingerprint) };
  return engine;
}

/** What a suite will do: the runs to make, those already recorded, the modules that failed to load. */
export interface SuitePlan {
  planned: PlannedRun[];
  skipped: Array<{ run: PlannedRun; existing: string }>;
  loadErrors: SuiteResult['loadErrors'];
}

/**
 * Plan a suite: every task × architecture × seed, sliced to the shard if one is given
 * (before anything recorded is skipped, so every shard sees the same partition), then
 * without the runs whose key already has a settled record in `outDir` (unless forced).
 */
export async function planSuite(opts: SuiteOptions): Promise<SuitePlan> {
  const tasks = opts.tasks?.length ? opts.tasks.map(findTask) : [...TASKS];
  if (opts.seeds !== undefined && (!Number.isInteger(opts.seeds) || opts.seeds < 1)) {
    throw new UsageError(`--seeds must be a positive integer, got ${opts.seeds}`);
  }
  if (opts.seedList !== undefined) {
    if (opts.seeds !== undefined) throw new UsageError('give --seeds (a count) or --seed (a list), not both');
    if (opts.seedList.length === 0 || opts.seedList.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new UsageError(`--seed takes non-negative integers, got ${opts.seedList.join(' ')}`);
    }
  }
  const archNames = opts.archs?.length ? opts.archs : baselineNames();
  const variantSeed = opts.variantSeed ?? null;

  const loadErrors: SuiteResult['loadErrors'] = [];
  const archs: Array<LoadedArchitecture & { given: string }> = [];
  for (const name of archNames) {
    try {
      // a module that runs confined is imported only in a confined child, never here; a baseline is the harness's own code
      archs.push({ ...(await (loadsConfined(opts.confine, name) ? loadConfined(name) : loadArchitecture(name))), given: name });
    } catch (e) {
      if (!(e instanceof ArchitectureError)) throw e; // usage errors (unknown name, missing file) stop everything
      loadErrors.push({ arch: name, message: e.message });
    }
  }

  const knobs = definedKnobs(opts.knobs);
  const all: PlannedRun[] = [];
  const tunedFor = tuningLookup(opts.tier, opts.tuningFile);
  for (const task of tasks) {
    for (const arch of archs) {
      if (knobs) checkKnobsFor(arch, arch.given, knobs);
      const tuning = tunedFor(task.spec.id, arch);
      const seeds = opts.seedList ?? Array.from({ length: opts.seeds ?? task.tiers[opts.tier].seeds }, (_, i) => i);
      for (const seed of new Set(seeds)) {
        const key = runKey({
          task: task.spec.id,
          tier: opts.tier,
          seed,
          variantSeed,
          sourceHash: arch.sourceHash,
          tuning,
          knobs,
        });
        all.push({
          task,
          tier: opts.tier,
          arch,
          archSpec: arch.given,
          seed,
          key,
          ...(tuning ? { tuning } : {}),
          ...(knobs ? { knobs } : {}),
        });
      }
    }
  }
  return { ...settledPlan(all, opts), loadErrors };
}

/**
 * Slice planned runs to the shard (before anything recorded is skipped, so every shard sees
 * the same partition), then set aside those whose key has a settled record in `outDir`.
 */
export function settledPlan(
  runs: PlannedRun[],
  opts: Pick<SuiteOptions, 'shard' | 'settings' | 'outDir' | 'force'>,
): Omit<SuitePlan, 'loadErrors'> {
  let all = runs;
  if (opts.shard) {
    // Expected run time ∝ the tier's FLOP budget: every run trains to it; how fast an architecture goes is not known before it runs.
    all = shardOf(
      all,
      opts.shard,
      (r) => ({ ...r.task.tiers[r.tier], ...opts.settings }).budgetFlops,
      (r) => r.key,
    );
  }

  const existing = new Map<string, string>();
  // A failed run is retried (its cause may be fixed); completed, diverged, timed-out and refused runs are settled.
  for (const parsed of readRecordDir(opts.outDir)) {
    if ('record' in parsed && parsed.record.status !== 'failed') existing.set(parsed.record.key, parsed.path);
  }
  const planned: PlannedRun[] = [];
  const skipped: SuitePlan['skipped'] = [];
  for (const run of all) {
    const path = existing.get(run.key);
    if (path && !opts.force) skipped.push({ run, existing: path });
    else planned.push(run);
  }
  return { planned, skipped };
}

/**
 * Refuse knobs an architecture cannot take, before anything runs: an architecture knob it
 * does not declare. (A confined run's child gets the knobs with its init and checks them again.)
 */
export function checkKnobsFor(arch: LoadedArchitecture, given: string, knobs: RunKnobs): void {
  const wanted = Object.keys(architectureKnobs(knobs)) as Array<keyof ArchitectureKnobs>;
  if (wanted.length === 0) return;
  const declared = arch.architecture.knobs ?? [];
  const refused = wanted.filter((k) => !declared.includes(k));
  if (refused.length > 0) {
    throw new UsageError(
      `${given} does not take --set ${refused.join(', ')} (it takes ${declared.length ? declared.join(', ') : 'no architecture knobs'}; width and the headroom knobs apply to every architecture)`,
    );
  }
}

/** SuiteOptions.confine: which architectures run in a confined child. */
export type Confine = boolean | 'auto' | 'untrusted';

/** The backends a confined child can run (`auto` picks among them): a baseline asked for another runs in this process. */
const CONFINABLE: ReadonlySet<BackendChoice> = new Set(['auto', ...CONFINED_BACKENDS]);

/**
 * Whether the architecture named `archSpec` (a baseline's name or a module's path) runs
 * confined, on `backend`. Under 'auto', a baseline runs confined where the OS sandbox is
 * available and the backend can run in it; where the sandbox is missing it runs here, after
 * one warning (its code is the harness's own; submissions are refused or warned about as
 * before, by the confined runner).
 */
export function confinedFor(confine: Confine | undefined, archSpec: string, backend: BackendChoice): boolean {
  if (confine === true) return true;
  if (confine === undefined || confine === false) return false;
  if (!isBaselineName(archSpec)) return true;
  if (confine === 'untrusted' || !CONFINABLE.has(backend)) return false;
  const sandbox = sandboxStatus();
  if (!sandbox.available) warnBaselinesInProcess(sandbox.reason);
  return sandbox.available;
}

/** Whether planning imports the architecture only in a confined child: a module that runs confined (a baseline is the harness's own code, imported here). */
const loadsConfined = (confine: Confine | undefined, archSpec: string): boolean =>
  !isBaselineName(archSpec) && (confine === true || confine === 'auto' || confine === 'untrusted');

/** The job a planned run is, for a child process or the queue. */
export function jobOf(
  run: PlannedRun,
  opts: Pick<SuiteOptions, 'variantSeed' | 'settings' | 'split' | 'confine'> & { backend: BackendChoice },
): RunJob {
  return {
    task: run.task.spec.id,
    tier: run.tier,
    seed: run.seed,
    variantSeed: opts.variantSeed ?? null,
    arch: run.archSpec,
    key: run.key,
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(run.tuning ? { tuning: run.tuning } : {}),
    ...(run.knobs ? { knobs: run.knobs } : {}),
    ...(opts.split ? { split: opts.split } : {}),
    ...(confinedFor(opts.confine, run.archSpec, opts.backend) ? { confine: true } : {}),
  };
}

export interface RunOptions {
  backend: BackendChoice;
  settings?: Partial<TierSettings>;
  idleSeconds?: number;
  signal?: AbortSignal;
  onBackend?: (backend: ActiveBackend, hardwareClass: string) => void;
  onProgress?: (progress: Progress) => void;
  /** evaluate on the test split (default) or the validation split (tuning trials) */
  split?: EvalSplit;
  /** the architecture runs in a confined child process; this process keeps data, clock, ledger and record */
  confine?: boolean;
  /** BLAS threads for a confined baseline on wasm+blas */
  blasThreads?: number;
}

/** Train one planned run in this process and seal its record (Interrupted propagates). */
export async function executeRun(run: PlannedRun, tier: TierName, variantSeed: number | null, opts: RunOptions): Promise<RunRecord> {
  const confined = opts.confine ? await confinedBackendFor(opts.backend, run.arch.origin) : null;
  // Confined: this process runs the same backend as the child (for the data, the scoring and the fingerprint).
  const engine = await startEngine(confined ?? opts.backend);
  const { counter, fingerprint, hardwareClass } = engine;
  // the record says why a confined run is on this backend
  const backend = confined
    ? {
        ...engine.backend,
        reason: `confined run (--backend ${opts.backend}): the architecture's process runs ${confined}${confined === 'wasm+blas' || confined === 'wasm+libxsmm' ? ' (native kernels inside the OS sandbox)' : ''}`,
      }
    : engine.backend;
  opts.onBackend?.(backend, hardwareClass);
  const timeLimit = { ...run.task.tiers[tier], ...opts.settings }.timeLimitSeconds;
  const runner = confined ? await confinedRunFor(run.arch, tier, confined, timeLimit, opts.blasThreads) : undefined;
  const unsealed = await trainRun({
    ...(runner ? { runner } : {}),
    task: run.task,
    tier,
    seed: run.seed,
    variantSeed,
    arch: run.arch,
    backend,
    counter,
    fingerprint,
    hardwareClass,
    settings: opts.settings,
    idleSeconds: opts.idleSeconds,
    signal: opts.signal,
    onProgress: opts.onProgress,
    split: opts.split,
    tuning: run.tuning,
    knobs: run.knobs,
  });
  // observations only: cost-to-target is computed when read (harness/stats/cost-to-target.ts)
  return sealRecord(unsealed);
}

export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
  return runPlanned(await planSuite(opts), opts);
}

/** Execute a plan (the suite's, or a sweep's): recorded runs are announced as skipped, the rest run. */
export async function runPlanned(plan: SuitePlan, opts: Omit<SuiteOptions, 'tier'>): Promise<SuiteResult> {
  const emit = opts.onEvent ?? (() => {});
  const { planned, skipped, loadErrors } = plan;
  for (const e of loadErrors) emit({ type: 'load-error', ...e });
  for (const s of skipped) emit({ type: 'skip', ...s });
  emit({ type: 'plan', runs: planned.length, skipped: skipped.length });
  const result: SuiteResult = { records: [], skipped: skipped.length, loadErrors, interrupted: false };
  if (planned.length === 0) return result;

  const variantSeed = opts.variantSeed ?? null;
  const settle = async (run: PlannedRun, record: RunRecord) => {
    const path = writeRecord(opts.outDir, record);
    result.records.push(record);
    emit({ type: 'done', run, record, path });
    await opts.onRecord?.(record, path);
  };

  if ((opts.jobs ?? 1) > 1) {
    // One run per child process, `jobs` at a time: the same path as a queue worker's.
    const { runInChildren } = await import('./jobs/pool.ts');
    let announced = false;
    const outcome = await runInChildren(
      planned.map((run) => ({ run, job: jobOf(run, opts) })),
      {
        concurrency: opts.jobs ?? 1,
        backend: opts.backend,
        idleSeconds: opts.idleSeconds,
        signal: opts.signal,
        onBackend: (backend, hardwareClass) => {
          if (!announced) emit({ type: 'backend', backend, hardwareClass });
          announced = true;
        },
        onStart: (item, index) =>
          emit({
            type: 'start',
            run: item.run,
            index,
            total: planned.length,
            budgetFlops: { ...item.run.task.tiers[item.run.tier], ...opts.settings }.budgetFlops,
          }),
        onProgress: (item, progress) => emit({ type: 'progress', run: item.run, progress }),
        onRecord: (item, record) => settle(item.run, record),
        onCrash: (item, message) => emit({ type: 'crash', run: item.run, message }),
      },
    );
    result.crashed = outcome.crashed;
    if (outcome.interrupted) {
      emit({ type: 'interrupted' });
      result.interrupted = true;
    }
    return result;
  }

  for (const [index, run] of planned.entries()) {
    const settings = { ...run.task.tiers[run.tier], ...opts.settings };
    emit({ type: 'start', run, index, total: planned.length, budgetFlops: settings.budgetFlops });
    let record: RunRecord;
    try {
      record = await executeRun(run, run.tier, variantSeed, {
        backend: opts.backend,
        settings: opts.settings,
        idleSeconds: opts.idleSeconds,
        signal: opts.signal,
        onBackend: (backend, hardwareClass) => {
          if (index === 0) emit({ type: 'backend', backend, hardwareClass });
        },
        onProgress: (progress) => emit({ type: 'progress', run, progress }),
        split: opts.split,
        confine: confinedFor(opts.confine, run.archSpec, opts.backend),
      });
    } catch (e) {
      if (e instanceof Interrupted) {
        emit({ type: 'interrupted' });
        return { ...result, interrupted: true };
      }
      throw e;
    }
    await settle(run, record);
  }
  return result;
}
