/**
 * /queue: the run queue as it stands (live builds only: a static export has no queue) —
 * pending, running (with the worker's host and how far the run is), finished (with the
 * record's status) and failed (with the reason), per task × architecture and per job.
 * Read with plain SQL from the queue's tables in the store's PostgreSQL.
 */
import type { Metadata } from 'next';
import pg from 'pg';
import { type QueueJob, type QueueStatus, queueStatus } from '../../../harness/queue/status.ts';
import { date, percent } from '../../lib/format.ts';
import { storeLocation } from '../../lib/store.ts';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'queue' };

// One small read-only pool per server process, as the store keeps.
const KEY = Symbol.for('middlepath.site.queue');
type Holder = { [KEY]?: pg.Pool };

type Reading = { ok: true; status: QueueStatus } | { ok: false; reason: string };

async function readQueue(): Promise<Reading> {
  const loc = storeLocation();
  if (!loc.url) {
    return {
      ok: false,
      reason: `the queue lives in PostgreSQL and this site reads SQLite (${loc.where}); serve it with DATABASE_URL set to the queue's database`,
    };
  }
  const holder = globalThis as Holder;
  if (!holder[KEY]) {
    const u = new URL(loc.url);
    u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c default_transaction_read_only=on`.trim());
    const pool = new pg.Pool({ connectionString: u.toString(), max: 2 });
    pool.on('error', () => {});
    holder[KEY] = pool;
  }
  try {
    return { ok: true, status: await queueStatus(holder[KEY] as pg.Pool) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

const STATE_COLOR: Record<QueueJob['state'], string> = { pending: '#9498a0', running: '#4269d0', finished: '#3ca951', failed: '#d03c3c' };

function Progress({ fraction }: { fraction: number | null }) {
  if (fraction === null) return <span className="muted">starting</span>;
  return (
    <span title={`${percent(fraction)} of the FLOP budget`}>
      <progress max={1} value={fraction} /> {percent(fraction)}
    </span>
  );
}

export default async function QueuePage() {
  const q = await readQueue();
  return (
    <article>
      <h1>Queue</h1>
      <p className="lede">
        Runs waiting for a worker, running, finished and failed. Runs are added with <code>npx middlepath queue add</code> and taken by{' '}
        <code>npx middlepath worker</code> on any machine that reaches the database; a run is recorded once, in the store and as a file. A
        job whose worker died is handed to another worker when it expires; one that fails every attempt is listed here with the reason.
      </p>
      {!q.ok ? (
        <p className="note" id="queue-unavailable">
          No queue to show: {q.reason}.
        </p>
      ) : q.status.jobs.length === 0 ? (
        <p className="note" id="queue-empty">
          The queue is empty.
        </p>
      ) : (
        <>
          <p id="queue-totals">
            {(['pending', 'running', 'finished', 'failed'] as const).map((s) => (
              <span
                key={s}
                className="badge"
                data-state={s}
                style={{ borderColor: STATE_COLOR[s], color: STATE_COLOR[s], marginRight: '0.5em' }}
              >
                {q.status.totals[s]} {s}
              </span>
            ))}
          </p>
          <div className="table-wrap">
            <table id="queue-groups">
              <thead>
                <tr>
                  <th scope="col">task</th>
                  <th scope="col">architecture</th>
                  <th scope="col">pending</th>
                  <th scope="col">running</th>
                  <th scope="col">finished</th>
                  <th scope="col">failed</th>
                </tr>
              </thead>
              <tbody>
                {q.status.groups.map((g) => (
                  <tr key={`${g.task}|${g.arch}`}>
                    <td>{g.task}</td>
                    <td>{g.arch}</td>
                    <td>{g.pending}</td>
                    <td>{g.running}</td>
                    <td>{g.finished}</td>
                    <td>{g.failed}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>Jobs</h2>
          <div className="table-wrap">
            <table id="queue-jobs">
              <thead>
                <tr>
                  <th scope="col">run</th>
                  <th scope="col">state</th>
                  <th scope="col">worker · progress</th>
                  <th scope="col">attempts</th>
                  <th scope="col">queued</th>
                  <th scope="col">outcome</th>
                </tr>
              </thead>
              <tbody>
                {q.status.jobs.map((j) => (
                  <tr key={j.id} data-job={j.id} data-state={j.state}>
                    <td>
                      {j.tier} · {j.task} · {j.arch} · seed {j.seed}
                    </td>
                    <td>
                      <span className="badge" style={{ borderColor: STATE_COLOR[j.state], color: STATE_COLOR[j.state] }}>
                        {j.state}
                      </span>
                    </td>
                    <td>
                      {j.state === 'running' ? (
                        <>
                          {j.host ?? 'unknown host'} · <Progress fraction={j.fraction} />
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>{j.attempts}</td>
                    <td>{date(j.createdOn)}</td>
                    <td className="small">{j.outcome ?? <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </article>
  );
}
