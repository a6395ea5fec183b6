/**
 * The OS boundary around a process that runs an architecture module (research/trust.md):
 * bubblewrap (Debian `bubblewrap`, Flatpak's sandbox) gives it
 * - its own user: uid 65534 (nobody) inside; outside too where the harness runs as root
 *   (bwrap is started through `setpriv` as nobody, so no file of the harness's user is
 *   writable and no process of it can be signalled);
 * - its own pid namespace (it cannot see or signal the harness), network namespace (a
 *   loopback of its own: no database, inspector, site or Redis is reachable), IPC and UTS
 *   namespaces;
 * - a root of exactly what it needs, read-only: /usr (Node and the shared libraries), the
 *   linker's cache, the runtime packages and its bundle; a private tmpfs at /tmp; a fresh
 *   /proc of its own pid namespace and a minimal /dev;
 * - no capabilities, die-with-parent and a new session (no terminal to inject keys into);
 * - kernel limits on it and everything it starts (setrlimit through util-linux's `prlimit`,
 *   inherited across fork and exec, hard limits it cannot raise): processes and threads
 *   (RLIMIT_NPROC), open files, the size of a file, no core dumps; and nowhere to fill but a
 *   16 MiB /tmp (the root and /dev are remounted read-only). Memory and CPU are the parent's
 *   to bound (the resident-memory kill, the per-request time limit): RLIMIT_AS would refuse
 *   V8's and wasm's address-space reservations long before any real use.
 * Node's permission model stays on inside it as a second layer (host.ts).
 *
 * Where bwrap is missing or user namespaces are off (macOS, a locked-down kernel) there is
 * no sandbox: `sandboxStatus()` says why, `submit` and `verify` refuse to run untrusted code,
 * and `run --arch` warns.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { confinedEnv } from './env.ts';

/** nobody: the user a sandboxed process runs as, inside and (where the harness is root) outside */
export const SANDBOX_UID = 65534;

export type SandboxStatus = { available: true; tool: string; version: string; outsideUid: number } | { available: false; reason: string };

let status: SandboxStatus | undefined;

const rootStarts = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Top-level entries of / that are symlinks into /usr on a merged-/usr system (Debian 12): recreated as links. */
const ROOT_LINKS = ['/bin', '/lib', '/lib64', '/sbin'];
/**
 * The kernel limits a sandboxed process runs under, set by util-linux's prlimit inside the
 * sandbox before Node starts. NPROC counts threads too: Node, its thread pool and BLAS's threads
 * stay far below 128, and a fork bomb stops there. (The kernel does not apply NPROC to a process
 * whose uid outside is root: it holds where the sandbox's user is nobody outside, or another
 * non-root uid — see sandboxed().)
 */
export const SANDBOX_RLIMITS = { nproc: 128, nofile: 256, fsizeBytes: 8 * 2 ** 20, core: 0 } as const;
/** The sandbox's only writable place: a /tmp of this size (Node's permission model refuses writes anyway; native code does not ask it). */
export const SANDBOX_TMP_BYTES = 16 * 2 ** 20;
const PRLIMIT = '/usr/bin/prlimit';

/** Files outside /usr the dynamic linker and Debian's alternatives (libopenblas.so.0 → /etc/alternatives/…) read. */
const ETC = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives'];

export interface SandboxSpec {
  /** paths the process may read (bound read-only at the same path) */
  reads: readonly string[];
  /** the working directory inside (must be among `reads` or under one) */
  cwd: string;
  /** the program and its arguments, as they would run outside */
  command: string;
  args: readonly string[];
}

