/**
 * The tuning file, results/tuning/<tier>.json: per task and architecture, the learning-rate
 * grid, every trial's validation result and the chosen value. `middlepath tune` writes it
 * (after every trial, so it resumes); the suite reads it and trains at the chosen value.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { definedKnobs, type RunKnobs, runKnobs } from '../knobs.ts';
import { tuningTierOf } from '../tasks/ladder.ts';
import { writeFileAtomic } from './files.ts';
import { loadProtocol } from './protocol.ts';
import { runStatus, type TierName, type TuningRecord, tierName } from './record.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the committed tuning of a tier lives: the file the protocol in force names for its
 * tier (a protocol version fixes its tuning with its other rules), else results/tuning/<tier>.json.
 */
export function defaultTuningFile(tier: TierName): string {
  const p = loadProtocol();
  if (p.tier === tier) return resolve(REPO_ROOT, p.tuning.source);
  return resolve(REPO_ROOT, 'results', 'tuning', `${tier}.json`);
}

export const trial = z.object({
  learningRate: z.number().positive(),
  /** the seed this trial ran; absent in one-seed entries (the entry's seed) */
  seed: z.number().int().nonnegative().optional(),
  status: runStatus,
  /** final quality on the validation split; null when the trial did not complete */
  quality: z.number().nullable(),
  steps: z.number().int().nonnegative(),
  /** why a trial did not complete */
  failure: z.string().nullable(),
});
export type Trial = z.infer<typeof trial>;

export const tuningEntry = z.object({
  task: z.string(),
  arch: z.string(),
  /**
   * The knobs every trial ran with (a sweep's size, e.g. { width: 32 }): the rate for that
   * configuration only. Absent: the standard configuration, the one the suite reads.
   */
  knobs: runKnobs.optional(),
  /** the architecture's source the trials ran; a changed source needs new trials */
  sourceHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** the tier's learning rate, the grid's centre */
  baseLearningRate: z.number().positive(),
  grid: z.array(z.number().positive()).min(1),
  budgetFraction: z.number().positive().max(1),
  /** the first (or only) seed */
  seed: z.number().int().nonnegative(),
  /** every seed each grid value trains on, when more than one: the choice then reads means against the seed SD */
  seeds: z.array(z.number().int().nonnegative()).min(2).optional(),
  /** the value the grid is centred on (the earlier choice it re-tunes), taken when no value beats its runner-up by more than the seed SD */
  centre: z.number().positive().optional(),
  validationMetric: z.string(),
  higherIsBetter: z.boolean(),
  trials: z.array(trial),
  /** how the chosen value was picked, in words with its figures (multi-seed entries) */
  why: z.string().optional(),
  /** the grid value with the best validation quality once every trial has run; null until then or if none completed */
  chosen: z.number().positive().nullable(),
  /**
   * Later sources of the architecture the choice applies to without new trials, each with
   * why its training is the one tuned (e.g. a knob added whose default builds the same
   * network). A run on one says so in its record (tuning.carriedFrom).
   */
  carriedTo: z.array(z.object({ sourceHash: z.string().regex(/^[0-9a-f]{64}$/), why: z.string().min(20) })).optional(),
});
export type TuningEntry = z.infer<typeof tuningEntry>;

export const tuningFile = z.object({
  tier: tierName,
  method: z.string(),
  entries: z.array(tuningEntry),
});
export type TuningFile = z.infer<typeof tuningFile>;

export const TUNING_METHOD_SEEDS =
  'AlgoPerf-style external tuning with seed replication: each grid value trained on several seeds at a fraction of the tier budget, scored on a validation split carved from the training data (never the test split); the value with the best mean is chosen only where it beats the runner-up by more than the pooled seed SD, otherwise the grid centre (the earlier choice) is kept';

export const TUNING_METHOD =
  'AlgoPerf-style external tuning: each grid value trained once (one seed) at a fraction of the tier budget, scored on a validation split carved from the training data (never the test split); the best final validation quality is chosen';

