/**
 * The queue against the real PostgreSQL (TEST_DATABASE_URL) with real `middlepath worker`
 * processes training real (small) runs: idempotent enqueue, record and row together, a
 * worker killed mid-run, two workers finishing the same run, a job that fails every attempt.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BIN,
  type QueueFixture,
  queueFixture,
  startWorker,
  TEST_DATABASE_URL,
  type WorkerProcess,
  waitFor,
} from '../../test/support/queue.ts';
import { makeRun } from '../../test/support/store.ts';
import { readValidRecords, sealRecord } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { openStore } from '../store/index.ts';
import type { TierSettings } from '../tasks/types.ts';
import { type EnqueueOptions, enqueueSuite } from './add.ts';
import { openBoss, openPool } from './boss.ts';
import { commitRecord, reconcileFile } from './commit.ts';
import { queueStatus } from './status.ts';

if (!TEST_DATABASE_URL) console.warn('TEST_DATABASE_URL is not set: SKIPPING the queue tests (CI sets it; they run there)');

const root = join(import.meta.dirname, '..', '..');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
/** a run of some seconds: long enough to be killed mid-way */
const mnistRun: Partial<TierSettings> = { budgetFlops: 1e10, evalPoints: 2, timeLimitSeconds: 300 };

let fixtures: QueueFixture[] = [];
let workers: WorkerProcess[] = [];
afterEach(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
  for (const f of fixtures) await f.cleanup();
  fixtures = [];
  delete process.env.MIDDLEPATH_QUEUE_SCHEMA;
});

async function fixture(): Promise<QueueFixture> {
  const f = await queueFixture(TEST_DATABASE_URL as string);
  fixtures.push(f);
  process.env.MIDDLEPATH_QUEUE_SCHEMA = f.queueSchema; // for the in-process queue calls
  return f;
}

async function enqueue(f: QueueFixture, o: EnqueueOptions) {
  const store = await openStore({ url: f.url });
  const boss = await openBoss(f.url);
  try {
    return await enqueueSuite(boss, store, o);
  } finally {
    await boss.stop({ graceful: false });
    await store.close();
  }
}

async function storedRuns(f: QueueFixture, key: string) {
  return f.query<{ id: string; status: string }>(`select id, status from ${f.storeSchema}.runs where key = $1`, [key]);
}

const recordsIn = (...dirs: string[]): RunRecord[] => dirs.flatMap((d) => readValidRecords(d));
const leftovers = (dir: string) => (existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).filter((n) => n.endsWith('.tmp')) : []);

async function jobState(f: QueueFixture) {
  const pool = openPool(f.url);
  try {
    return await queueStatus(pool);
  } finally {
    await pool.end();
  }
}

