/**
 * The parent's side of a confined run: starts the child (child.ts, bundled) under Node's
 * permission model and talks to it one request at a time.
 *
 * Confinement (Node 20, `--experimental-permission`):
 * - reads: the child's bundle, the module's bundle and node_modules/@tensorflow, long and
 *   seedrandom (the tfjs runtime) — not the data packages, not the repository, not results/;
 * - no writes, no child processes, no worker threads; no native addons unless `allowAddons`
 *   (only for a baseline on wasm+blas: an FFI such as koffi can call any C function);
 * - an environment of PATH, HOME and LANG only (no tokens, no DATABASE_URL);
 * - its own process group, killed whole at the end; a V8 heap cap; a resident-memory cap
 *   read from /proc; a per-request time limit (a module stuck in a loop never replies).
 * The permission model does not cover the network: see the README's "Limits for submitters".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { wasmDistDir } from '../../kernels/wasm-setup.ts';
import { xsmmLibraryPath } from '../../kernels/xsmm.ts';
import { UsageError } from '../errors.ts';
import { RunFailure } from '../forward.ts';
import { ProcessTree } from '../measure/process-tree.ts';
import { type ConfinedBundle, ROOT } from './bundle.ts';
import { ReplyReader, requestFrame } from './channel.ts';
import { confinedEnv } from './env.ts';
import { type ConfinedBackend, type FromConfined, fromConfined, phaseOf, type Reply, type ToConfined } from './protocol.ts';
import { type SandboxStatus, sandboxed, sandboxRequirement, sandboxStatus, warnUnsandboxed } from './sandbox.ts';

/** Runtime packages the child may read: tfjs and what tfjs-core imports. */
const RUNTIME = ['@tensorflow', 'long', 'seedrandom'].map((p) => join(ROOT, 'node_modules', p));
/** The FFI the wasm+blas kernels call the system BLAS through. */
const KOFFI = join(ROOT, 'node_modules', 'koffi');

export interface ConfinedOptions {
  bundle: ConfinedBundle;
  backend: ConfinedBackend;
  /** allow native addons: baselines on wasm+blas only (trusted code) */
  allowAddons: boolean;
  heapMB: number;
  rssLimitMB: number;
  /** the longest one request (a step, an evaluation) may take before the child is killed */
  requestSeconds: number;
  /** BLAS threads, for wasm+blas */
  blasThreads?: number;
  /**
   * 'required': refuse to start without the OS sandbox; 'optional': start under the permission
   * model alone where there is none. Unset: as MIDDLEPATH_SANDBOX says (`submit` and `verify`
   * set 'required'), else optional with a loud warning — `run --arch` on a machine without one.
   */
  sandbox?: 'required' | 'optional';
}

/**
 * Node's permission model for a process that runs a module: reads of `bundle`'s two files'
 * folders, the tfjs runtime and `extraReads` only; no writes, child processes or workers;
 * addons only when allowed.
 */
export function permissionFlags(bundle: ConfinedBundle, allowAddons: boolean, extraReads: readonly string[] = []): string[] {
  // koffi's files and the libxsmm wrapper's folder too where addons are allowed: they load from there
  const reads = [bundle.childFile, join(bundle.moduleFile, '..'), ...RUNTIME, ...nativeReads(allowAddons), ...extraReads];
  return [
    '--experimental-permission',
    ...reads.map((p) => `--allow-fs-read=${p}`),
    ...(allowAddons ? ['--allow-addons'] : []),
    '--no-warnings=ExperimentalWarning',
  ];
}

/** The flags that confine the child. Exported for the tests and the README's claims. */
export function confinementFlags(o: Pick<ConfinedOptions, 'bundle' | 'allowAddons' | 'heapMB'>): string[] {
  return [...permissionFlags(o.bundle, o.allowAddons), `--max-old-space-size=${o.heapMB}`];
}

/** What the sandbox binds read-only: exactly what the permission model lets the child read. */
export function readsOf(bundle: ConfinedBundle, allowAddons: boolean, extraReads: readonly string[] = []): string[] {
  return [...new Set([dirname(bundle.childFile), dirname(bundle.moduleFile), ...RUNTIME, ...nativeReads(allowAddons), ...extraReads])];
}

