/**
 * Recording a queued run: the store row and the record file, so that one never exists
 * without the other for long and no key is recorded twice.
 *
 * Under a PostgreSQL advisory lock on the run key (held by a connection, so a worker that
 * dies releases it), the store is asked whether the key is settled; if not, the row is
 * written, then the file. A worker killed between the two leaves a row without its file:
 * the job is retried, finds the key settled, and writes the missing file from the store
 * (the store keeps every record whole). Two workers that both finish the same run (a job
 * that expired while its first worker was still alive) record it once; the second
 * worker's record is dropped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { runsDir, writeRecord } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import type { Store } from '../store/types.ts';

/** The advisory-lock key of a run key: its first 15 hex digits as a bigint (fits int8). */
const lockOf = (key: string) => BigInt(`0x${key.slice(0, 15)}`).toString();

export type CommitOutcome = { kind: 'recorded'; id: string; path: string } | { kind: 'duplicate'; id: string; existing: string };

export async function commitRecord(record: RunRecord, o: { pool: pg.Pool; store: Store; outDir: string }): Promise<CommitOutcome> {
  const client = await o.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [lockOf(record.key)]);
    try {
      const settled = record.status === 'failed' ? undefined : (await o.store.settledKeys([record.key])).get(record.key);
      if (settled) return { kind: 'duplicate', id: record.id, existing: settled };
      await o.store.ingest(record);
      return { kind: 'recorded', id: record.id, path: writeRecord(o.outDir, record) };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [lockOf(record.key)]);
    }
  } finally {
    client.release();
  }
}

/** The file of a stored run, written to `outDir` if missing (a worker died between row and file). */
export async function reconcileFile(store: Store, id: string, outDir: string): Promise<string | null> {
  const path = join(runsDir(outDir), `${id}.json`);
  if (existsSync(path)) return path;
  const record = await store.run(id);
  return record ? writeRecord(outDir, record) : null;
}
