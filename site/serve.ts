/**
 * Serving the leaderboard: `serveSite` (a live `next start` over the store) and
 * `exportSite` (static files for publishing). The CLI's `middlepath site [--export DIR]`
 * calls these.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeExportHeaders } from './export-headers.ts';

export const SITE_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(SITE_DIR, '..');
const NEXT_BIN = createRequire(import.meta.url).resolve('next/dist/bin/next');

/** What the site's build depends on: a change in any of these makes a live build stale. */
const SOURCES = [
  join(SITE_DIR, 'app'),
  join(SITE_DIR, 'components'),
  join(SITE_DIR, 'lib'),
  join(SITE_DIR, 'routes'),
  join(SITE_DIR, 'build'),
  join(SITE_DIR, 'next.config.ts'),
  join(REPO_ROOT, 'harness', 'store'),
  join(REPO_ROOT, 'harness', 'results'),
  join(REPO_ROOT, 'harness', 'queue'),
  join(REPO_ROOT, 'harness', 'findings'),
  join(REPO_ROOT, 'harness', 'stats'),
  join(REPO_ROOT, 'harness', 'tasks'),
  join(REPO_ROOT, 'harness', 'tiers.ts'),
  join(REPO_ROOT, 'package-lock.json'),
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** Stamped with the time a live build started, so an edit during the build counts as newer. */
const BUILD_STAMP = join(SITE_DIR, '.next', 'middlepath-build-started');

/** Is there a live build that started after the last change to every source it was built from? */
export function liveBuildIsFresh(): boolean {
  if (!existsSync(join(SITE_DIR, '.next', 'BUILD_ID')) || !existsSync(BUILD_STAMP)) return false;
  const started = statSync(BUILD_STAMP).mtimeMs;
  return SOURCES.every((s) => newestMtime(s) < started);
}

export interface RunOptions {
  /** where the child's output goes: inherited (the CLI), or collected (tests, quiet) */
  stdio?: 'inherit' | 'pipe';
}

function run(args: string[], env: NodeJS.ProcessEnv, opts: RunOptions = {}): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: opts.stdio === 'inherit' ? 'inherit' : 'pipe',
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`next ${args[0]} exited with ${code}\n${out.slice(-4000)}`))));
  });
}

const LOCK = join(SITE_DIR, '.build-lock');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One `next build` of this site at a time: Next refuses a second one in the same project
 * (even into another build folder), and a live and an export build may be asked for at once
 * (tests, the CLI). A lock folder holds the owner's pid; a dead owner's lock is taken over.
 */
async function withBuildLock<T>(fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {
        // the owner has made the folder but not yet written its pid
      }
      if (Number.isInteger(owner) && !processAlive(owner)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another build of the site (pid ${owner}) held ${LOCK} for too long`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Build the live site unless a fresh build exists. */
export async function ensureBuilt(opts: RunOptions & { force?: boolean } = {}): Promise<'built' | 'fresh'> {
  if (!opts.force && liveBuildIsFresh()) return 'fresh';
  return withBuildLock(async () => {
    if (!opts.force && liveBuildIsFresh()) return 'fresh'; // built by whoever held the lock
    const env = { ...process.env, MIDDLEPATH_EXPORT: '0', NEXT_TELEMETRY_DISABLED: '1' };
    const started = new Date();
    await run(['build', SITE_DIR], env, opts);
    writeFileSync(BUILD_STAMP, `${started.toISOString()}\n`);
    utimesSync(BUILD_STAMP, started, started);
    return 'built';
  });
}

export interface StoreOptions {
  /** a postgres:// URL (else DATABASE_URL, else SQLite) */
  storeUrl?: string;
  /** SQLite file; default .middlepath/store.sqlite under the repository root */
  sqlitePath?: string;
}

function storeEnv(opts: StoreOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  if (opts.storeUrl) env.DATABASE_URL = opts.storeUrl;
  else if (opts.sqlitePath) {
    delete env.DATABASE_URL;
    env.MIDDLEPATH_SQLITE = resolve(opts.sqlitePath);
  }
  return env;
}

export interface SiteServer {
  url: string;
  process: ChildProcess;
  /** what `next start` has printed so far (when started with stdio 'pipe') */
  log(): string;
  close(): Promise<void>;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}\n${log().slice(-4000)}`);
    try {
      const res = await fetch(`${url}/methods`, { signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the site did not answer at ${url} within ${timeoutMs} ms\n${log().slice(-4000)}`);
}

/**
 * Build the site if needed, then `next start` it over the store (read-only, read on every
 * request, so a suite in progress shows up on reload). Resolves once it answers.
 */
export async function serveSite(opts: StoreOptions & RunOptions & { port: number; hostname?: string }): Promise<SiteServer> {
  await ensureBuilt(opts);
  const hostname = opts.hostname ?? '127.0.0.1';
  // Idle connections outlive a client's own keep-alive (undici: 4 s), so the server never closes one
  // that a client is just reusing ("other side closed", seen under a loaded CI machine's timers).
  const keepAlive = ['--keepAliveTimeout', '65000'];
  const child = spawn(process.execPath, [NEXT_BIN, 'start', SITE_DIR, '-p', String(opts.port), '-H', hostname, ...keepAlive], {
    cwd: REPO_ROOT,
    env: storeEnv(opts),
    stdio: opts.stdio === 'inherit' ? 'inherit' : 'pipe',
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = `http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${opts.port}`;
  const log = () => out;
  const close = () =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGTERM');
    });
  try {
    await waitForHttp(url, child, 60_000, log);
  } catch (e) {
    await close();
    throw e;
  }
  return { url, process: child, log, close };
}

/**
 * A static copy of the site from the store (by default the one `middlepath ingest results`
 * fills): every leaderboard view, run, architecture and pair, with the CSV/JSON downloads
 * and each run's record.json, and a `_headers` file with the security headers its host
 * should send (export-headers.ts). Returns the folder.
 */
export async function exportSite(outDir: string, opts: StoreOptions & RunOptions = {}): Promise<string> {
  const dist = 'out';
  const env = { ...storeEnv(opts), MIDDLEPATH_EXPORT: '1', MIDDLEPATH_EXPORT_DIST: dist };
  // the copy too: a second export would rebuild the folder being copied
  return withBuildLock(async () => {
    await run(['build', SITE_DIR], env, opts);
    const built = join(SITE_DIR, dist);
    if (!existsSync(join(built, 'index.html'))) throw new Error(`the export build left no index.html in ${built}`);
    const target = resolve(outDir);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    cpSync(built, target, { recursive: true });
    writeExportHeaders(target);
    return target;
  });
}
