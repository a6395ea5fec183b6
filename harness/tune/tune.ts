/**
 * Learning-rate tuning per architecture, AlgoPerf's external-tuning way: for each task and
 * architecture, train once per value of a small log-spaced grid around the tier's learning
 * rate (or around an earlier choice, `around`), at a fraction of the tier's budget, on one
 * seed or several, evaluated on a validation split carved from the training data; choose the
 * value with the best final validation quality (growing the grid outward while that value
 * sits on its edge). With several seeds a value is chosen only where its mean beats the
 * runner-up's by more than the pooled seed SD; otherwise the grid's centre is kept, since a
 * difference inside the seed noise would pick noise (the audit's point 8). Each
 * trial is written to the tuning file as it finishes, so an interrupted tune resumes where
 * it stopped (trials already recorded are skipped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendChoice } from '../backend.ts';
import { UsageError } from '../errors.ts';
import { definedKnobs, type RunKnobs } from '../knobs.ts';
import { baselineNames, loadArchitecture } from '../load-architecture.ts';
import type { TierName } from '../results/record.ts';
import {
  findTuningEntry,
  meanQuality,
  readTuningFile,
  type Trial,
  TUNING_METHOD,
  TUNING_METHOD_SEEDS,
  type TuningEntry,
  writeTuningFile,
} from '../results/tuning.ts';
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
  /** several seeds per grid value (two or more); replaces `seed` */
  seeds?: readonly number[];
  /** a tuning file whose chosen rate, per task and architecture, centres the grid (default: the tier's rate) */
  around?: string;
  /** knobs every trial runs with (a sweep's size, e.g. { width: 32 }): an entry of its own, never the suite's */
  knobs?: RunKnobs;
  /** trials of one grid value run at once, in child processes (default 1) */
  jobs?: number;
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
  /** where the grid is centred, when `around` could not say */
  | { type: 'centre'; task: string; arch: string; reason: string }
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
export function beyondEdge(entry: Choosable, given: readonly number[], extend: number): number | undefined {
  const { chosen, clear } = pick(entry);
  const grid = entry.grid;
  // A centre kept because nothing beat the noise is no evidence that the optimum lies beyond an edge.
  if (chosen === null || !clear || grid.length < 2 || given.length < 2) return undefined;
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
  const seeds = opts.seeds?.length ? [...opts.seeds] : [opts.seed ?? 0];
  if (seeds.some((x) => !Number.isInteger(x) || x < 0) || new Set(seeds).size !== seeds.length)
    throw new UsageError(`--seeds takes distinct non-negative integers, got ${seeds.join(',')}`);
  const seed = seeds[0] as number;
  const several = seeds.length > 1;
  const around = opts.around === undefined ? undefined : readTuningFile(opts.around, opts.tier);
  const knobs = definedKnobs(opts.knobs);
  const extend = opts.extend ?? DEFAULT_EXTEND;
  const emit = opts.onEvent ?? (() => {});
  const tasks = opts.tasks?.length ? opts.tasks.map(findTask) : [...TASKS];
  const archNames = opts.archs?.length ? opts.archs : baselineNames();
  const file = readTuningFile(opts.file, opts.tier);
  file.method = several ? TUNING_METHOD_SEEDS : TUNING_METHOD;
  const touched: TuningEntry[] = [];
  let trialsRun = 0;
  const scratch = mkdtempSync(join(tmpdir(), 'mp-tune-'));
  try {
    for (const task of tasks) {
      const tier = { ...task.tiers[opts.tier], ...opts.settings };
      for (const name of archNames) {
        const arch = await loadArchitecture(name);
        // a configuration's grid is centred on the standard one's choice
        const standard = around && findTuningEntry(around.entries, task.spec.id, arch.architecture.name, { sourceHash: arch.sourceHash });
        const earlier = standard?.chosen != null ? standard : undefined;
        if (around && !earlier)
          emit({
            type: 'centre',
            task: task.spec.id,
            arch: arch.architecture.name,
            reason: `${opts.around} has no choice for this source; the grid is centred on the tier's rate`,
          });
        const centre = earlier?.chosen ?? tier.learningRate;
        const grid = mergeGrid(
          [],
          multipliers.map((m) => tidy(m * centre)),
        );
        const fresh: TuningEntry = {
          task: task.spec.id,
          arch: arch.architecture.name,
          ...(knobs ? { knobs } : {}),
          sourceHash: arch.sourceHash,
          baseLearningRate: tier.learningRate,
          grid,
          budgetFraction,
          seed,
          ...(several ? { seeds } : {}),
          ...(around ? { centre } : {}),
          validationMetric: `${task.metric.name} on the validation split (carved from the training data)`,
          higherIsBetter: task.metric.higherIsBetter,
          trials: [],
          chosen: null,
        };
        let entry = findTuningEntry(file.entries, fresh.task, fresh.arch, { knobs });
        const same =
          entry &&
          entry.sourceHash === fresh.sourceHash &&
          entry.budgetFraction === budgetFraction &&
          entry.seed === seed &&
          (entry.seeds ?? [entry.seed]).join(',') === seeds.join(',') &&
          entry.centre === fresh.centre &&
          entry.baseLearningRate === fresh.baseLearningRate;
        if (entry && !same) {
          emit({
            type: 'stale',
            task: fresh.task,
            arch: fresh.arch,
            reason: 'the architecture source, budget fraction, seeds, centre or base rate changed',
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
        const seedOf = (t: Trial) => t.seed ?? current.seed;
        const missing = (lr: number) => seeds.filter((x) => !current.trials.some((t) => t.learningRate === lr && seedOf(t) === x));
        const untried = () => current.grid.find((lr) => missing(lr).length > 0);
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
          const seedList = missing(learningRate);
          const result = await runSuite({
            tier: opts.tier,
            tasks: [task.spec.id],
            archs: [name],
            seedList,
            ...(knobs ? { knobs } : {}),
            jobs: Math.min(opts.jobs ?? 1, seedList.length),
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
          for (const s of seedList) {
            const record = result.records.find((r) => r.task.seed === s);
            if (!record) throw new Error(`tune: the trial of ${name} on ${task.spec.id} at ${learningRate}, seed ${s}, produced no record`);
            const t: Trial = {
              learningRate,
              ...(several ? { seed: s } : {}),
              status: record.status,
              quality: record.final?.quality ?? null,
              steps: record.training.steps,
              failure: record.failure?.message ?? null,
            };
            current.trials.push(t);
            trialsRun++;
            emit({ type: 'trial', task: fresh.task, arch: fresh.arch, trial: t });
          }
          writeTuningFile(opts.file, file); // after every grid value: an interrupted tune resumes here
          next = untried() ?? grow();
        }
        const picked = pick(entry);
        entry.chosen = picked.chosen;
        if (several) entry.why = picked.why;
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

type Choosable = Pick<TuningEntry, 'grid' | 'trials' | 'higherIsBetter' | 'centre'>;

const fmt = (x: number) => Number(x.toPrecision(4)).toString();

/**
 * The choice and why. One trial per value: the best completed one (ties: the smaller rate).
 * Several: per value the mean over its seeds, a value counting only where every seed completed;
 * the best mean is taken only where it beats the runner-up by more than the pooled within-value
 * seed SD (`clear`), else the grid's centre (the earlier choice, or the best where the centre
 * did not complete). null when nothing completed.
 */
export function pick(entry: Choosable): { chosen: number | null; clear: boolean; why: string } {
  const rows = entry.grid.flatMap((lr) => {
    const trials = entry.trials.filter((t) => t.learningRate === lr);
    const mean = meanQuality(trials);
    return mean === null ? [] : [{ lr, mean, qualities: trials.map((t) => t.quality as number) }];
  });
  const better = (a: number, b: number) => (entry.higherIsBetter ? a > b : a < b);
  const ranked = [...rows].sort((a, b) => (better(a.mean, b.mean) ? -1 : better(b.mean, a.mean) ? 1 : a.lr - b.lr));
  const [best, runnerUp] = ranked;
  if (!best) return { chosen: null, clear: false, why: 'no grid value completed on every seed' };
  const replicated = rows.some((r) => r.qualities.length > 1);
  if (!replicated || !runnerUp)
    return {
      chosen: best.lr,
      clear: true,
      why: runnerUp ? 'best validation quality (one seed per value)' : 'the only value that completed',
    };
  // pooled within-value SD: each value's spread over its seeds, weighted by its degrees of freedom
  let ss = 0;
  let df = 0;
  for (const r of rows) {
    const m = r.mean;
    for (const q of r.qualities) ss += (q - m) ** 2;
    df += r.qualities.length - 1;
  }
  const sd = df > 0 ? Math.sqrt(ss / df) : 0;
  const gap = Math.abs(best.mean - runnerUp.mean);
  const figures = `mean ${fmt(best.mean)} at ${best.lr} against ${fmt(runnerUp.mean)} at ${runnerUp.lr}: a gap of ${fmt(gap)}, seed SD ${fmt(sd)}`;
  if (gap > sd) return { chosen: best.lr, clear: true, why: `best beats the runner-up by more than the seed SD (${figures})` };
  const centre = entry.centre === undefined ? undefined : rows.find((r) => r.lr === entry.centre);
  if (centre)
    return {
      chosen: centre.lr,
      clear: false,
      why: `no value beats the runner-up by more than the seed SD (${figures}); the grid's centre, the earlier choice, is kept`,
    };
  return {
    chosen: best.lr,
    clear: false,
    why: `no value beats the runner-up by more than the seed SD (${figures}); the best is taken because the grid has no completed centre`,
  };
}

/** The grid value chosen (see pick); null if none completed. */
export function choose(entry: Choosable): number | null {
  return pick(entry).chosen;
}
