/**
 * Runs in child processes, one run per process: `runInChild` for one job (a queue worker
 * calls it per job), `runInChildren` for a list, N at a time (`run --jobs N`). The parent
 * validates the child's record; writing it is the caller's business.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ActiveBackend, BackendChoice } from '../backend.ts';
import { type RunRecord, runRecord } from '../results/record.ts';
import type { Progress } from '../train.ts';
import { blasThreadsPerProcess, type RunJob } from './job.ts';
import type { FromChild, ToChild } from './protocol.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
// the child's entry sits beside the suite it runs (harness/run-child.ts), so this folder never imports the suite
const CHILD = fileURLToPath(new URL('../run-child.ts', import.meta.url));
/** what is kept of a child's stderr, to say why it ended without a record */
const STDERR_TAIL = 4000;

export type ChildOutcome =
  | { kind: 'record'; record: RunRecord }
  | { kind: 'interrupted' }
  /** the job cannot run here (module missing or changed): no use retrying it on this machine */
  | { kind: 'refused-job'; message: string }
  /** the process ended without a record: killed, out of memory, a harness crash */
  | { kind: 'crashed'; message: string };

export interface ChildOptions {
  backend: BackendChoice;
  /** processes running at once on this machine: each gets its share of the cores for BLAS */
  processes: number;
  idleSeconds?: number;
  signal?: AbortSignal;
  onBackend?: (backend: ActiveBackend, hardwareClass: string) => void;
  onProgress?: (progress: Progress) => void;
}

export function runInChild(job: RunJob, opts: ChildOptions): Promise<ChildOutcome> {
  const child = fork(RUN_TS, [CHILD], {
    env: { ...process.env, MIDDLEPATH_BLAS_THREADS: String(blasThreadsPerProcess(opts.processes)) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
  });
  let outcome: ChildOutcome | undefined;
  const abort = () => {
    if (child.connected) child.send({ type: 'abort' } satisfies ToChild);
  };
  opts.signal?.addEventListener('abort', abort, { once: true });
  child.on('message', (m: FromChild) => {
    if (m.type === 'backend') opts.onBackend?.(m.backend, m.hardwareClass);
    else if (m.type === 'progress') opts.onProgress?.(m.progress);
    else if (m.type === 'interrupted') outcome = { kind: 'interrupted' };
    else if (m.type === 'refused-job') outcome = { kind: 'refused-job', message: m.message };
    else if (m.type === 'record') {
      const parsed = runRecord.safeParse(m.record);
      outcome = parsed.success
        ? { kind: 'record', record: parsed.data }
        : { kind: 'crashed', message: `the run's process sent a malformed record: ${parsed.error.issues[0]?.message}` };
    }
  });
  child.send({ type: 'run', job, backend: opts.backend, idleSeconds: opts.idleSeconds } satisfies ToChild);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      opts.signal?.removeEventListener('abort', abort);
      resolve(
        outcome ?? {
          kind: 'crashed',
          message: `the run's process ended without a record (${signal ? `signal ${signal}` : `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-8).join('\n')}` : ''}`,
        },
      );
    });
  });
}

export interface ChildrenOptions<T> extends Omit<ChildOptions, 'processes' | 'onProgress'> {
  concurrency: number;
  onStart?: (item: T, index: number) => void;
  onProgress?: (item: T, progress: Progress) => void;
  /** awaited before the slot takes its next job */
  onRecord: (item: T, record: RunRecord) => Promise<void> | void;
  onCrash?: (item: T, message: string) => void;
}

/** Run every item's job, `concurrency` child processes at a time, in order of the list. */
export async function runInChildren<T extends { job: RunJob }>(
  items: readonly T[],
  opts: ChildrenOptions<T>,
): Promise<{ interrupted: boolean; crashed: number }> {
  let next = 0;
  let interrupted = false;
  let crashed = 0;
  const processes = Math.min(opts.concurrency, items.length);
  const slot = async () => {
    while (next < items.length && !opts.signal?.aborted) {
      const index = next++;
      const item = items[index] as T;
      opts.onStart?.(item, index);
      const outcome = await runInChild(item.job, { ...opts, processes, onProgress: (p) => opts.onProgress?.(item, p) });
      if (outcome.kind === 'record') await opts.onRecord(item, outcome.record);
      else if (outcome.kind === 'interrupted') interrupted = true;
      else {
        crashed++;
        opts.onCrash?.(item, outcome.message);
      }
    }
  };
  await Promise.all(Array.from({ length: processes }, slot));
  return { interrupted: interrupted || Boolean(opts.signal?.aborted), crashed };
}
