/**
 * Learning-rate tuning per architecture, AlgoPerf's external-tuning way: for each task and
 * architecture, train once per value of a small log-spaced grid around the tier's learning
 * rate, at a fraction of the tier's budget, one seed, evaluated on a validation split carved
 * from the training data; choose the value with the best final validation quality (growing
 * the grid outward while that value sits on its edge). Each
 * trial is written to the tuning file as it finishes, so an interrupted tune resumes where
 * it stopped (trials already recorded are skipped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendChoice } from '../backend.ts';
import { UsageError } from '../errors.ts';
import { baselineNames, loadArchitecture } from '../load-architecture.ts';
import type { TierName } from '../results/record.ts';
import { readTuningFile, type Trial, TUNING_METHOD, type TuningEntry, writeTuningFile } from '../results/tuning.ts';
import { runSuite, type SuiteEvent } from '../suite.ts';
import { findTask, TASKS } from '../tasks/index.ts';

/**
 * The grid as multiples of the tier's learning rate: three values about a factor 3 apart
 * (half a decade), grown a step at a time while the best value sits on an edge.
 */
export const DEFAULT_MULTIPLIERS = [0.3, 1, 3] as const;
export const DEFAULT_BUDGET_FRACTION = 0.25;

export interface TuneOptions {
  tier: TierName;
  tasks?: readonly string[];
  archs?: readonly string[];
  backend: BackendChoice;
  /** the tuning file to resume and write */
  file: string;
  multipliers?: readonly number[];
  budgetFraction?: number;
  seed?: number;
  /** steps the grid may grow on a side while the best value sits on its edge (default 2; 0: never) */
  extend?: number;
  /** overrides of every task's tier settings before the budget fraction is applied (tests) */
  settings?: { budgetFlops?: number; evalPoints?: number; timeLimitSeconds?: number };
  signal?: AbortSignal;
  onEvent?: (event: TuneEvent) => void;
}

export type TuneEvent =
  | { type: 'skip'; task: string; arch: string; learningRate: number }
  | { type: 'stale'; task: string; arch: string; reason: string }
  | { type: 'trial'; task: string; arch: string; trial: Trial }
  | { type: 'chosen'; entry: TuningEntry }
  | { type: 'suite'; event: SuiteEvent };

/** Round to 3 significant figures so that grid values compare exactly across runs. */
const tidy = (x: number) => Number(x.toPrecision(3));

/** Steps a grid may grow on each side when the best value sits on its edge. */
export const DEFAULT_EXTEND = 2;

/** Two grids as one, ascending, without repeats. */
const mergeGrid = (a: readonly number[], b: readonly number[]) => [...new Set([...a, ...b])].sort((x, y) => x - y);

/**
 * The next rate to try when the chosen one sits on the grid's edge: one grid step (the ratio
 * of the given grid's outer neighbours) beyond it, at most `extend` steps past the given
 * grid on that side; undefined when the choice is interior, nothing completed, or the
 * extension is spent. A failed or diverged trial beyond the edge ends the extension too,
 * since the chosen value is then interior among the values that ran.
 */
export function beyondEdge(
  entry: Pick<TuningEntry, 'grid' | 'trials' | 'higherIsBetter'>,
  given: readonly number[],
  extend: number,
): number | undefined {
  const chosen = choose(entry);
  const grid = entry.grid;
  if (chosen === null || grid.length < 2 || given.length < 2) return undefined;
  const lo = grid[0] as number;
  const hi = grid[grid.length - 1] as number;
  const givenLo = given[0] as number;
  const givenHi = given[given.length - 1] as number;
  if (chosen === hi) {
    const step = givenHi / (given[given.length - 2] as number);
    const outside = grid.filter((lr) => lr > givenHi).length;
    return outside < extend ? tidy(hi * step) : undefined;
  }
  if (chosen === lo) {
    const step = (given[1] as number) / givenLo;
    const outside = grid.filter((lr) => lr < givenLo).length;
    return outside < extend ? tidy(lo / step) : undefined;
  }
  return undefined;
}

