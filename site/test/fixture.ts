/**
 * Test and benchmark stores for the site: a fresh SQLite file filled with records.
 * The e2e tests call records(); to test against a real suite run instead of synthetic
 * records, change records() to return that run's records (e.g. from readRecordDir).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealRecord, sha256 } from '../../harness/results/files.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { openStore } from '../../harness/store/index.ts';
import { syntheticRecords } from '../../test/support/synthetic.ts';

/** Synthetic records at scale: for the export test and the benchmark. */
export function records(): RunRecord[] {
  return syntheticRecords({ count: 400, seed: 7 });
}

/**
 * What the e2e tests browse: a real suite run — every task × every baseline × 2 seeds on
 * wasm — with small budgets so it takes a minute or two, not the smoke tier's full budgets.
 */
export async function suiteRecords(): Promise<RunRecord[]> {
  const { runSuite } = await import('../../harness/suite.ts');
  const { records: recs } = await runSuite({
    tier: 'smoke',
    backend: 'wasm',
    seeds: 2,
    outDir: mkdtempSync(join(tmpdir(), 'middlepath-suite-')),
    settings: { budgetFlops: 2e9, evalPoints: 3 },
  });
  return recs;
}

/** An architecture name and description that are HTML and script: the site must show them as text. */
export const PAYLOAD_NAME = '<img src=x onerror=alert(1)><script>alert(2)</script>';
export const PAYLOAD_DESCRIPTION = '<b>bold?</b><script>document.title="pwned"</script> & "quotes"';

/**
 * Copies of one architecture's runs under the payload name, so the payload sits in the
 * same views (and on the chart) as that architecture.
 */
export function payloadRecords(from: readonly RunRecord[], architecture: string): RunRecord[] {
  return from
    .filter((r) => r.architecture.name === architecture)
    .map((r, i) => {
      const { contentHash: _old, ...rest } = r;
      return sealRecord({
        ...rest,
        id: r.id.replace(`.${architecture}.`, '.xss-payload.'),
        key: sha256(`payload|${r.key}|${i}`).slice(0, 16),
        architecture: { ...r.architecture, name: PAYLOAD_NAME, description: PAYLOAD_DESCRIPTION, family: 'other' },
      });
    });
}

export function tempSqlitePath(prefix = 'middlepath-site-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'store.sqlite');
}

/** A new SQLite store at a temp path (migrated, written here; the site opens it read-only). */
export async function fillStore(recs: readonly RunRecord[] = records(), sqlitePath = tempSqlitePath()): Promise<string> {
  const store = await openStore({ sqlitePath });
  try {
    for (const r of recs) await store.ingest(r);
  } finally {
    await store.close();
  }
  return sqlitePath;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}
