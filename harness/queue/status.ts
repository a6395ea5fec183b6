/**
 * What the queue holds: pending / running / finished / failed per task × architecture, the
 * running jobs with their worker host and progress, and the failed ones with the reason.
 * Read with plain SQL from pg-boss's job table and the workers' progress table; free of
 * tfjs, so the site can show it too.
 */
import pg from 'pg';
import { QUEUE, queueSchema } from './names.ts';

export interface QueueJob {
  id: string;
  task: string;
  arch: string;
  tier: string;
  seed: number;
  state: 'pending' | 'running' | 'finished' | 'failed';
  attempts: number;
  createdOn: string;
  startedOn: string | null;
  /** running: the worker's host and how far the run is (fraction of its FLOP budget) */
  host: string | null;
  fraction: number | null;
  step: number | null;
  /** finished: the record's status (completed, refused, failed…) or that it was already recorded; failed: why */
  outcome: string | null;
}

export interface QueueCounts {
  pending: number;
  running: number;
  finished: number;
  failed: number;
}

export interface QueueStatus {
  totals: QueueCounts;
  /** per task × architecture */
  groups: Array<{ task: string; arch: string } & QueueCounts>;
  jobs: QueueJob[];
}

const STATE: Record<string, QueueJob['state']> = {
  created: 'pending',
  retry: 'pending',
  active: 'running',
  completed: 'finished',
  failed: 'failed',
  cancelled: 'failed',
};

function outcomeOf(state: QueueJob['state'], output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as Record<string, unknown>;
  if (state === 'finished') {
    if (typeof o.status === 'string') return o.status;
    if (typeof o.skipped === 'string') return `already recorded (${o.skipped})`;
    if (typeof o.duplicate === 'string') return `recorded by another worker (${String(o.existing)})`;
  }
  if (state === 'failed' || state === 'pending') {
    const value = (o.value ?? o) as Record<string, unknown>;
    if (typeof value.message === 'string') return value.message;
  }
  return null;
}

/** The run queue's jobs (not their dead-letter copies: the original job carries the failure too). */
export async function queueStatus(pool: pg.Pool): Promise<QueueStatus> {
  const schema = pg.escapeIdentifier(queueSchema());
  const exists = await pool.query<{ t: string | null }>('select to_regclass($1)::text as t', [`${queueSchema()}.job`]);
  if (!exists.rows[0]?.t) return { totals: { pending: 0, running: 0, finished: 0, failed: 0 }, groups: [], jobs: [] };
  const progress = await pool.query<{ t: string | null }>('select to_regclass($1)::text as t', [`${queueSchema()}.run_progress`]);
  const join = progress.rows[0]?.t ? `left join ${schema}.run_progress p on p.job_id = j.id` : '';
  const cols = progress.rows[0]?.t ? 'p.host, p.fraction, p.step' : 'null as host, null as fraction, null as step';
  const { rows } = await pool.query<{
    id: string;
    data: Record<string, unknown>;
    state: string;
    retry_count: number;
    created_on: Date;
    started_on: Date | null;
    output: unknown;
    host: string | null;
    fraction: number | null;
    step: number | null;
  }>(
    `select j.id, j.data, j.state, j.retry_count, j.created_on, j.started_on, j.output, ${cols}
     from ${schema}.job j ${join} where j.name = $1 order by j.created_on, j.id`,
    [QUEUE],
  );
  const jobs: QueueJob[] = rows.map((r) => {
    const state = STATE[r.state] ?? 'pending';
    return {
      id: r.id,
      task: String(r.data.task),
      arch: String(r.data.arch),
      tier: String(r.data.tier),
      seed: Number(r.data.seed),
      state,
      attempts: r.retry_count + (r.started_on ? 1 : 0),
      createdOn: r.created_on.toISOString(),
      startedOn: r.started_on?.toISOString() ?? null,
      host: state === 'running' ? r.host : null,
      fraction: state === 'running' ? r.fraction : null,
      step: state === 'running' ? r.step : null,
      outcome: outcomeOf(state, r.output),
    };
  });
  const zero = (): QueueCounts => ({ pending: 0, running: 0, finished: 0, failed: 0 });
  const totals = zero();
  const groups = new Map<string, { task: string; arch: string } & QueueCounts>();
  for (const j of jobs) {
    totals[j.state]++;
    const k = `${j.task}\u0000${j.arch}`;
    const g = groups.get(k) ?? { task: j.task, arch: j.arch, ...zero() };
    g[j.state]++;
    groups.set(k, g);
  }
  return { totals, groups: [...groups.values()], jobs };
}
