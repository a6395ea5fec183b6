/**
 * POST /api/submissions, called as the site's route handler with `new Request(...)`
 * against a temporary SQLite store: every bad request gets its own status and reason and
 * leaves the store exactly as it was; a replay is idempotent; HTML and SQL in strings are
 * stored as text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reseal, snapshot, syntheticUpload } from '../../test/support/submit.ts';
import { bundleHashOf, uploadDocumentOf } from './bundle.ts';
import { openSubmissionDb, type SubmissionDb } from './db.ts';
import { closeWritableDbs } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'middlepath-route-'));
const sqlitePath = join(dir, 'store.sqlite');
let POST: (req: Request) => Promise<Response>;
let db: SubmissionDb;
let live = '';
let revoked = '';
let limited = '';

const URL_ = 'http://localhost/api/submissions';

function request(body: unknown, o: { token?: string | null; type?: string; headers?: Record<string, string> } = {}): Request {
  const headers: Record<string, string> = { 'content-type': o.type ?? 'application/json', ...o.headers };
  const token = o.token === undefined ? live : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return new Request(URL_, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function send(req: Request): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await POST(req);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Send a request that must be refused, and check the store did not change. */
async function refused(req: Request, status: number, error: RegExp) {
  const before = snapshot(sqlitePath);
  const res = await send(req);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(String(res.body.error)).toMatch(error);
  expect(snapshot(sqlitePath)).toEqual(before);
}

beforeAll(async () => {
  process.env.MIDDLEPATH_SQLITE = sqlitePath;
  process.env.MIDDLEPATH_UPLOAD_RATE = '1000/3600';
  delete process.env.DATABASE_URL;
  ({ POST } = await import('../../site/app/api/submissions/route.live.ts'));
  db = await openSubmissionDb({ sqlitePath });
  live = (await db.createToken('alice')).token;
  revoked = (await db.createToken('mallory')).token;
  await db.revokeToken('mallory');
  limited = (await db.createToken('busy')).token;
  // something already stored, which bad requests must leave alone
  const first = await send(request(syntheticUpload({ name: 'first-arch' }).doc));
  expect(first.status).toBe(201);
});

