/**
 * `queue add`: plan a suite exactly as `run` would (same keys, same shards) and put each
 * run not yet recorded in the store on the queue. Idempotent: a run already queued (its job
 * id is its key's) or already recorded is not added again.
 */
import type PgBoss from 'pg-boss';
import type { Store } from '../store/types.ts';
import { jobOf, planSuite, type SuiteOptions } from '../suite.ts';
import { DEAD_LETTER, DEFAULT_RETRIES, expirySeconds, jobIdOf, QUEUE } from './boss.ts';

export interface EnqueueOptions extends Omit<SuiteOptions, 'backend' | 'outDir' | 'jobs' | 'onRecord' | 'onEvent' | 'signal'> {
  retries?: number;
  /** overrides the expiry from the tier's time limit (tests) */
  expireInSeconds?: number;
}

export interface EnqueueSummary {
  added: number;
  /** already on the queue (waiting, running, finished or failed) */
  queued: number;
  /** a settled record with the same key is in the store */
  recorded: number;
  loadErrors: Array<{ arch: string; message: string }>;
}

export async function enqueueSuite(boss: PgBoss, store: Store, o: EnqueueOptions): Promise<EnqueueSummary> {
  // Planned against the store, not a directory: the workers' records land there. force re-queues nothing that is on the queue.
  const { planned, loadErrors } = await planSuite({ ...o, backend: 'auto', outDir: '/nonexistent-middlepath-out', force: true });
  const recorded = o.force ? new Map<string, string>() : await store.settledKeys(planned.map((r) => r.key));
  const todo = planned.filter((r) => !recorded.has(r.key));
  const ids = todo.map((r) => jobIdOf(r.key));
  const existing = new Set<string>();
  for (const id of ids) if (await boss.getJobById(QUEUE, id)) existing.add(id);
  const inserts: PgBoss.JobInsert[] = todo
    .filter((r) => !existing.has(jobIdOf(r.key)))
    .map((r) => ({
      id: jobIdOf(r.key),
      name: QUEUE,
      data: jobOf(r, { ...o, backend: 'auto' }),
      singletonKey: r.key,
      deadLetter: DEAD_LETTER,
      retryLimit: o.retries ?? DEFAULT_RETRIES,
      expireInSeconds: o.expireInSeconds ?? expirySeconds({ ...r.task.tiers[o.tier], ...o.settings }.timeLimitSeconds),
    }));
  if (inserts.length) await boss.insert(inserts);
  return { added: inserts.length, queued: existing.size, recorded: recorded.size, loadErrors };
}