/** koffi, and the libxsmm wrapper's folder (built at install) where it exists: what native kernels load from. */
function nativeReads(allowAddons: boolean): string[] {
  if (!allowAddons) return [];
  const xsmm = dirname(xsmmLibraryPath());
  return [KOFFI, ...(existsSync(xsmm) ? [xsmm] : [])];
}

export class ConfinedChild {
  private pending: {
    resolve: (m: FromConfined) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
    /** the phase of the run the request serves: what a failure while it waits is named for */
    phase: 'build' | 'train' | 'eval';
  } | null = null;
  private ended: string | null = null;
  /** why the harness stopped the child, where a limit did (time: a request unanswered; memory: the resident cap) */
  stoppedFor: StopReason | null = null;
  private stderr = '';
  private peakRss = 0;
  private readonly poll: NodeJS.Timeout;
  private readonly replies: ReplyReader;
  private seq = 0;
  private readonly tree: ProcessTree | null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly opts: ConfinedOptions,
    /** the OS sandbox it runs in, or null where there is none (sandboxStatus() says why) */
    readonly sandbox: (SandboxStatus & { available: true }) | null,
  ) {
    this.tree = child.pid === undefined ? null : new ProcessTree(child.pid);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.replies = new ReplyReader(
      (raw) => {
        const pending = this.pending;
        if (!pending) return this.kill("the architecture's process sent a reply nobody asked for: refused");
        this.pending = null;
        clearTimeout(pending.timer);
        const parsed = fromConfined.safeParse(raw);
        if (parsed.success) pending.resolve(parsed.data);
        else
          pending.reject(new RunFailure('train', `the architecture's process sent a malformed reply: ${parsed.error.issues[0]?.message}`));
      },
      (why) => this.kill(`the architecture's process sent ${why}: refused — only the harness's own runtime in the child may answer`),
    );
    (child.stdio[4] as Readable).on('data', (d: Buffer) => this.replies.push(d));
    // fd 3 is the harness's to write; anything the child writes back on it is dropped
    (child.stdio[3] as Readable).on('data', () => {});
    (child.stdio[3] as Writable).on('error', () => {});
    (child.stdio[3] as Writable).write(this.replies.key);
    child.on('exit', (code, signal) => {
      this.ended ??= `the architecture's process ended (${signal ? `signal ${signal}` : `exit code ${code}`})${this.stderrLine()}`;
      this.failPending(this.ended);
      clearInterval(this.poll);
      this.tree?.close();
    });
    this.poll = setInterval(() => {
      const rss = this.tree?.rssMB() ?? null;
      if (rss === null) return;
      this.peakRss = Math.max(this.peakRss, rss);
      if (rss > opts.rssLimitMB)
        this.stop({ reason: 'memory', detail: `resident memory reached ${rss.toFixed(0)} MB (limit ${opts.rssLimitMB} MB)` });
    }, 100);
    this.poll.unref();
  }

  /**
   * Start the child: in the OS sandbox (sandbox.ts) where this machine has one; where it has
   * none, only with `sandbox: 'optional'` (the harness's own code, or `run --arch` after its
   * warning), else a UsageError that says why.
   */
  static start(opts: ConfinedOptions): ConfinedChild {
    const sandbox = sandboxStatus();
    if (!sandbox.available) {
      if ((opts.sandbox ?? sandboxRequirement()) === 'required') {
        throw new UsageError(
          `untrusted code runs only inside an OS sandbox, and this machine has none: ${sandbox.reason}. Run it on Linux with bubblewrap installed, or in a container or VM without network`,
        );
      }
      if (opts.sandbox !== 'optional') warnUnsandboxed(sandbox.reason);
    }
    const node = [...confinementFlags(opts), opts.bundle.childFile];
    const cwd = join(opts.bundle.moduleFile, '..');
    const command = sandbox.available
      ? sandboxed({ reads: readsOf(opts.bundle, opts.allowAddons), cwd, command: process.execPath, args: node })
      : { file: process.execPath, args: node, outsideUid: -1 };
    const child = spawn(command.file, command.args, {
      env: confinedEnv({
        ...(opts.blasThreads ? { MIDDLEPATH_BLAS_THREADS: String(opts.blasThreads) } : {}),
        // the bundled child cannot find the wrapper beside its own file: named here
        ...(opts.backend === 'wasm+libxsmm' ? { MIDDLEPATH_XSMM_LIB: xsmmLibraryPath() } : {}),
      }),
      cwd,
      // fd 3: requests in; fd 4: signed replies out (channel.ts); no Node IPC channel for module code to reach
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      // its own process group: whatever it started is killed with it
      detached: true,
    });
    return new ConfinedChild(child, opts, sandbox.available ? { ...sandbox, outsideUid: command.outsideUid } : null);
  }

  /** CPU seconds the child's processes have used so far (user + system, from /proc, read here) */
  cpuSeconds(): number | null {
    return this.tree?.cpuSeconds() ?? null;
  }

  /** The highest resident memory the kernel saw for the child (VmHWM), in bytes; null where /proc cannot tell */
  kernelPeakRssBytes(): number | null {
    const kb = this.tree?.peakKB() ?? null;
    return kb === null ? null : kb * 1024;
  }

  private stderrLine(): string {
    const lines = this.stderr.trim().split('\n').filter(Boolean);
    // V8's fatal error line ("JavaScript heap out of memory") says more than the native stack trace after it
    const fatal = lines.find((l) => /FATAL ERROR|heap out of memory/.test(l));
    return fatal ? `: ${fatal.trim().slice(0, 800)}` : lines.length ? `: ${lines.slice(-4).join(' | ').slice(0, 800)}` : '';
  }

  private failPending(message: string) {
    const pending = this.pending;
    this.pending = null;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(new RunFailure(pending.phase, message));
    }
  }

  /** Highest resident memory seen (bytes). */
  get peakRssBytes(): number {
    return this.peakRss * 2 ** 20;
  }

  /** Send one request and wait for its reply; a `failed` reply becomes a RunFailure. */
  async request<T extends Exclude<FromConfined['type'], 'failed'>>(
    m: ToConfined,
    expect: T,
    seconds = this.opts.requestSeconds,
    /** values sent raw after the message, in order (RawTensor's offsets point into them) */
    raw: readonly ArrayBufferView[] = [],
  ): Promise<Reply<T>> {
    if (this.ended) throw new RunFailure('train', this.ended);
    if (this.pending) throw new Error('ConfinedChild: one request at a time');
    const reply = await new Promise<FromConfined>((resolve, reject) => {
      const timer = setTimeout(() => this.stop({ reason: 'time', detail: `no reply to '${m.type}' within ${seconds} s` }), seconds * 1000);
      this.pending = { resolve, reject, timer, phase: phaseOf(m) };
      const pipe = this.child.stdio[3] as Writable;
      const chunks = requestFrame(this.seq++, m, raw);
      // one writev for the frame's chunks: the raw values go from the caller's arrays to the pipe uncopied
      pipe.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) pipe.write(chunks[i]);
      pipe.write(chunks[last], (e) => {
        if (e) this.failPending(`could not send '${m.type}' to the architecture's process: ${e.message}`);
      });
      pipe.uncork();
    });
    if (reply.type === 'failed') throw new RunFailure(reply.phase, reply.message, reply.status);
    if (reply.type !== expect) throw new RunFailure('train', `the architecture's process answered '${m.type}' with '${reply.type}'`);
    return reply as Reply<T>;
  }

  /** Kill the child for a limit it passed, and say which (stoppedFor). */
  stop(why: StopReason): void {
    this.stoppedFor ??= why;
    this.kill(`the architecture's process was stopped: ${why.detail}`);
  }

  kill(why: string): void {
    this.ended ??= why;
    this.failPending(why);
    clearInterval(this.poll);
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL'); // the whole group
    } catch {
      // already gone
    }
  }

  /** End the child and its process group. */
  close(): void {
    this.kill('closed by the harness');
  }
}

export { confinedEnv };
export type StopReason = { reason: 'time' | 'memory'; detail: string };
export const moduleUrl = (bundle: ConfinedBundle) => pathToFileURL(bundle.moduleFile).href;
export { wasmDistDir };
