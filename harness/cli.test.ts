/**
 * The real `middlepath` command in a child process: exit codes, messages that say what to
 * fix, JSON output, and a submission module outside the repository importing 'middlepath'.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sandboxStatus } from './confined/sandbox.ts';
import { runRecord } from './results/record.ts';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'middlepath.js');
// The command as a user runs it: without the test runner's loader options and variables.
const env: NodeJS.ProcessEnv = { ...process.env };
for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k.startsWith('VITEST')) delete env[k];

async function cli(
  args: string[],
  cwd = root,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd,
      env: { ...env, ...extraEnv },
      timeout: 240_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('middlepath CLI', () => {
  it('refuses submit and verify where there is no OS sandbox, saying why; run --arch warns loudly and runs, the baselines in this process after a warning', async () => {
    const off = { MIDDLEPATH_SANDBOX: 'off' };
    const fixture = join(root, 'test', 'fixtures', 'tiny-mlp.ts');
    for (const args of [
      ['submit', fixture],
      ['verify', 'some-submission'],
    ]) {
      const r = await cli(args, root, off);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`middlepath ${args[0]}: refused — it runs untrusted code, and this machine has no OS sandbox`));
    }
    const run = await cli(
      [
        'run',
        '--tier',
        'smoke',
        '--task',
        'parity',
        '--arch',
        fixture,
        'dense',
        '--out',
        mkdtempSync(join(tmpdir(), 'mp-nosb-')),
        '--json',
      ],
      root,
      off,
    );
    expect(run.stderr).toMatch(/WARNING: no OS sandbox here \(turned off by MIDDLEPATH_SANDBOX=off\)/);
    expect(run.stderr).toMatch(/the baselines run in this process \(their code is the harness's own\)/);
    expect(run.code, run.stderr).toBe(0);
    const confined = Object.fromEntries(
      (JSON.parse(run.stdout) as { records: unknown[] }).records
        .map((r) => runRecord.parse(r))
        .map((r) => [r.architecture.name, r.training.confined]),
    );
    expect(confined).toEqual({ 'tiny-mlp': true, dense: false });
  }, 360_000); // three CLI processes and a smoke run on plain wasm: 110 s on a busy 2-core machine

  it('exits 2 and lists the valid names for an unknown task, architecture or backend', async () => {
    const task = await cli(['run', '--task', 'imagenet']);
    expect(task.code).toBe(2);
    expect(task.stderr).toContain("unknown task 'imagenet'; the tasks are: superposition, parity, mnist, charlm");
    const arch = await cli(['run', '--arch', 'transformer-xl']);
    expect(arch.code).toBe(2);
    expect(arch.stderr).toMatch(/unknown architecture 'transformer-xl'; the baselines are: dense/);
    const backend = await cli(['run', '--backend', 'tpu']);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/Allowed choices are auto, tensorflow-gpu, tensorflow, webgpu, wasm\+libxsmm, wasm\+blas, wasm, cpu/);
  });

  it('runs a module from anywhere on disk that imports middlepath and tfjs, and prints JSON; the baselines beside it in the same sandbox, or in this process with --in-process', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mp-submitter-'));
    copyFileSync(join(root, 'test', 'fixtures', 'tiny-mlp.ts'), join(elsewhere, 'my-arch.ts'));
    const out = join(elsewhere, 'results');
    const r = await cli(['run', '--task', 'superposition', '--arch', './my-arch.ts', 'dense', '--out', out, '--json'], elsewhere);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { records: unknown[] };
    expect(parsed.records).toHaveLength(2);
    const [record, dense] = parsed.records.map((x) => runRecord.parse(x));
    expect(record?.architecture).toMatchObject({ name: 'tiny-mlp', origin: './my-arch.ts' });
    expect(record?.status).toBe('completed');
    // a module given by path is untrusted by default: confined — inside the OS sandbox on the
    // system BLAS like the baselines, or on wasm (no native addons) where there is no sandbox
    expect(record?.training.confined).toBe(true);
    expect(record?.backend.name).toMatch(record?.training.sandbox ? /^wasm\+(libxsmm|blas)$/ : /^wasm$/);
    // the baseline: in the same sandboxed child on the same backend where this machine has the sandbox, else here
    const boxed = sandboxStatus().available;
    expect(dense?.architecture.name).toBe('dense');
    expect(dense?.training.confined).toBe(boxed);
    if (boxed) {
      expect(dense?.training.sandbox).toEqual(record?.training.sandbox);
      expect(dense?.hardwareClass).toBe(record?.hardwareClass);
    }
    expect(readdirSync(join(out, 'runs'))).toHaveLength(2);

    const own = mkdtempSync(join(tmpdir(), 'mp-in-process-'));
    const inProcess = await cli(['run', '--task', 'superposition', '--arch', 'dense', '--in-process', '--out', own, '--json']);
    expect(inProcess.code, inProcess.stderr).toBe(0);
    expect(runRecord.parse((JSON.parse(inProcess.stdout) as { records: unknown[] }).records[0]).training.confined).toBe(false);
    const both = await cli(['run', '--arch', 'dense', '--in-process', '--confine', '--out', own]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--in-process and --confine contradict each other/);
  });

  it('exits 1 when a run fails, still recording it, and names the module', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-fail-'));
    const r = await cli(['run', '--task', 'superposition', '--arch', join(root, 'test/fixtures/broken/throws-build.ts'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED: build\(\) threw: expert count must be a power of two/);
    expect(readdirSync(join(out, 'runs'))).toHaveLength(1);
    const broken = join(out, 'empty.ts');
    writeFileSync(broken, 'export const nothing = 1;\n');
    const empty = await cli(['run', '--task', 'superposition', '--arch', broken, '--out', out]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/empty\.ts has no default export/);
  });

  it('stops on Ctrl-C after the current step, writing nothing partial, and exits 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-sigint-'));
    const child = spawn(process.execPath, [bin, 'run', '--task', 'charlm', '--out', out, '--no-store'], { cwd: root, env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/step \d+:/.test(stderr) && !child.killed) child.kill('SIGINT'); // mid-run, once training steps are under way
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: the run in progress was dropped/);
    expect(existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')) : []).toEqual([]);
  });

  it("answers --version with package.json's version, and refuses a taken port for site with exit 2 and what to do", async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect((await cli(['--version'])).stdout.trim()).toBe(version);
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await cli(['site', '--port', String(port), '--no-ingest']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`));
      expect(r.stdout).not.toMatch(/leaderboard: http/); // no address printed for a server that is not ours
    } finally {
      taken.close();
    }
  });

  it('lists tasks, architectures and runs', async () => {
    const tasks = await cli(['list', 'tasks']);
    expect(tasks.stdout).toMatch(/charlm\s+bits per character \(lower is better\)/);
    const archs = await cli(['list', 'archs']);
    expect(archs.stdout).toMatch(/^dense\s+dense/m);
  });
});