export function readTuningFile(path: string, tier: TierName): TuningFile {
  if (!existsSync(path)) return { tier, method: TUNING_METHOD, entries: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path} is not JSON (${(e as Error).message}); fix or remove it`);
  }
  const result = tuningFile.safeParse(parsed);
  if (!result.success)
    throw new UsageError(`${path} is not a tuning file: ${result.error.issues[0]?.message ?? 'invalid'}; fix or remove it`);
  if (result.data.tier !== tier) throw new UsageError(`${path} holds the ${result.data.tier} tier's tuning, not ${tier}'s`);
  return result.data;
}

export function writeTuningFile(path: string, file: TuningFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * The entry of (task, architecture) tuned with exactly these knobs (none: the standard
 * configuration, the one the suite reads) and, where a source is given, on that source or
 * carried to it. One lookup for the suite, the tuner, the sweeps and the protocol's freeze, so
 * that a sweep width's entry never stands in for the standard one.
 */
export function findTuningEntry(
  entries: readonly TuningEntry[],
  task: string,
  arch: string,
  { knobs, sourceHash }: { knobs?: RunKnobs; sourceHash?: string } = {},
): TuningEntry | undefined {
  const wanted = JSON.stringify(definedKnobs(knobs) ?? {});
  return entries.find(
    (e) =>
      e.task === task &&
      e.arch === arch &&
      JSON.stringify(definedKnobs(e.knobs) ?? {}) === wanted &&
      (sourceHash === undefined || e.sourceHash === sourceHash || (e.carriedTo ?? []).some((c) => c.sourceHash === sourceHash)),
  );
}

/** The mean validation quality of one grid value's trials; null unless every one completed with a finite quality. */
export function meanQuality(trials: readonly Trial[]): number | null {
  if (trials.length === 0) return null;
  let sum = 0;
  for (const t of trials) {
    if (t.status !== 'completed' || t.quality === null || !Number.isFinite(t.quality)) return null;
    sum += t.quality;
  }
  return sum / trials.length;
}

/** The record form of a finished entry: what a run trained with. */
export function tuningRecordOf(entry: TuningEntry, source: string, runSourceHash = entry.sourceHash): TuningRecord | undefined {
  if (entry.chosen === null) return undefined;
  const carried = runSourceHash === entry.sourceHash ? undefined : entry.carriedTo?.find((c) => c.sourceHash === runSourceHash);
  return {
    ...(carried ? { carriedFrom: { sourceHash: entry.sourceHash, why: carried.why } } : {}),
    source,
    grid: entry.grid,
    chosen: entry.chosen,
    validationMetric: entry.validationMetric,
    higherIsBetter: entry.higherIsBetter,
    validationQualities: entry.grid.map((lr) => meanQuality(entry.trials.filter((t) => t.learningRate === lr))),
    budgetFraction: entry.budgetFraction,
    seed: entry.seed,
    ...(entry.seeds ? { seeds: entry.seeds } : {}),
    ...(entry.why ? { why: entry.why } : {}),
  };
}

/**
 * The suite's view of a tuning file: (task, architecture) → the tuning to train with, or
 * undefined where none was chosen or the architecture's source changed since (a stale
 * choice is not applied, unless the entry lists the new source in carriedTo, with why). `file` null: no tuning; undefined: the tier's committed file
 * (a ladder rung's is the cpu tier's).
 */
export function tuningLookup(
  tier: TierName,
  file: string | null | undefined,
): (task: string, arch: { architecture: { name: string }; sourceHash: string }) => TuningRecord | undefined {
  if (file === null) return () => undefined;
  const tuned = tuningTierOf(tier);
  const path = file ?? defaultTuningFile(tuned);
  const { entries } = readTuningFile(path, tuned);
  const source = relative(REPO_ROOT, path).startsWith('..') ? path : relative(REPO_ROOT, path);
  return (task, arch) => {
    const entry = findTuningEntry(entries, task, arch.architecture.name, { sourceHash: arch.sourceHash });
    return entry ? tuningRecordOf(entry, source, arch.sourceHash) : undefined;
  };
}