export async function runTune(opts: TuneOptions): Promise<{ entries: TuningEntry[]; trialsRun: number; interrupted: boolean }> {
  const multipliers = opts.multipliers ?? DEFAULT_MULTIPLIERS;
  if (multipliers.length < 1 || multipliers.some((m) => !(m > 0))) throw new UsageError('--grid takes positive multipliers, e.g. 0.5,1,2');
  const budgetFraction = opts.budgetFraction ?? DEFAULT_BUDGET_FRACTION;
  if (!(budgetFraction > 0 && budgetFraction <= 1)) throw new UsageError(`--budget-fraction must be in (0, 1], got ${budgetFraction}`);
  const seed = opts.seed ?? 0;
  const extend = opts.extend ?? DEFAULT_EXTEND;
  const emit = opts.onEvent ?? (() => {});
  const tasks = opts.tasks?.length ? opts.tasks.map(findTask) : [...TASKS];
  const archNames = opts.archs?.length ? opts.archs : baselineNames();
  const file = readTuningFile(opts.file, opts.tier);
  file.method = TUNING_METHOD;
  const touched: TuningEntry[] = [];
  let trialsRun = 0;
  const scratch = mkdtempSync(join(tmpdir(), 'mp-tune-'));
  try {
    for (const task of tasks) {
      const tier = { ...task.tiers[opts.tier], ...opts.settings };
      for (const name of archNames) {
        const arch = await loadArchitecture(name);
        const grid = mergeGrid(
          [],
          multipliers.map((m) => tidy(m * tier.learningRate)),
        );
        const fresh: TuningEntry = {
          task: task.spec.id,
          arch: arch.architecture.name,
          sourceHash: arch.sourceHash,
          baseLearningRate: tier.learningRate,
          grid,
          budgetFraction,
          seed,
          validationMetric: `${task.metric.name} on the validation split (carved from the training data)`,
          higherIsBetter: task.metric.higherIsBetter,
          trials: [],
          chosen: null,
        };
        let entry = file.entries.find((e) => e.task === fresh.task && e.arch === fresh.arch);
        const same =
          entry &&
          entry.sourceHash === fresh.sourceHash &&
          entry.budgetFraction === budgetFraction &&
          entry.seed === seed &&
          entry.baseLearningRate === fresh.baseLearningRate;
        if (entry && !same) {
          emit({
            type: 'stale',
            task: fresh.task,
            arch: fresh.arch,
            reason: 'the architecture source, budget fraction, seed or base rate changed',
          });
          file.entries = file.entries.filter((e) => e !== entry);
          entry = undefined;
        }
        if (!entry) {
          entry = fresh;
          file.entries.push(entry);
        }
        const current = entry;
        current.grid = mergeGrid(current.grid, grid);
        // The given grid, then one step further out while the best value sits on an edge
        // (at most `extend` steps a side): a choice on the grid's edge says the optimum may lie beyond it.
        const untried = () => current.grid.find((lr) => !current.trials.some((t) => t.learningRate === lr));
        const grow = () => {
          const beyond = beyondEdge(current, grid, extend);
          if (beyond !== undefined) current.grid = mergeGrid(current.grid, [beyond]);
          return beyond;
        };
        for (const t of current.trials)
          if (current.grid.includes(t.learningRate))
            emit({ type: 'skip', task: fresh.task, arch: fresh.arch, learningRate: t.learningRate });
        let next = untried() ?? grow();
        while (next !== undefined) {
          const learningRate = next;
          const result = await runSuite({
            tier: opts.tier,
            tasks: [task.spec.id],
            archs: [name],
            seedList: [seed],
            backend: opts.backend,
            outDir: scratch,
            force: true,
            split: 'validation',
            tuningFile: null,
            settings: { ...opts.settings, learningRate, budgetFlops: tier.budgetFlops * budgetFraction },
            signal: opts.signal,
            onEvent: (event) => emit({ type: 'suite', event }),
          });
          if (result.interrupted) return { entries: touched, trialsRun, interrupted: true };
          const record = result.records[0];
          if (!record) throw new Error(`tune: the trial of ${name} on ${task.spec.id} at ${learningRate} produced no record`);
          const t: Trial = {
            learningRate,
            status: record.status,
            quality: record.final?.quality ?? null,
            steps: record.training.steps,
            failure: record.failure?.message ?? null,
          };
          current.trials.push(t);
          trialsRun++;
          emit({ type: 'trial', task: fresh.task, arch: fresh.arch, trial: t });
          writeTuningFile(opts.file, file); // after every trial: an interrupted tune resumes here
          next = untried() ?? grow();
        }
        entry.chosen = choose(entry);
        writeTuningFile(opts.file, file);
        touched.push(entry);
        emit({ type: 'chosen', entry });
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { entries: touched, trialsRun, interrupted: false };
}

/** The grid value with the best completed validation quality (ties: the smaller rate); null if none completed. */
export function choose(entry: Pick<TuningEntry, 'grid' | 'trials' | 'higherIsBetter'>): number | null {
  let best: Trial | undefined;
  for (const lr of entry.grid) {
    const t = entry.trials.find((x) => x.learningRate === lr);
    if (t?.status !== 'completed' || t.quality === null || !Number.isFinite(t.quality)) continue;
    if (!best || (entry.higherIsBetter ? t.quality > (best.quality as number) : t.quality < (best.quality as number))) best = t;
  }
  return best ? best.learningRate : null;
}
