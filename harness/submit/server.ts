/**
 * The upload endpoint, POST /api/submissions, as a plain `(Request) => Response` function
 * so that the site's route is one line and tests call it without a server. It never runs
 * submitted code: it checks the document (checkBundle) and stores it as pending.
 *
 * Order of checks, each with its own status and reason:
 *   401 no or unknown bearer token · 403 revoked token · 429 over the token's rate ·
 *   415 not JSON · 413 body over the size limit · 400 malformed JSON or a bundle that
 *   fails its checks · 200 the same bundle again (idempotent) · 201 stored as pending.
 * Nothing is written before every check has passed, so a refused request leaves the store
 * as it was.
 */
import type { OpenStoreOptions } from '../store/index.ts';
import { checkBundle, MAX_UPLOAD_BYTES } from './bundle.ts';
import { hashToken, openSubmissionDb, type SubmissionDb } from './db.ts';

export interface RouteConfig {
  /** where the store is: the same rule as openStore */
  store: OpenStoreOptions;
  /** default MAX_UPLOAD_BYTES (5 MB) */
  maxBytes?: number;
  /** uploads per token per window; default 20 per hour */
  rate?: { limit: number; windowSeconds: number };
}

const json = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });

/** "N/SECONDS", e.g. "20/3600"; undefined or malformed gives the default. */
export function parseRate(text: string | undefined): { limit: number; windowSeconds: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text?.trim() ?? '');
  return m ? { limit: Number(m[1]), windowSeconds: Number(m[2]) } : { limit: 20, windowSeconds: 3600 };
}

// One writable connection per store location for the server process, kept on globalThis
// (Next may evaluate this module once per route bundle). Opening per request would re-run
// the migration check every time, and a Postgres pool per request would leak connections.
const KEY = Symbol.for('middlepath.submit.writable-db');
type Holder = { [KEY]?: Map<string, Promise<SubmissionDb>> };

function writableDb(store: OpenStoreOptions): Promise<SubmissionDb> {
  const holder = globalThis as Holder;
  holder[KEY] ??= new Map();
  const cache = holder[KEY];
  const key = JSON.stringify([store.url ?? null, store.sqlitePath ?? null]);
  let p = cache.get(key);
  if (!p) {
    p = openSubmissionDb({ ...store, readonly: false });
    cache.set(key, p);
    p.catch(() => cache.delete(key)); // retried on the next request
  }
  return p;
}

/** Close the cached connections (tests; a server shutting down). */
export async function closeWritableDbs(): Promise<void> {
  const holder = globalThis as Holder;
  const cache = holder[KEY];
  if (!cache) return;
  holder[KEY] = new Map();
  for (const p of cache.values()) await (await p.catch(() => null))?.close();
}

/** Read at most `max` bytes of the body; null when it is longer (Content-Length may be absent or wrong). */
async function readCapped(req: Request, max: number): Promise<string | null> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A POST handler; `config` is read on every request (the route takes it from the environment). */
export function createSubmissionHandler(config: () => RouteConfig): (req: Request) => Promise<Response> {
  // uploads per token name: times of the requests inside the window (per server process)
  const recent = new Map<string, number[]>();

  return async (req) => {
    const cfg = config();
    const maxBytes = cfg.maxBytes ?? MAX_UPLOAD_BYTES;
    const rate = cfg.rate ?? { limit: 20, windowSeconds: 3600 };

    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
    if (!auth?.[1]) {
      return json(401, { error: 'an upload token is required: send Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
    }
    let db: SubmissionDb;
    try {
      db = await writableDb(cfg.store);
    } catch (e) {
      return json(503, { error: `the store is not available: ${(e as Error).message}` });
    }
    const token = await db.tokenByHash(hashToken(auth[1]));
    if (!token) return json(401, { error: 'unknown upload token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    if (token.revokedAt) return json(403, { error: `the upload token '${token.name}' was revoked on ${token.revokedAt}` });

    const now = Date.now();
    const windowMs = rate.windowSeconds * 1000;
    const times = (recent.get(token.name) ?? []).filter((t) => now - t < windowMs);
    if (times.length >= rate.limit) {
      recent.set(token.name, times);
      const retry = Math.ceil((windowMs - (now - (times[0] ?? now))) / 1000);
      return json(
        429,
        {
          error: `too many uploads with token '${token.name}': at most ${rate.limit} per ${rate.windowSeconds} s; try again in ${retry} s`,
        },
        { 'retry-after': String(retry) },
      );
    }
    times.push(now);
    recent.set(token.name, times);

    const type = req.headers.get('content-type') ?? '';
    if (!/^application\/json\b/i.test(type)) return json(415, { error: `the body must be application/json, not '${type || 'none'}'` });
    const declared = Number(req.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      return json(413, { error: `the body is ${declared} bytes; the limit is ${maxBytes}` });
    }
    const text = await readCapped(req, maxBytes);
    if (text === null) return json(413, { error: `the body is over the limit of ${maxBytes} bytes` });

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return json(400, { error: `malformed JSON: ${(e as Error).message}` });
    }
    const check = checkBundle(body);
    if (!check.ok) return json(400, { error: check.reason });

    const stored = await db.insertSubmission(check.bundle, token.name);
    return stored.created
      ? json(201, { id: stored.id, status: stored.status, bundleHash: check.bundle.bundleHash })
      : json(200, { id: stored.id, status: stored.status, bundleHash: check.bundle.bundleHash, duplicate: true });
  };
}
