/**
 * PostgreSQL restarted under a working worker: it reconnects and the suite finishes, every
 * run recorded once. The shared test server is never restarted: this test starts a private
 * throwaway cluster (initdb/pg_ctl from /usr/lib/postgresql/<v>/bin) on a free port, and is
 * skipped, saying why, where those programs are absent.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { queueFixture, startWorker, type WorkerProcess, waitFor } from '../../test/support/queue.ts';
import { openStore } from '../store/index.ts';
import { enqueueSuite } from './add.ts';
import { openBoss, openPool } from './boss.ts';
import { queueStatus } from './status.ts';

function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base).sort().reverse()) {
    const bin = join(base, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** initdb refuses root: as root, the cluster is made and run by the postgres user. */
function clusterUser(): { uid: number; gid: number } | null | 'missing' {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return 'missing';
  }
}

const bin = postgresBin();
const user = clusterUser();
const skipReason = !bin
  ? 'no initdb/pg_ctl under /usr/lib/postgresql/*/bin (install the postgresql package to run it)'
  : user === 'missing'
    ? 'running as root without a postgres user for initdb'
    : null;
if (skipReason) console.warn(`SKIPPING the PostgreSQL restart test: ${skipReason}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe.skipIf(Boolean(skipReason))('a worker through a PostgreSQL restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-pgcluster-'));
  const data = join(dir, 'data');
  const pgCtl = (args: string[]) => {
    const cmd = join(bin as string, 'pg_ctl');
    const asUser = user && user !== 'missing' ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    // stdio ignored: a server started here must not hold this process's pipes open
    execFileSync(asUser[0] as string, asUser[1] as string[], { stdio: 'ignore', timeout: 120_000 });
  };
  let worker: WorkerProcess | undefined;

  afterAll(() => {
    worker?.kill();
    try {
      pgCtl(['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconnects and finishes the suite, each run recorded once', async () => {
    if (user && user !== 'missing') chownSync(dir, user.uid, user.gid);
    const initdb = join(bin as string, 'initdb');
    const initArgs = ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'];
    if (user && user !== 'missing') execFileSync('runuser', ['-u', 'postgres', '--', initdb, ...initArgs], { stdio: 'pipe' });
    else execFileSync(initdb, initArgs, { stdio: 'pipe' });
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    pgCtl(['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);

    const f = await queueFixture(`postgres://postgres@127.0.0.1:${port}/postgres`);
    process.env.MIDDLEPATH_QUEUE_SCHEMA = f.queueSchema;
    const store = await openStore({ url: f.url });
    const boss = await openBoss(f.url);
    const archs = ['dense', 'hash', 'switch-top1', 'topk'];
    await enqueueSuite(boss, store, {
      tier: 'smoke',
      tasks: ['superposition'],
      archs,
      settings: { budgetFlops: 6e8, evalPoints: 2 },
      expireInSeconds: 30,
    });
    await boss.stop({ graceful: false });
    await store.close();

    worker = startWorker(f.env, mkdtempSync(join(tmpdir(), 'mp-wr-')));
    const runs = async () => Number((await f.query<{ n: string }>(`select count(*) as n from ${f.storeSchema}.runs`))[0]?.n);
    await waitFor('the first run to be recorded', 240, async () => (await runs()) >= 1, (worker as WorkerProcess).output);
    pgCtl(['-D', data, '-l', join(dir, 'log'), '-m', 'fast', '-w', 'restart']);

    const pool = openPool(f.url);
    try {
      await waitFor(
        'every run recorded and every job finished after the restart',
        300,
        async () => (await runs()) === archs.length && (await queueStatus(pool)).totals.finished === archs.length,
        (worker as WorkerProcess).output,
      );
    } finally {
      await pool.end();
    }
    const keys = await f.query<{ key: string; n: string }>(`select key, count(*) as n from ${f.storeSchema}.runs group by key`);
    expect(keys.map((k) => Number(k.n))).toEqual([1, 1, 1, 1]);
    // the restart was felt, and got through: the worker reported the lost connection and went on
    expect((worker as WorkerProcess).output()).toMatch(/queue: .*(terminat|connect|shut).*\(retrying\)/i);
    await f.cleanup();
    delete process.env.MIDDLEPATH_QUEUE_SCHEMA;
  }, 600_000);
});