afterAll(async () => {
  await db.close();
  await closeWritableDbs();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/submissions', () => {
  it('stores a good bundle as pending (201), and only the hash of the token', async () => {
    const { doc, manifest } = syntheticUpload({ name: 'good-arch' });
    const res = await send(request(doc));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: `good-arch-${bundleHashOf(manifest).slice(0, 12)}`,
      status: 'pending',
      bundleHash: bundleHashOf(manifest),
    });
    const row = await db.getSubmission(String(res.body.id));
    expect(row).toMatchObject({ status: 'pending', name: 'good-arch', uploadedBy: 'alice', tier: 'smoke', reason: null });
    expect(row?.claim).toEqual(manifest.claim);
    expect(JSON.stringify(snapshot(sqlitePath))).not.toContain(live);
  });

  it('is idempotent on the bundle hash: a replay answers 200 with the same id and stores nothing', async () => {
    const { doc } = syntheticUpload({ name: 'replayed-arch' });
    const first = await send(request(doc));
    expect(first.status).toBe(201);
    const before = snapshot(sqlitePath);
    const again = await send(request(doc));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, status: 'pending', duplicate: true });
    expect(snapshot(sqlitePath)).toEqual(before);
  });

  it('refuses a request without a token (401)', async () => {
    await refused(request(syntheticUpload().doc, { token: null }), 401, /upload token is required/);
    await refused(
      request(syntheticUpload().doc, { headers: { authorization: 'Basic abc' }, token: null }),
      401,
      /upload token is required/,
    );
  });

  it('refuses an unknown token (401) and a revoked one (403)', async () => {
    await refused(request(syntheticUpload().doc, { token: 'mpt_not-a-real-token' }), 401, /unknown upload token/);
    await refused(request(syntheticUpload().doc, { token: revoked }), 403, /'mallory' was revoked/);
  });

  it('refuses a body over the size limit (413), declared or streamed', async () => {
    const big = 'x'.repeat(5 * 2 ** 20 + 1);
    await refused(
      request(big, { headers: { 'content-length': String(big.length) } }),
      413,
      /the body is 5242881 bytes; the limit is 5242880/,
    );
    await refused(request(big), 413, /over the limit of 5242880 bytes/);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 6; i++) c.enqueue(new Uint8Array(2 ** 20).fill(32));
        c.close();
      },
    });
    const req = new Request(URL_, {
      method: 'POST',
      headers: { authorization: `Bearer ${live}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await refused(req, 413, /over the limit of 5242880 bytes/);
  });

  it('refuses malformed JSON (400) and a body that is not JSON (415)', async () => {
    await refused(request('{"bundleHash": "abc", '), 400, /malformed JSON/);
    await refused(request('bundle=1', { type: 'application/x-www-form-urlencoded' }), 415, /must be application\/json/);
  });

  it('refuses every field that fails its schema (400, with the field)', async () => {
    const { doc } = syntheticUpload();
    await refused(request({ ...doc, bundleHash: 'not-a-hash' }), 400, /upload is malformed: bundleHash/);
    await refused(request({ ...doc, manifest: { ...(doc.manifest as object), name: 'Bad Name' } }), 400, /manifest is malformed: name/);
    await refused(request([]), 400, /upload is malformed/);
  });

  it('refuses a record whose figures contradict each other (400), even with every hash right', async () => {
    const { manifest, source, records } = syntheticUpload({ name: 'contradicts' });
    const bad = reseal(records[0] as never, (u) => ({ ...u, flops: { ...u.flops, executed: u.training.budgetFlops / 10 } }));
    const m = structuredClone(manifest);
    (m.records[0] as { contentHash: string }).contentHash = bad.contentHash;
    const doc = uploadDocumentOf(m, source, [bad, ...records.slice(1)]);
    await refused(
      request(doc),
      400,
      /record 0 .*does not match the run record schema: flops\.executed: a completed run spent .* below its budget/,
    );
  });

  it('refuses a record edited after it was written (400)', async () => {
    const { doc } = syntheticUpload({ name: 'edited' });
    const records = structuredClone(doc.records) as { params: { total: number } }[];
    (records[0] as { params: { total: number } }).params.total = 1;
    await refused(request({ ...doc, records }), 400, /contentHash does not match its content/);
  });

  it('stores HTML and SQL in strings as text, unchanged', async () => {
    const payload = `<script>alert("x")</script><img src=x onerror=alert(1)>'); DROP TABLE submissions; -- " OR 1=1`;
    const source = `// ${payload}\nimport { defineArchitecture } from 'middlepath';\nexport default defineArchitecture({ name: 'payload-arch', family: 'other', description: ${JSON.stringify(payload)}, build: () => { throw new Error('x'); } });\n`;
    const { doc } = syntheticUpload({ name: 'payload-arch', description: payload, source });
    const res = await send(request(doc));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await db.getSubmission(String(res.body.id));
    const stored = row?.document as { manifest: { description: string }; module: { source: string } };
    expect(stored.manifest.description).toBe(payload);
    expect(stored.module.source).toBe(source);
    const listed = (await db.listSubmissions()).find((x) => x.id === res.body.id);
    expect(listed?.name).toBe('payload-arch'); // the table is still there, the row intact
  });

  it('limits uploads per token (429 with Retry-After), leaving the store alone', async () => {
    process.env.MIDDLEPATH_UPLOAD_RATE = '2/3600';
    try {
      for (const name of ['rate-one', 'rate-two'])
        expect((await send(request(syntheticUpload({ name }).doc, { token: limited }))).status).toBe(201);
      const before = snapshot(sqlitePath);
      const res = await POST(request(syntheticUpload({ name: 'rate-three' }).doc, { token: limited }));
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(3500);
      expect(((await res.json()) as { error: string }).error).toMatch(/at most 2 per 3600 s/);
      expect(snapshot(sqlitePath)).toEqual(before);
      // another token is not held back by this one
      const other = (await db.createToken('quiet')).token;
      expect((await send(request(syntheticUpload({ name: 'rate-other' }).doc, { token: other }))).status).toBe(201);
    } finally {
      process.env.MIDDLEPATH_UPLOAD_RATE = '1000/3600';
    }
  });
});
