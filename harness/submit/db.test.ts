/**
 * The submission tables on SQLite and on a real PostgreSQL server (TEST_DATABASE_URL, in a
 * schema of its own): tokens stored as hashes, idempotent inserts, verdicts, read-only opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../test/support/store.ts';
import { syntheticUpload } from '../../test/support/submit.ts';
import { sha256 } from '../results/files.ts';
import type { OpenStoreOptions } from '../store/index.ts';
import { checkBundle } from './bundle.ts';
import { hashToken, openSubmissionDb } from './db.ts';

function bundleOf(name: string) {
  const r = checkBundle(syntheticUpload({ name }).doc);
  if (!r.ok) throw new Error(r.reason);
  return r.bundle;
}

function suite(where: () => Promise<OpenStoreOptions>) {
  it('keeps only the SHA-256 of a token; lists and revokes by name', async () => {
    const db = await openSubmissionDb(await where());
    try {
      const { token } = await db.createToken('alice');
      expect(token).toMatch(/^mpt_[A-Za-z0-9_-]{43}$/);
      await expect(db.createToken('alice')).rejects.toThrow(/exists already/);
      await expect(db.createToken('Not OK')).rejects.toThrow(/must be lower-case/);
      expect(await db.tokenByHash(hashToken(token))).toMatchObject({ name: 'alice', revokedAt: null });
      expect(await db.tokenByHash(sha256('something else'))).toBeNull();
      expect(await db.revokeToken('alice')).toBe(true);
      expect(await db.revokeToken('alice')).toBe(false);
      expect((await db.tokenByHash(hashToken(token)))?.revokedAt).toMatch(/^\d{4}-/);
      expect((await db.listTokens()).map((t) => t.name)).toEqual(['alice']);
    } finally {
      await db.close();
    }
  });

  it('stores a bundle once per bundle hash, finds it by id or hash, and records a verdict', async () => {
    const db = await openSubmissionDb(await where());
    try {
      const bundle = bundleOf('db-arch');
      const first = await db.insertSubmission(bundle, 'alice');
      expect(first).toMatchObject({ status: 'pending', created: true });
      expect(await db.insertSubmission(bundle, 'bob')).toEqual({ id: first.id, status: 'pending', created: false });
      const byHash = await db.getSubmission(bundle.bundleHash);
      expect(byHash?.id).toBe(first.id);
      expect(checkBundle(byHash?.document).ok).toBe(true);
      await db.setVerdict(first.id, { status: 'rejected', reason: 'mnist seed 0: outside', verification: null });
      const list = await db.listSubmissions();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: first.id, status: 'rejected', reason: 'mnist seed 0: outside', uploadedBy: 'alice' });
    } finally {
      await db.close();
    }
  });

  it('opens read-only for the site: reads work, writes are refused', async () => {
    const ro = await openSubmissionDb({ ...(await where()), readonly: true });
    try {
      expect(Array.isArray(await ro.listSubmissions())).toBe(true);
      await expect(ro.insertSubmission(bundleOf('ro-arch'), null)).rejects.toThrow();
    } finally {
      await ro.close();
    }
  });
}

describe('submission tables on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'middlepath-subdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  suite(async () => ({ sqlitePath: join(dir, 'store.sqlite') }));
});

describe.skipIf(!TEST_DATABASE_URL)('submission tables on PostgreSQL', () => {
  const schema = `s_${sha256(`${process.pid}|${Date.now()}`).slice(0, 12)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  let created = false;
  afterAll(async () => {
    if (created) await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  suite(async () => {
    if (!created) {
      await admin(`CREATE SCHEMA ${schema}`);
      created = true;
    }
    const url = new URL(TEST_DATABASE_URL as string);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return { url: url.toString() };
  });
});
