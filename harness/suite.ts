/**
 * The standard suite: every task × every architecture × the tier's seeds, run one after
 * another on one backend. A run whose record already exists (same key) is skipped unless
 * forced or the recorded run failed; a failed run is recorded and the suite goes on; Ctrl-C stops between steps and
 * writes nothing partial.
 */
import { type ActiveBackend, type BackendChoice, selectBackend } from './backend.ts';
import { ArchitectureError, UsageError } from './errors.ts';
import { baselineNames, type LoadedArchitecture, loadArchitecture } from './load-architecture.ts';
import { collectFingerprint, hardwareClass } from './measure/fingerprint.ts';
import { type FlopCounter, installFlopCounter } from './measure/flops.ts';
import { readRecordDir, sealRecord, writeRecord } from './results/files.ts';
import type { Fingerprint, RunRecord, TierName } from './results/record.ts';
import { runKey } from './run-key.ts';
import { withCostToTarget } from './stats/cost-to-target.ts';
import { findTask, TASKS } from './tasks/index.ts';
import type { Task, TierSettings } from './tasks/types.ts';
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
}

export interface PlannedRun {
  task: Task;
  arch: LoadedArchitecture;
  seed: number;
  key: string;
}

export type SuiteEvent =
  | { type: 'backend'; backend: ActiveBackend; hardwareClass: string }
  | { type: 'plan'; runs: number; skipped: number }
  | { type: 'skip'; run: PlannedRun; existing: string }
  | { type: 'start'; run: PlannedRun; index: number; total: number; budgetFlops: number }
  | { type: 'progress'; run: PlannedRun; progress: Progress }
  | { type: 'done'; run: PlannedRun; record: RunRecord; path: string }
  | { type: 'load-error'; arch: string; message: string }
  | { type: 'interrupted' };

export interface SuiteResult {
  records: RunRecord[];
  skipped: number;
  /** architecture modules that could not be loaded, with the reason */
  loadErrors: Array<{ arch: string; message: string }>;
  interrupted: boolean;
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

export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
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
  const emit = opts.onEvent ?? (() => {});

  const loadErrors: SuiteResult['loadErrors'] = [];
  const archs: LoadedArchitecture[] = [];
  for (const name of archNames) {
    try {
      archs.push(await loadArchitecture(name));
    } catch (e) {
      if (!(e instanceof ArchitectureError)) throw e; // usage errors (unknown name, missing file) stop everything
      loadErrors.push({ arch: name, message: e.message });
      emit({ type: 'load-error', arch: name, message: e.message });
    }
  }

  const existing = new Map<string, string>();
  // A failed run is retried (its cause may be fixed); completed, diverged and timed-out runs are settled.
  for (const parsed of readRecordDir(opts.outDir)) {
    if ('record' in parsed && parsed.record.status !== 'failed') existing.set(parsed.record.key, parsed.path);
  }

  const planned: PlannedRun[] = [];
  let skipped = 0;
  for (const task of tasks) {
    for (const arch of archs) {
      const seeds = opts.seedList ?? Array.from({ length: opts.seeds ?? task.tiers[opts.tier].seeds }, (_, i) => i);
      for (const seed of new Set(seeds)) {
        const key = runKey({ task: task.spec.id, tier: opts.tier, seed, variantSeed, sourceHash: arch.sourceHash });
        const run = { task, arch, seed, key };
        const path = existing.get(key);
        if (path && !opts.force) {
          skipped++;
          emit({ type: 'skip', run, existing: path });
        } else planned.push(run);
      }
    }
  }
  emit({ type: 'plan', runs: planned.length, skipped });
  if (planned.length === 0) return { records: [], skipped, loadErrors, interrupted: false };

  const { backend, counter, fingerprint, hardwareClass } = await startEngine(opts.backend);
  emit({ type: 'backend', backend, hardwareClass });

  const records: RunRecord[] = [];
  for (const [index, run] of planned.entries()) {
    const settings = { ...run.task.tiers[opts.tier], ...opts.settings };
    emit({ type: 'start', run, index, total: planned.length, budgetFlops: settings.budgetFlops });
    let unsealed: Awaited<ReturnType<typeof trainRun>>;
    try {
      unsealed = await trainRun({
        task: run.task,
        tier: opts.tier,
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
        onProgress: (progress) => emit({ type: 'progress', run, progress }),
      });
    } catch (e) {
      if (e instanceof Interrupted) {
        emit({ type: 'interrupted' });
        return { records, skipped, loadErrors, interrupted: true };
      }
      throw e;
    }
    const record = sealRecord(withCostToTarget(unsealed, run.task.tiers[opts.tier].target));
    const path = writeRecord(opts.outDir, record);
    records.push(record);
    emit({ type: 'done', run, record, path });
    await opts.onRecord?.(record, path);
  }
  return { records, skipped, loadErrors, interrupted: false };
}
