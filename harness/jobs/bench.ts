/**
 * `npm run bench:jobs [-- --task ID... --arch NAME...]`: what running in parallel buys and
 * what the queue costs, measured here and now.
 *
 * 1. The suite (default: the whole smoke tier) with `run --jobs 1` and `run --jobs 2`,
 *    each from empty, through the real CLI: wall seconds and their ratio (target ≥ 1.8 on
 *    2 idle cores). The load average is printed beside them: other work on the machine
 *    depresses the ratio, and the figure says so rather than hiding it.
 * 2. Queue overhead per job (needs DATABASE_URL or TEST_DATABASE_URL): tiny runs queued one
 *    at a time to an idle `middlepath worker`; from pg-boss's and the record's timestamps:
 *    enqueue → taken by the worker, taken → training started (a fresh process loading
 *    tfjs: the cost of one run per process, paid by `run --jobs` too), training finished →
 *    recorded in store and file and the job completed (target ≤ 1 s each for the queue's part).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import pg from 'pg';
import { median } from 'simple-statistics';
import { sha256 } from '../results/files.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'middlepath.js');
const values = new Command()
  .option('--task <id...>', 'tasks (default every task)')
  .option('--arch <name...>', 'architectures (default every baseline)')
  .option('--jobs <n>', 'queued jobs to time', '5')
  .option('--skip-suite', 'do not time the suite')
  .option('--skip-queue', 'do not time the queue')
  .parse()
  .opts<{ task?: string[]; arch?: string[]; jobs: string; skipSuite?: boolean; skipQueue?: boolean }>();
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.MIDDLEPATH_BLAS_THREADS;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function timedRun(jobs: number): Promise<{ seconds: number; runs: number; code: number }> {
  const out = mkdtempSync(join(tmpdir(), `mp-bench-j${jobs}-`));
  const args = [bin, 'run', '--tier', 'smoke', '--jobs', String(jobs), '--out', out, '--no-store', '--json'];
  if (values.task?.length) args.push('--task', ...values.task);
  if (values.arch?.length) args.push('--arch', ...values.arch);
  const t0 = performance.now();
  let stdout = '';
  let code = 0;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, args, { cwd: root, env, maxBuffer: 1 << 28 }));
  } catch (e) {
    const err = e as { code: number; stdout: string };
    code = err.code;
    stdout = err.stdout;
  }
  const seconds = (performance.now() - t0) / 1000;
  const runs = (JSON.parse(stdout || '{"records":[]}') as { records: unknown[] }).records.length;
  return { seconds, runs, code };
}

async function suiteBench(): Promise<void> {
  const slice = `${values.task?.join(' ') ?? 'every task'} × ${values.arch?.join(' ') ?? 'every baseline'}`;
  console.log(`suite: smoke tier, ${slice}; ${availableParallelism()} cores`);
  const results: Record<number, Awaited<ReturnType<typeof timedRun>>> = {};
  for (const jobs of [1, 2]) {
    const before = load();
    const r = await timedRun(jobs);
    results[jobs] = r;
    console.log(
      `  --jobs ${jobs}: ${r.seconds.toFixed(1)} s wall for ${r.runs} runs${r.code ? ` (exit ${r.code})` : ''}; load average before: ${before}, after: ${load()}`,
    );
  }
  const [one, two] = [results[1], results[2]];
  if (one && two)
    console.log(`  speed-up --jobs 2 vs --jobs 1: ×${(one.seconds / two.seconds).toFixed(2)} (target ≥ 1.8 on 2 otherwise idle cores)`);
}

async function queueBench(url: string): Promise<void> {
  const n = Number(values.jobs);
  const tag = sha256(`${process.pid}|${Date.now()}`).slice(0, 8);
  const storeSchema = `bench_s_${tag}`;
  const queueSchema = `bench_q_${tag}`;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  await admin.query(`create schema ${storeSchema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${storeSchema}`);
  process.env.MIDDLEPATH_QUEUE_SCHEMA = queueSchema;
  const workerEnv = { ...env, DATABASE_URL: u.toString(), MIDDLEPATH_QUEUE_SCHEMA: queueSchema };
  const [{ openBoss }, { enqueueSuite }, { openStore }] = await Promise.all([
    import('../queue/boss.ts'),
    import('../queue/add.ts'),
    import('../store/index.ts'),
  ]);
  const store = await openStore({ url: u.toString() });
  const boss = await openBoss(u.toString());
  const { spawn } = await import('node:child_process');
  const worker = spawn(process.execPath, [bin, 'worker', '--out', mkdtempSync(join(tmpdir(), 'mp-bench-q-'))], {
    cwd: root,
    env: workerEnv,
    stdio: 'ignore',
  });
  const taken: number[] = [];
  const processStart: number[] = [];
  const recorded: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 5000)); // the worker is up and idle
    for (let seed = 0; seed < n; seed++) {
      await enqueueSuite(boss, store, {
        tier: 'smoke',
        tasks: ['superposition'],
        archs: ['dense'],
        seedList: [seed],
        settings: { budgetFlops: 1e8, evalPoints: 1 },
      });
      const deadline = Date.now() + 300_000;
      for (;;) {
        const { rows } = await admin.query<{
          created_on: Date;
          started_on: Date | null;
          completed_on: Date | null;
          state: string;
          output: { recorded?: string } | null;
        }>(
          `select created_on, started_on, completed_on, state, output from ${queueSchema}.job where name = 'middlepath-runs' and (data->>'seed')::int = $1`,
          [seed],
        );
        const j = rows[0];
        if (j?.state === 'completed' && j.started_on && j.completed_on && j.output?.recorded) {
          const record = await store.run(j.output.recorded);
          if (!record) throw new Error(`job completed but ${j.output.recorded} is not in the store`);
          taken.push((j.started_on.getTime() - j.created_on.getTime()) / 1000);
          processStart.push((Date.parse(record.startedAt) - j.started_on.getTime()) / 1000);
          recorded.push((j.completed_on.getTime() - Date.parse(record.finishedAt)) / 1000);
          break;
        }
        if (j && j.state !== 'created' && j.state !== 'active') throw new Error(`bench job ended ${j.state}: ${JSON.stringify(j.output)}`);
        if (Date.now() > deadline) throw new Error('bench job did not finish in 300 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const f = (xs: number[]) => `median ${median(xs).toFixed(2)} s (max ${Math.max(...xs).toFixed(2)} s)`;
    console.log(`queue overhead over ${n} jobs, one worker, load average ${load()}:`);
    console.log(`  enqueue → taken by the worker: ${f(taken)}  (target ≤ 1 s)`);
    console.log(`  taken → training started (new process, tfjs, data): ${f(processStart)}`);
    console.log(`  training finished → recorded (store + file) and job completed: ${f(recorded)}  (target ≤ 1 s)`);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await boss.stop({ graceful: false });
    await store.close();
    await admin.query(`drop schema if exists ${storeSchema} cascade; drop schema if exists ${queueSchema} cascade`);
    await admin.end();
  }
}

if (!values.skipSuite) await suiteBench();
if (!values.skipQueue) {
  const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (url) await queueBench(url);
  else
    console.log(
      'queue overhead: not measured — set DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL database the bench may create schemas in',
    );
}
