/**
 * A job: one run of the suite, described in plain data so that it can cross a process
 * boundary (a child process, or a PostgreSQL queue to another machine). Free of tfjs.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { runKnobs } from '../knobs.ts';
import { tierName, tuningRecord } from '../results/record.ts';
import type { TierSettings } from '../tasks/types.ts';

export const runJob = z.object({
  task: z.string(),
  tier: tierName,
  seed: z.number().int().nonnegative(),
  variantSeed: z.number().int().nullable(),
  /** a baseline name or a module path as the user gave it (resolved against the worker's cwd) */
  arch: z.string(),
  /** the run key computed when the job was planned; a module that changed since gives another key and is refused */
  key: z.string().regex(/^[0-9a-f]{16}$/),
  /** overrides of the tier's settings (tests use tiny budgets); absent in real suites */
  settings: z.record(z.string(), z.unknown()).optional(),
  /** the learning-rate tuning the run applies (part of its key) */
  tuning: tuningRecord.optional(),
  /** the sweep knobs the run sets (part of its key) */
  knobs: runKnobs.optional(),
  /** the validation split for tuning trials; absent: the test split */
  split: z.enum(['test', 'validation']).optional(),
  /** run the architecture in a confined child process (harness/confined) */
  confine: z.boolean().optional(),
});
export type RunJob = z.infer<typeof runJob>;

/** The settings overrides of a job, typed back (they were written from a Partial<TierSettings>). */
export function jobSettings(job: RunJob): Partial<TierSettings> | undefined {
  return job.settings as Partial<TierSettings> | undefined;
}

/** A short human label: `task · arch · seed n`. */
export function jobLabel(job: Pick<RunJob, 'task' | 'arch' | 'seed'>): string {
  return `${job.task} · ${job.arch} · seed ${job.seed}`;
}

/**
 * BLAS threads for each of `processes` run processes on this machine: the cores shared out
 * (read by the wasm backend's native BLAS as MIDDLEPATH_BLAS_THREADS).
 */
export function blasThreadsPerProcess(processes: number): number {
  return Math.max(1, Math.floor(availableParallelism() / processes));
}