describe.skipIf(!TEST_DATABASE_URL)('the run queue on PostgreSQL', () => {
  it('queue add puts each run on once, and skips a run the store has recorded', async () => {
    const f = await fixture();
    const add = async () => {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [BIN, 'queue', 'add', '--tier', 'smoke', '--task', 'superposition', 'parity', '--arch', 'dense'],
        { cwd: root, env: f.env, timeout: 120_000 },
      );
      return stdout + stderr;
    };
    expect(await add()).toMatch(/2 run\(s\) added to the queue; 0 already queued; 0 already recorded/);
    expect(await add()).toMatch(/0 run\(s\) added to the queue; 2 already queued/);
    const s = await jobState(f);
    expect(s.totals).toEqual({ pending: 2, running: 0, finished: 0, failed: 0 });

    // a run already in the store (recorded by `run` on some machine) is not queued again
    const planned = await enqueue(f, { tier: 'smoke', tasks: ['mnist'], archs: ['dense'] });
    expect(planned.added).toBe(1);
    const store = await openStore({ url: f.url });
    const jobs = await jobState(f);
    const mnist = jobs.jobs.find((j) => j.task === 'mnist');
    const mnistKey = (await f.query<{ key: string }>(`select data->>'key' as key from ${f.queueSchema}.job where id = $1`, [mnist?.id]))[0]
      ?.key;
    const { contentHash: _h, ...rest } = makeRun({ arch: 'dense', task: 'mnist', curve: [[1e9, 0.5]] });
    await store.ingest(sealRecord({ ...rest, key: mnistKey as string }));
    await store.close();
    const again = await enqueue(f, { tier: 'smoke', tasks: ['mnist', 'charlm'], archs: ['dense'] });
    expect(again).toMatchObject({ added: 1, queued: 0, recorded: 1 });
  }, 300_000);

  it('records a run once: row and file together, a second finisher dropped, a missing file restored from the store', async () => {
    const f = await fixture();
    const out = tmp('mp-commit-');
    const store = await openStore({ url: f.url });
    const pool = openPool(f.url);
    try {
      const a = makeRun({ arch: 'dense', curve: [[1e9, 0.5]] });
      const { contentHash: _h, ...rest } = makeRun({ arch: 'dense', curve: [[1e9, 0.6]] });
      const b = sealRecord({ ...rest, id: `${a.id}-b`, key: a.key });
      const first = await commitRecord(a, { pool, store, outDir: out });
      expect(first.kind).toBe('recorded');
      expect(await commitRecord(b, { pool, store, outDir: out })).toEqual({ kind: 'duplicate', id: b.id, existing: a.id });
      expect(recordsIn(out).map((r) => r.id)).toEqual([a.id]);
      // a worker killed after the row, before the file: the retry writes the file from the store
      rmSync(join(out, 'runs', `${a.id}.json`));
      const restored = await reconcileFile(store, a.id, out);
      expect(restored && JSON.parse(readFileSync(restored, 'utf8'))).toEqual(JSON.parse(JSON.stringify(a)));
    } finally {
      await pool.end();
      await store.close();
    }
  });

  it('retries the job of a worker killed mid-run on another worker after it expires: one record, nothing partial', async () => {
    const f = await fixture();
    await enqueue(f, { tier: 'smoke', tasks: ['mnist'], archs: ['dense'], settings: mnistRun, expireInSeconds: 45 });
    const [outA, outB] = [tmp('mp-wa-'), tmp('mp-wb-')];
    const a = startWorker(f.env, outA);
    workers.push(a);
    // mid-run: the worker has reported progress past the first step
    await waitFor(
      'worker A to be training',
      240,
      async () => {
        const s = await jobState(f);
        return s.jobs.some((j) => j.state === 'running' && (j.step ?? 0) > 0);
      },
      a.output,
    );
    a.kill();
    await a.exited;
    const b = startWorker(f.env, outB);
    workers.push(b);
    const finished = await waitFor(
      'the job to finish on worker B',
      300,
      async () => {
        const s = await jobState(f);
        return s.totals.finished === 1 ? s : undefined;
      },
      () => `${a.output()}\n--- B:\n${b.output()}`,
    );
    expect(finished.jobs[0]?.attempts).toBeGreaterThanOrEqual(2);
    const recorded = recordsIn(outA, outB);
    expect(recorded.map((r) => r.status)).toEqual(['completed']);
    expect(recordsIn(outA)).toEqual([]);
    expect(leftovers(outA)).toEqual([]);
    expect(await storedRuns(f, recorded[0]?.key as string)).toHaveLength(1);
  }, 600_000);

  it('records a run once when two workers race for it (the same run on two queues over one store)', async () => {
    const f = await fixture();
    const g = await fixture(); // a second queue…
    const shared = { ...g.env, DATABASE_URL: f.url }; // …over the first one's store
    const suite = { tier: 'smoke' as const, tasks: ['mnist'], archs: ['dense'], settings: mnistRun };
    process.env.MIDDLEPATH_QUEUE_SCHEMA = f.queueSchema;
    await enqueue(f, suite);
    process.env.MIDDLEPATH_QUEUE_SCHEMA = g.queueSchema;
    await enqueue({ ...g, url: f.url }, suite);
    const [outA, outB] = [tmp('mp-ra-'), tmp('mp-rb-')];
    const a = startWorker(f.env, outA);
    const b = startWorker(shared, outB);
    workers.push(a, b);
    await waitFor(
      'both workers to end the run',
      400,
      async () => /(done|drop|skip) mnist/.test(a.output()) && /(done|drop|skip) mnist/.test(b.output()),
      () => `${a.output()}\n--- B:\n${b.output()}`,
    );
    const all = recordsIn(outA, outB);
    expect(all, `${a.output()}\n--- B:\n${b.output()}`).toHaveLength(1);
    expect(`${a.output()}${b.output()}`).toMatch(/drop mnist · dense · seed 0: another worker recorded it first/);
    expect(await storedRuns(f, all[0]?.key as string)).toHaveLength(1);
  }, 600_000);

  it('dead-letters a job that fails every attempt, with the reason in queue status', async () => {
    const f = await fixture();
    const dir = tmp('mp-gone-');
    const module = join(dir, 'gone.ts');
    copyFileSync(join(root, 'test', 'fixtures', 'tiny-mlp.ts'), module);
    await enqueue(f, { tier: 'smoke', tasks: ['superposition'], archs: [module], retries: 1 });
    rmSync(module); // the module is not on the worker's machine
    const w = startWorker(f.env, tmp('mp-wd-'));
    workers.push(w);
    const s = await waitFor(
      'the job to fail twice',
      240,
      async () => {
        const st = await jobState(f);
        return st.totals.failed === 1 ? st : undefined;
      },
      w.output,
    );
    expect(s.jobs[0]).toMatchObject({ state: 'failed', attempts: 2, outcome: expect.stringMatching(/gone\.ts not found/) });
    const dead = await f.query<{ n: string }>(`select count(*) as n from ${f.queueSchema}.job where name = 'middlepath-runs-dead'`);
    expect(Number(dead[0]?.n)).toBe(1);
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'queue', 'status'], { cwd: root, env: f.env });
    expect(stdout).toMatch(/failed {3}superposition · .*gone\.ts · seed 0 after 2 attempt\(s\): .*not found/);
  }, 300_000);
});
