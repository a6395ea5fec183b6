/**
 * `middlepath worker`: drain the queue on this machine, N runs at a time, each in its own
 * child process (the same code as `run --jobs N`). A run is recorded in the store and as a
 * file (commit.ts); a run that ended without a record (the child was killed, ran out of
 * memory) fails its job, which pg-boss retries up to the limit and then moves to the
 * dead-letter queue with the reason. A worker killed outright leaves its job active until
 * it expires; another worker then takes it.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import type { BackendChoice } from '../backend-names.ts';
import { jobLabel, runJob } from '../jobs/job.ts';
import { runInChild } from '../jobs/pool.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { ensureProgressTable, openBoss, openPool, QUEUE } from './boss.ts';
import { commitRecord, reconcileFile } from './commit.ts';

export interface WorkerOptions {
  url: string;
  concurrency: number;
  outDir: string;
  backend: BackendChoice;
  /** how often this worker looks for expired jobs, seconds */
  maintenanceSeconds?: number;
  /** how often an idle worker asks for a job, seconds (default 0.5, pg-boss's least: one indexed query per slot) */
  pollSeconds?: number;
  log?: (line: string) => void;
}

export interface Worker {
  /**
   * Stop taking jobs; let the runs in progress finish for up to `graceSeconds`, then
   * release them (their children stop, nothing partial is written, the jobs are retried).
   */
  stop(graceSeconds: number): Promise<void>;
  /** release now: what a second SIGTERM does */
  release(): void;
}

/** The job's outcome as pg-boss keeps it (the output of a completed job). */
type Output = { recorded: string; status: string } | { duplicate: string; existing: string } | { skipped: string };

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store: Store = await openStore({ url: o.url });
  const pool: pg.Pool = openPool(o.url);
  const boss: PgBoss = await openBoss(o.url, { supervise: true, maintenanceSeconds: o.maintenanceSeconds });
  const progressTable = await ensureProgressTable(pool); // in pg-boss's schema, which openBoss creates
  const release = new AbortController();
  const host = hostname();

  const setProgress = (jobId: string, p: { step: number; fraction: number; seconds: number } | null) =>
    (p
      ? pool.query(
          `insert into ${progressTable} (job_id, host, pid, step, fraction, seconds) values ($1, $2, $3, $4, $5, $6)
           on conflict (job_id) do update set host = $2, pid = $3, step = $4, fraction = $5, seconds = $6, updated_at = now()`,
          [jobId, host, process.pid, p.step, p.fraction, p.seconds],
        )
      : pool.query(`delete from ${progressTable} where job_id = $1`, [jobId])
    ).catch(() => {}); // progress is for people watching; a lost update is not a lost run

  /** Retry a store operation through a database restart: the run is already paid for. */
  const persist = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        if (attempt >= 30 || release.signal.aborted) throw e;
        log(`${what}: ${(e as Error).message}; retrying in 2 s`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  const handle = async (job: PgBoss.JobWithMetadata<unknown>): Promise<Output> => {
    const parsed = runJob.safeParse(job.data);
    if (!parsed.success) throw new Error(`not a middlepath run job: ${parsed.error.issues[0]?.message}`);
    const run = parsed.data;
    const settled = (await persist('store', () => store.settledKeys([run.key]))).get(run.key);
    if (settled) {
      // A retry whose run is already recorded: a worker died after the row, before the file.
      if (job.retryCount > 0) await persist('store', () => reconcileFile(store, settled, o.outDir));
      log(`skip ${jobLabel(run)}: recorded as ${settled}`);
      return { skipped: settled };
    }
    log(`start ${jobLabel(run)} (job ${job.id}${job.retryCount ? `, attempt ${job.retryCount + 1}` : ''})`);
    await setProgress(job.id, { step: 0, fraction: 0, seconds: 0 });
    let lastWrite = 0;
    // pg-boss gives up on a handler when its job expires and hands the job to the next
    // worker: stop the run then too, or two runs of one job would go on at once.
    const expired = new AbortController();
    const expiry = setTimeout(() => expired.abort(), Math.max(1, job.expireInSeconds - 1) * 1000);
    try {
      const outcome = await runInChild(run, {
        backend: o.backend,
        processes: o.concurrency,
        signal: AbortSignal.any([release.signal, expired.signal]),
        onProgress: (p) => {
          if (Date.now() - lastWrite < 2000) return;
          lastWrite = Date.now();
          void setProgress(job.id, { step: p.step, fraction: Math.min(1, p.flops / p.budgetFlops), seconds: p.seconds });
        },
      });
      if (outcome.kind === 'interrupted') {
        throw new Error(
          expired.signal.aborted
            ? `expired: the run took longer than the job's ${job.expireInSeconds} s on ${host}`
            : `released: the worker on ${host} stopped before the run finished`,
        );
      }
      if (outcome.kind !== 'record') throw new Error(`${outcome.message} (worker ${host})`);
      const record = outcome.record;
      const commit = await persist('recording', () => commitRecord(record, { pool, store, outDir: o.outDir }));
      if (commit.kind === 'duplicate') {
        log(`drop ${jobLabel(run)}: another worker recorded it first (${commit.existing})`);
        return { duplicate: commit.id, existing: commit.existing };
      }
      log(`done ${jobLabel(run)}: ${record.status}; ${commit.path}`);
      return { recorded: record.id, status: record.status };
    } finally {
      clearTimeout(expiry);
      await setProgress(job.id, null);
    }
  };

  // One pg-boss worker per slot, each taking one job at a time.
  for (let i = 0; i < o.concurrency; i++) {
    await boss.work<unknown>(QUEUE, { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: o.pollSeconds ?? 0.5 }, async ([job]) =>
      job ? handle(job) : undefined,
    );
  }
  log(`worker on ${host}: ${o.concurrency} run(s) at a time from queue '${QUEUE}'; records to ${o.outDir}/runs and the store`);

  return {
    release: () => release.abort(),
    async stop(graceSeconds) {
      const timer = setTimeout(() => release.abort(), graceSeconds * 1000);
      try {
        // graceful: no new jobs; waits for those in progress, then fails any left (pg-boss retries them)
        await boss.stop({ graceful: true, wait: true, timeout: graceSeconds * 1000 + 5000 });
      } finally {
        clearTimeout(timer);
        await pool.end().catch(() => {});
        await store.close().catch(() => {});
      }
    },
  };
}
