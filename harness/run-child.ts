/**
 * A child process that makes one run: `node bin/run-ts.js harness/run-child.ts`, forked
 * with an IPC channel. It trains in its own process (the wasm backend is single-threaded
 * and one tfjs engine per process; a crash or a leak ends with the process) and hands the
 * sealed record to its parent, which alone writes it. Signals from the terminal or a
 * service manager are the parent's to act on: the child stops when told, or when its
 * parent is gone.
 */

import { loadConfined } from './confined/describe.ts';
import { ArchitectureError, UsageError } from './errors.ts';
import { jobSettings } from './jobs/job.ts';
import type { FromChild, ToChild } from './jobs/protocol.ts';
import { isBaselineName, loadArchitecture } from './load-architecture.ts';
import { executeRun } from './suite.ts';
import { findTask } from './tasks/index.ts';
import { Interrupted } from './train.ts';

const send = (m: FromChild) => new Promise<void>((done) => process.send?.(m, () => done()));
const controller = new AbortController();

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});
process.on('disconnect', () => process.exit(1)); // the parent died: nothing of this run is wanted

async function run(m: Extract<ToChild, { type: 'run' }>): Promise<void> {
  const { job } = m;
  let arch: Awaited<ReturnType<typeof loadArchitecture>>;
  let task: ReturnType<typeof findTask>;
  try {
    task = findTask(job.task);
    // a module that runs confined is imported only in its confined child; a baseline is the harness's own code
    arch = await (job.confine && !isBaselineName(job.arch) ? loadConfined(job.arch) : loadArchitecture(job.arch));
  } catch (e) {
    if (e instanceof UsageError || e instanceof ArchitectureError) return send({ type: 'refused-job', message: e.message });
    throw e;
  }
  const { runKey } = await import('./run-key.ts');
  const key = runKey({
    task: job.task,
    tier: job.tier,
    seed: job.seed,
    variantSeed: job.variantSeed,
    sourceHash: arch.sourceHash,
    tuning: job.tuning,
    knobs: job.knobs,
  });
  if (key !== job.key) {
    return send({
      type: 'refused-job',
      message: `${job.arch} is not the module this job was planned with (run key ${key}, job ${job.key}): its source or the harness version changed; plan the suite again`,
    });
  }
  try {
    const run = {
      task,
      tier: job.tier,
      arch,
      archSpec: job.arch,
      seed: job.seed,
      key,
      ...(job.tuning ? { tuning: job.tuning } : {}),
      ...(job.knobs ? { knobs: job.knobs } : {}),
    };
    const record = await executeRun(run, job.tier, job.variantSeed, {
      backend: m.backend,
      settings: jobSettings(job),
      ...(job.split ? { split: job.split } : {}),
      ...(job.confine ? { confine: true, blasThreads: Number(process.env.MIDDLEPATH_BLAS_THREADS) || undefined } : {}),
      idleSeconds: m.idleSeconds,
      signal: controller.signal,
      onBackend: (backend, hardwareClass) => void send({ type: 'backend', backend, hardwareClass }),
      onProgress: (progress) => void send({ type: 'progress', progress }),
    });
    await send({ type: 'record', record });
  } catch (e) {
    if (e instanceof Interrupted) return send({ type: 'interrupted' });
    throw e;
  }
}

process.on('message', (m: ToChild) => {
  if (m.type === 'abort') controller.abort();
  else
    void run(m).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
});