/** The bwrap arguments for `spec` (without the program that runs them). */
function bwrapArgs(spec: SandboxSpec): string[] {
  const a = [
    '--unshare-all',
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'middlepath-sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const link of ROOT_LINKS) {
    if (!existsSync(link)) continue;
    const st = lstatSync(link);
    if (st.isSymbolicLink()) a.push('--symlink', realpathSync(link).replace(/^\//, ''), link);
    else a.push('--ro-bind', link, link);
  }
  for (const f of ETC) a.push('--ro-bind-try', f, f);
  // Node itself, where it is not under /usr (nvm, a tarball in /opt)
  const node = realpathSync(process.execPath);
  if (!node.startsWith('/usr/')) a.push('--ro-bind', dirname(dirname(node)), dirname(dirname(node)));
  // the fresh /proc, /dev and /tmp first: a read bound under one of them must not be hidden by it
  a.push('--proc', '/proc', '--dev', '/dev', ...(sizedTmpfs() ? ['--size', String(SANDBOX_TMP_BYTES)] : []), '--tmpfs', '/tmp');
  for (const p of spec.reads) a.push('--ro-bind', p, p);
  // nothing writable but /tmp: bwrap's root and /dev are tmpfs a native call could fill (RAM no RSS counts)
  a.push('--remount-ro', '/dev', '--remount-ro', '/');
  a.push('--chdir', spec.cwd);
  return a;
}

/** bwrap ≥ 0.5 sizes a tmpfs (`--size`); an older one gets an unsized /tmp, still the only writable place. */
let sized: boolean | undefined;
function sizedTmpfs(): boolean {
  if (sized === undefined) {
    const v = /(\d+)\.(\d+)/.exec(spawnSync('bwrap', ['--version'], { encoding: 'utf8' }).stdout ?? '');
    sized = v !== null && (Number(v[1]) > 0 || Number(v[2]) >= 5);
  }
  return sized;
}

/** `command args` under the sandbox's kernel limits, where util-linux's prlimit is installed (in /usr, bound inside); else as is. */
function limited(command: string, args: readonly string[]): string[] {
  if (!existsSync(PRLIMIT)) return [command, ...args];
  const l = SANDBOX_RLIMITS;
  return [PRLIMIT, `--nproc=${l.nproc}`, `--nofile=${l.nofile}`, `--fsize=${l.fsizeBytes}`, `--core=${l.core}`, '--', command, ...args];
}

/** The kernel limits sandboxed() applies here, in words (doctor, docs); empty where prlimit is missing. */
export function sandboxLimits(): string[] {
  if (!existsSync(PRLIMIT)) return [];
  const l = SANDBOX_RLIMITS;
  return [
    `${l.nproc} processes and threads`,
    `${l.nofile} open files`,
    `files ≤ ${l.fsizeBytes / 2 ** 20} MiB`,
    'no core dumps',
    `a ${sizedTmpfs() ? `${SANDBOX_TMP_BYTES / 2 ** 20} MiB ` : ''}/tmp the only writable place`,
  ];
}

/**
 * The command line that runs `spec` sandboxed: `setpriv … bwrap … <command> <args>` when the
 * harness is root (the sandbox's user is nobody outside as well), `bwrap …` otherwise (its user
 * namespace maps nobody inside onto the harness's uid outside; the pid and network namespaces
 * still keep it from the harness's processes and services).
 */
export function sandboxed(spec: SandboxSpec): { file: string; args: string[]; outsideUid: number } {
  const inner = ['bwrap', ...bwrapArgs(spec), ...limited(spec.command, spec.args)];
  // nobody must be able to reach every path it binds (a checkout under /root is not): where it
  // cannot, bwrap runs as the harness's root instead, in its own user namespace, and the record says so
  if (rootStarts() && [...spec.reads, spec.cwd].every(reachableByOthers)) {
    return {
      file: 'setpriv',
      args: [`--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, '--clear-groups', '--inh-caps=-all', ...inner],
      outsideUid: SANDBOX_UID,
    };
  }
  return { file: inner[0] as string, args: inner.slice(1), outsideUid: process.getuid?.() ?? -1 };
}

/** Whether a user other than the owner can traverse every folder down to `path` and read it. */
function reachableByOthers(path: string): boolean {
  try {
    let p = path;
    if ((statSync(p).mode & 0o004) === 0) return false;
    for (;;) {
      const parent = dirname(p);
      if (parent === p) return true;
      p = parent;
      if ((statSync(p).mode & 0o001) === 0) return false;
    }
  } catch {
    return false;
  }
}

/**
 * Whether this machine can sandbox a child, probed once a process: bwrap must run Node inside
 * a fresh user, pid and network namespace. `MIDDLEPATH_SANDBOX=off` says no (to try the
 * refusals); nothing turns a missing sandbox into a present one.
 */
export function sandboxStatus(): SandboxStatus {
  if (status) return status;
  if (process.env.MIDDLEPATH_SANDBOX === 'off') {
    status = { available: false, reason: 'turned off by MIDDLEPATH_SANDBOX=off' };
    return status;
  }
  if (process.platform !== 'linux') {
    status = { available: false, reason: `no bubblewrap sandbox on ${process.platform} (it needs Linux namespaces)` };
    return status;
  }
  const version = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    status = { available: false, reason: 'bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)' };
    return status;
  }
  const probe = sandboxed({
    reads: [],
    cwd: '/',
    command: process.execPath,
    args: ['-e', 'process.stdout.write(String(process.getuid()) + " " + process.pid)'],
  });
  const r = spawnSync(probe.file, probe.args, { encoding: 'utf8', env: confinedEnv(), timeout: 20_000 });
  if (r.status !== 0 || r.stdout.trim() !== `${SANDBOX_UID} 2`) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
    status = {
      available: false,
      reason: `bubblewrap could not start a sandbox here (${why}); unprivileged user namespaces may be off (sysctl kernel.unprivileged_userns_clone=1, or run in a container or VM without network)`,
    };
    return status;
  }
  status = {
    available: true,
    tool: 'bubblewrap',
    version: version.stdout.trim().replace(/^bubblewrap\s*/, ''),
    outsideUid: rootStarts() ? SANDBOX_UID : (process.getuid?.() ?? -1),
  };
  return status;
}

/**
 * Whether untrusted code may run without the sandbox in this process: `MIDDLEPATH_SANDBOX=required`
 * (what `submit` and `verify` set for themselves and the runs they start) says no; otherwise
 * it runs under Node's permission model alone, after a warning.
 */
export function sandboxRequirement(): 'required' | 'optional' {
  return process.env.MIDDLEPATH_SANDBOX === 'required' ? 'required' : 'optional';
}

let warned = false;
/** Say once a process, loudly, that untrusted code runs without the OS boundary. */
export function warnUnsandboxed(reason: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(
    `\n!!! WARNING: no OS sandbox here (${reason}).\n!!! A submitted module now runs under Node's permission model only: it can open sockets to this machine's services (a database, the site), signal processes of your user, and forge what it reports. Run untrusted code only where bubblewrap works, or in a container or VM without network. submit and verify refuse to run without it.\n\n`,
  );
}

let warnedBaselines = false;
/** Say once a process that the baselines run in the harness's process, not in the sandbox submissions run in. */
export function warnBaselinesInProcess(reason: string): void {
  if (warnedBaselines) return;
  warnedBaselines = true;
  process.stderr.write(
    `warning: no OS sandbox here (${reason}), so the baselines run in this process (their code is the harness's own) instead of the confined child submissions run in: their records say training.confined false, and their times are not on the submissions' IPC path. submit and verify refuse to run without a sandbox.\n`,
  );
}

/** For tests: forget the probe's answer. */
export function resetSandboxStatus(): void {
  status = undefined;
}
