/**
 * Test support for the queue: a store schema and a queue schema of their own on the test
 * server (test files run at once), real `middlepath worker` processes, and a way to wait
 * for what the database says. Not a test file itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { sha256 } from '../../harness/results/files.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const root = join(import.meta.dirname, '..', '..');
export const BIN = join(root, 'bin', 'middlepath.js');

export interface QueueFixture {
  /** DATABASE_URL for the store (search_path = its schema) and the queue */
  url: string;
  /** the store's tables are here (\`${storeSchema}.runs\`) */
  storeSchema: string;
  queueSchema: string;
  /** the environment a CLI process needs: the URL, the queue schema, none of the test runner's variables */
  env: NodeJS.ProcessEnv;
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  cleanup(): Promise<void>;
}

export async function queueFixture(baseUrl: string): Promise<QueueFixture> {
  const tag = sha256(`${process.pid}|${Date.now()}|${Math.random()}`).slice(0, 10);
  const storeSchema = `s_${tag}`;
  const queueSchema = `q_${tag}`;
  const admin = new pg.Pool({ connectionString: baseUrl, max: 2 });
  admin.on('error', () => {});
  await admin.query(`create schema ${storeSchema}`);
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${storeSchema}`);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: u.toString(), MIDDLEPATH_QUEUE_SCHEMA: queueSchema };
  for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k.startsWith('VITEST')) delete env[k];
  return {
    url: u.toString(),
    storeSchema,
    queueSchema,
    env,
    query: async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => (await admin.query<T>(sql, values)).rows,
    async cleanup() {
      await admin.query(`drop schema if exists ${storeSchema} cascade; drop schema if exists ${queueSchema} cascade`).catch(() => {});
      await admin.end();
    },
  };
}

export interface WorkerProcess {
  process: ChildProcess;
  output(): string;
  /** SIGKILL the worker and its run processes (its own process group), as a machine dying would */
  kill(): void;
  exited: Promise<number | null>;
}

/** A real `middlepath worker` in its own process group, checking for expired jobs every second. */
export function startWorker(env: NodeJS.ProcessEnv, out: string, extra: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'worker', '--out', out, '--expiry-check', '1', ...extra], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => text,
    kill: () => {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    exited,
  };
}

/** Poll until `check` returns a value (not undefined/false), or fail after `seconds` with `what`. */
export async function waitFor<T>(
  what: string,
  seconds: number,
  check: () => Promise<T | undefined | false>,
  context: () => string = () => '',
): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${seconds} s waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
