/**
 * Running a harness command (`verify`'s re-runs through the CLI) in a child process under
 * limits: a wall-clock limit, a V8 heap cap (--max-old-space-size) and a cap on the child's
 * resident memory, read from /proc — tfjs's wasm memory lives outside the V8 heap, so only
 * RSS sees it. Past any limit the child is killed with SIGKILL. The module itself runs one
 * level further down, in the confined child (harness/confined) that command starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessTree } from '../measure/process-tree.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN_TS = join(ROOT, 'bin', 'run-ts.js');
export const MIDDLEPATH_BIN = join(ROOT, 'bin', 'middlepath.js');

export interface SuperviseOptions {
  /** arguments after `node --max-old-space-size=N` */
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  heapMB: number;
  rssLimitMB: number;
  timeLimitSeconds: number;
  onStderr?: (text: string) => void;
  /** how often RSS and the clocks are checked */
  pollMs?: number;
}

export type KillReason = { reason: 'time' | 'memory'; detail: string };

export interface SupervisedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the supervisor killed the child, with why */
  killed: KillReason | null;
  seconds: number;
  /** highest RSS seen (MB); null where /proc is not available */
  peakRssMB: number | null;
  stdout: string;
  /** the last 8 KB of stderr */
  stderrTail: string;
}

/**
 * The child's environment: the caller's, minus NODE_OPTIONS (the child gets exactly the
 * flags chosen here, not a test runner's loader) and the test runner's own variables.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k.startsWith('VITEST')) delete env[k];
  return env;
}

export function supervise(opts: SuperviseOptions): Promise<SupervisedExit> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [`--max-old-space-size=${opts.heapMB}`, ...opts.args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let killed: KillReason | null = null;
  let peak: number | null = null;
  const tree = child.pid === undefined ? null : new ProcessTree(child.pid);
  let stdout = '';
  let stderr = '';

  const kill = (why: KillReason) => {
    if (killed || child.exitCode !== null) return;
    killed = why;
    child.kill('SIGKILL');
  };

  child.stdout?.on('data', (d: Buffer) => {
    // a module may print without bound: keep the first 64 KB only
    if (stdout.length < 65_536) stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr = (stderr + text).slice(-8192);
    opts.onStderr?.(text);
  });
  const timer = setInterval(() => {
    const now = performance.now();
    // the whole tree: the command and the confined child it starts
    const rss = tree ? tree.rssMB() : null;
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
    if (rss !== null && rss > opts.rssLimitMB) {
      kill({ reason: 'memory', detail: `resident memory reached ${rss.toFixed(0)} MB (limit ${opts.rssLimitMB} MB)` });
    } else if ((now - started) / 1000 > opts.timeLimitSeconds) {
      kill({ reason: 'time', detail: `still running after ${opts.timeLimitSeconds} s (the limit)` });
    }
  }, opts.pollMs ?? 100);

  return new Promise((done, fail) => {
    child.once('error', (e) => {
      clearInterval(timer);
      fail(e);
    });
    // 'close', not 'exit': every pipe has been read to the end by then
    child.once('close', (code, signal) => {
      clearInterval(timer);
      done({
        code,
        signal,
        killed,
        seconds: (performance.now() - started) / 1000,
        peakRssMB: peak,
        stdout,
        stderrTail: stderr,
      });
    });
  });
}
