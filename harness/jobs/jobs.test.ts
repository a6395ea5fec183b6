/**
 * `run --jobs N` as a user runs it: runs in child processes, each given its share of the
 * cores for BLAS; an architecture refusing a task is recorded as refused and the command
 * still exits 0; Ctrl-C stops every child and writes nothing partial.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readValidRecords } from '../results/files.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'middlepath.js');
const fixture = (name: string) => join(root, 'test', 'fixtures', name);
const env: NodeJS.ProcessEnv = { ...process.env };
for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'MIDDLEPATH_BLAS_THREADS') delete env[k];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, env, timeout: 300_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const records = (out: string) => readValidRecords(out);

describe('run --jobs', () => {
  it('runs each run in a child with cores/N BLAS threads, records a refusal as refused, and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-jobs-'));
    const r = await cli([
      'run',
      '--jobs',
      '2',
      '--task',
      'superposition',
      'charlm',
      '--arch',
      fixture('blas-threads.ts'),
      '--no-confine', // the fixture reads its process's environment: trusted, in-process (and its job's child) only
      '--out',
      out,
      '--no-store',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const byTask = Object.fromEntries(records(out).map((x) => [x.task.id, x]));
    expect(byTask.superposition?.status).toBe('completed');
    expect(byTask.superposition?.architecture.hyperparameters.blasThreads).toBe(
      String(Math.max(1, Math.floor(availableParallelism() / 2))),
    );
    expect(byTask.charlm?.status).toBe('refused');
    expect(byTask.charlm?.failure?.message).toMatch(/refuses task 'charlm'/);
    expect(r.stdout).toMatch(/1 refused by their architecture/);

    // one job: in this process, and BLAS threads are left to the backend's default
    const one = mkdtempSync(join(tmpdir(), 'mp-jobs1-'));
    const single = await cli([
      'run',
      '--task',
      'superposition',
      '--arch',
      fixture('blas-threads.ts'),
      '--no-confine',
      '--out',
      one,
      '--no-store',
    ]);
    expect(single.code, single.stderr).toBe(0);
    expect(records(one)[0]?.architecture.hyperparameters.blasThreads).toBe('unset');
    expect(records(one)[0]?.training.confined).toBe(false); // --no-confine: in this process
  });

  it('stops every child on Ctrl-C, writes nothing partial, and exits 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-jobs-int-'));
    const child = spawn(
      process.execPath,
      [bin, 'run', '--jobs', '2', '--task', 'charlm', 'mnist', '--arch', 'dense', '--out', out, '--no-store'],
      {
        cwd: root,
        env,
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/step \d+:/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: the 2 runs in progress were dropped/); // both were under way, and it says so
    expect(existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')) : []).toEqual([]);
  });
});
