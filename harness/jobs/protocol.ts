/**
 * Messages between a run's parent (`run --jobs`, or a queue worker) and its child process.
 * The parent sends one job; the child answers with its backend, progress, then the sealed
 * record (or `interrupted` after an abort) and exits.
 */
import type { ActiveBackend, BackendChoice } from '../backend.ts';
import type { Progress } from '../train.ts';
import type { RunJob } from './job.ts';

export type ToChild =
  | { type: 'run'; job: RunJob; backend: BackendChoice; idleSeconds?: number }
  /** stop after the current step and write nothing */
  | { type: 'abort' };

export type FromChild =
  | { type: 'backend'; backend: ActiveBackend; hardwareClass: string }
  | { type: 'progress'; progress: Progress }
  /** the sealed record, validated again by the parent */
  | { type: 'record'; record: unknown }
  | { type: 'interrupted' }
  /** the job cannot be run here (unknown task, module missing or changed since it was planned) */
  | { type: 'refused-job'; message: string };
