/**
 * Running untrusted architecture code in a child process under limits: a wall-clock limit,
 * an optional stall limit (no report line for too long), a V8 heap cap
 * (--max-old-space-size) and a cap on the child's resident memory, read from
 * /proc/<pid>/status — tfjs's wasm memory lives outside the V8 heap, so only RSS sees it.
 * Past any limit the child is killed with SIGKILL (a module stuck in a synchronous loop
 * never runs a signal handler anyway).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxed, sandboxStatus } from '../confined/sandbox.ts';
import { ProcessTree } from '../measure/process-tree.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN_TS = join(ROOT, 'bin', 'run-ts.js');
export const MIDDLEPATH_BIN = join(ROOT, 'bin', 'middlepath.js');
/** Growth in resident memory that counts as progress for the stall limit. */
const RSS_PROGRESS_MB = 64;

export interface SuperviseOptions {
  /** arguments after `node --max-old-space-size=N` */
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  heapMB: number;
  rssLimitMB: number;
  timeLimitSeconds: number;
  /** kill when no report line has arrived for this long (null: no stall limit) */
  stallSeconds?: number | null;
  /** open fd 3 as a pipe and hand each line written to it here */
  onReportLine?: (line: string) => void;
  onStderr?: (text: string) => void;
  /** how often RSS and the clocks are checked */
  pollMs?: number;
  /** run it in the OS sandbox (confined/sandbox.ts), reading only these paths, where the machine has one */
  sandboxReads?: readonly string[];
}

export type KillReason = { reason: 'time' | 'stall' | 'memory'; detail: string };

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
  const withReport = Boolean(opts.onReportLine);
  const node = [`--max-old-space-size=${opts.heapMB}`, ...opts.args];
  const cwd = opts.cwd ?? ROOT;
  // untrusted code (validate's child) inside the OS sandbox where the machine has one
  const command =
    opts.sandboxReads && sandboxStatus().available
      ? sandboxed({ reads: opts.sandboxReads, cwd, command: process.execPath, args: node })
      : { file: process.execPath, args: node };
  const child: ChildProcess = spawn(command.file, command.args, {
    cwd,
    env: opts.env ?? childEnv(),
    stdio: withReport ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  let killed: KillReason | null = null;
  let peak: number | null = null;
  const tree = child.pid === undefined ? null : new ProcessTree(child.pid);
  let lastReport = performance.now();
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
  const report = withReport ? (child.stdio[3] as NodeJS.ReadableStream | null) : null;
  if (report) {
    let buffered = '';
    report.on('data', (d: Buffer) => {
      lastReport = performance.now();
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) opts.onReportLine?.(line);
        nl = buffered.indexOf('\n');
      }
    });
  }

  let rssAtProgress = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    // the whole tree: a sandboxed child is setpriv → bwrap → its init → node, and only node grows
    const rss = tree ? tree.rssMB() : null;
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
    // Resident memory still climbing is allocation, not a stall: leave that child to the memory limit.
    if (rss !== null && rss - rssAtProgress >= RSS_PROGRESS_MB) {
      rssAtProgress = rss;
      lastReport = now;
    }
    if (rss !== null && rss > opts.rssLimitMB) {
      kill({ reason: 'memory', detail: `resident memory reached ${rss.toFixed(0)} MB (limit ${opts.rssLimitMB} MB)` });
    } else if ((now - started) / 1000 > opts.timeLimitSeconds) {
      kill({ reason: 'time', detail: `still running after ${opts.timeLimitSeconds} s (the limit)` });
    } else if (opts.stallSeconds != null && (now - lastReport) / 1000 > opts.stallSeconds) {
      kill({ reason: 'stall', detail: `no progress for ${opts.stallSeconds} s` });
    }
  }, opts.pollMs ?? 100);

  return new Promise((done, fail) => {
    child.once('error', (e) => {
      clearInterval(timer);
      fail(e);
    });
    // 'close', not 'exit': every pipe (fd 3 included) has been read to the end by then
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
