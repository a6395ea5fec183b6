/**
 * The job queue: pg-boss on the store's PostgreSQL. One queue of runs, one dead-letter
 * queue for the jobs that failed every attempt. A job's id is derived from its run key, so
 * enqueuing the same run twice adds nothing (pg-boss inserts ON CONFLICT DO NOTHING).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { UsageError } from '../errors.ts';
import { DEAD_LETTER, QUEUE, queueSchema } from './names.ts';

export { DEAD_LETTER, QUEUE, queueSchema };

/** attempts after the first before a job goes to the dead-letter queue */
export const DEFAULT_RETRIES = 2;

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new UsageError(
      'the queue lives in PostgreSQL: set DATABASE_URL=postgres://user@host/db (the same database as the store) — or run on one machine with `middlepath run --jobs N`',
    );
  }
  return url;
}

/** The job id of a run key: a UUID made from SHA-256 of the key (version nibble 8, RFC 4122 variant). */
export function jobIdOf(key: string): string {
  const h = createHash('sha256').update(`middlepath-run:${key}`).digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * How long a job may stay active before pg-boss hands it to another worker: the tier's
 * training time limit, plus evaluation and set-up (generous: a slow run must not be
 * taken from a live worker).
 */
export function expirySeconds(timeLimitSeconds: number): number {
  return Math.ceil(timeLimitSeconds * 1.5 + 300);
}

export interface BossOptions {
  /** how often expired jobs are sent back to the queue (pg-boss maintenance), seconds */
  maintenanceSeconds?: number;
  /** workers supervise (expire, archive); `queue add` and `queue status` do not */
  supervise?: boolean;
}

/** A started pg-boss with both queues created; errors (a lost connection) are reported, not thrown. */
export async function openBoss(url: string, o: BossOptions = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: queueSchema(),
    supervise: o.supervise ?? false,
    schedule: false,
    maintenanceIntervalSeconds: o.maintenanceSeconds ?? 30,
    // a finished job stays visible in `queue status` and on the site for a week
    archiveCompletedAfterSeconds: 7 * 24 * 3600,
    archiveFailedAfterSeconds: 30 * 24 * 3600,
    max: 4,
  });
  let lastError = '';
  boss.on('error', (e: Error) => {
    // pg-boss retries on its own; say so once per distinct problem, not once per poll
    if (e.message !== lastError) process.stderr.write(`queue: ${e.message} (retrying)\n`);
    lastError = e.message;
  });
  await boss.start();
  if (!(await boss.getQueue(DEAD_LETTER))) await boss.createQueue(DEAD_LETTER, { name: DEAD_LETTER, policy: 'standard' });
  if (!(await boss.getQueue(QUEUE))) {
    await boss.createQueue(QUEUE, { name: QUEUE, policy: 'standard', deadLetter: DEAD_LETTER, retryLimit: DEFAULT_RETRIES });
  }
  return boss;
}

/** A plain pool on the queue's database, for what pg-boss does not keep (progress, locks). */
export function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => {}); // an idle connection dropped by a server restart is replaced on next use
  return pool;
}

/** Where workers say what they are doing: one row per active job, gone when it ends. */
export async function ensureProgressTable(pool: pg.Pool): Promise<string> {
  const table = `${pg.escapeIdentifier(queueSchema())}.run_progress`;
  await pool.query(
    `create table if not exists ${table} (
      job_id uuid primary key, host text not null, pid integer not null, step integer not null default 0,
      fraction double precision not null default 0, seconds double precision not null default 0,
      started_at timestamptz not null default now(), updated_at timestamptz not null default now())`,
  );
  return table;
}
