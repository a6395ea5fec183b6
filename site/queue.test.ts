/**
 * The /queue page of the live site (`next start`) over a real queue: a real worker runs one
 * job and has failed another, and the page shows them as running (with the worker's host
 * and progress) and failed (with the reason). Over SQLite it says where the queue lives.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enqueueSuite } from '../harness/queue/add.ts';
import { openBoss, openPool } from '../harness/queue/boss.ts';
import { queueStatus } from '../harness/queue/status.ts';
import { openStore } from '../harness/store/index.ts';
import { type QueueFixture, queueFixture, startWorker, TEST_DATABASE_URL, type WorkerProcess, waitFor } from '../test/support/queue.ts';
import { type SiteServer, serveSite } from './serve.ts';
import { freePort, tempSqlitePath } from './test/fixture.ts';

if (!TEST_DATABASE_URL) console.warn('TEST_DATABASE_URL is not set: SKIPPING the /queue page test (CI sets it; it runs there)');

describe.skipIf(!TEST_DATABASE_URL)('the /queue page', () => {
  let f: QueueFixture | undefined;
  let worker: WorkerProcess | undefined;
  const sites: SiteServer[] = [];
  afterAll(async () => {
    worker?.kill();
    await worker?.exited;
    await Promise.all(sites.map((s) => s.close()));
    await f?.cleanup();
    delete process.env.MIDDLEPATH_QUEUE_SCHEMA;
  });

  it('lists running jobs with host and progress, and failed ones with the reason', async () => {
    f = await queueFixture(TEST_DATABASE_URL as string);
    process.env.MIDDLEPATH_QUEUE_SCHEMA = f.queueSchema; // the site's server inherits it
    // the site first (it may need building): the run below must still be going when the page is read
    const [p1, p2] = await Promise.all([freePort(), freePort()]);
    const live = await serveSite({ port: p1, storeUrl: f.url });
    sites.push(live);
    const sqlite = await serveSite({ port: p2, sqlitePath: tempSqlitePath('middlepath-queue-page-') });
    sites.push(sqlite);
    const dir = mkdtempSync(join(tmpdir(), 'mp-qpage-'));
    const module = join(dir, 'gone.ts');
    copyFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'tiny-mlp.ts'), module);
    const store = await openStore({ url: f.url });
    const boss = await openBoss(f.url);
    await enqueueSuite(boss, store, {
      tier: 'smoke',
      tasks: ['mnist'],
      archs: ['dense'],
      settings: { budgetFlops: 1e13, evalPoints: 2, timeLimitSeconds: 900 },
    });
    await enqueueSuite(boss, store, { tier: 'smoke', tasks: ['superposition'], archs: [module], retries: 0 });
    await boss.stop({ graceful: false });
    await store.close();
    rmSync(module);

    worker = startWorker(f.env, mkdtempSync(join(tmpdir(), 'mp-qpage-out-')), ['--concurrency', '2']);
    const pool = openPool(f.url);
    try {
      await waitFor(
        'one job running with progress and one failed',
        240,
        async () => {
          const s = await queueStatus(pool);
          return s.totals.failed === 1 && s.jobs.some((j) => j.state === 'running' && (j.fraction ?? 0) > 0);
        },
        (worker as WorkerProcess).output,
      );
    } finally {
      await pool.end();
    }

    const html = (await (await fetch(`${live.url}/queue`)).text()).replaceAll('<!-- -->', ''); // React's text-node markers
    const row = (state: string) => new RegExp(`<tr data-job="[^"]+" data-state="${state}">(.*?)</tr>`).exec(html)?.[1] ?? '';
    expect(row('running')).toContain(`${hostname()} · `);
    expect(row('running')).toMatch(/<progress[^>]*value="0\.\d+"/);
    expect(row('running')).toContain('mnist · dense · seed 0');
    expect(row('failed')).toMatch(/gone\.ts not found/);
    const none = await (await fetch(`${sqlite.url}/queue`)).text();
    expect(none).toMatch(/the queue lives in PostgreSQL and this site reads SQLite/);
  }, 900_000);
});
