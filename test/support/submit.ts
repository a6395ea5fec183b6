/**
 * Test support for the submission tests (not a test file): the real CLI in a child
 * process, and a snapshot of every table of a SQLite store, to show that bad input
 * changed nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { contentHashOf, sha256 } from '../../harness/results/files.ts';
import { type RunRecord, runRecord, type UnhashedRecord } from '../../harness/results/record.ts';
import { makeManifest, uploadDocumentOf } from '../../harness/submit/bundle.ts';
import { childEnv } from '../../harness/submit/child.ts';
import { makeRun } from './store.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
const bin = join(ROOT, 'bin', 'middlepath.js');

export async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: childEnv(opts.env),
      timeout: 300_000,
      maxBuffer: 64 * 2 ** 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Every row of every table, in a stable order: equal snapshots mean an unchanged store. */
export function snapshot(sqlitePath: string): Record<string, unknown[]> {
  if (!existsSync(sqlitePath)) return {};
  const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").all() as {
      name: string;
    }[];
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`select * from "${name}" order by rowid`).all()]));
  } finally {
    db.close();
  }
}

export const TEST_SOURCE = `// a test submission
import * as tf from '@tensorflow/tfjs';
import { defineArchitecture } from 'middlepath';
export default defineArchitecture({ name: 'test-arch', family: 'hybrid', description: 'x', build: () => { throw new Error(String(tf.version)); } });
`;

/** Re-seal a record after changing it (so its content hash is right and only the change is wrong). */
export function reseal(r: RunRecord, change: (u: UnhashedRecord) => UnhashedRecord): RunRecord {
  const { contentHash: _old, ...rest } = r;
  const changed = change(structuredClone(rest));
  // parse strips nothing here, but a change that breaks the schema must reach the server as it is
  const sealed = { ...changed, contentHash: contentHashOf(changed) };
  return runRecord.safeParse(sealed).success ? runRecord.parse(sealed) : (sealed as RunRecord);
}

/**
 * A schema-valid upload document without training anything: the submission's runs on
 * mnist (one per value, seeds 0..n-1) and one dense baseline run, all on one hardware class.
 */
export function syntheticUpload(o: { name?: string; description?: string; source?: string; values?: number[] } = {}) {
  const name = o.name ?? 'test-arch';
  const source = o.source ?? TEST_SOURCE;
  const values = o.values ?? [0.9, 0.91, 0.92];
  const own = values.map((q, seed) =>
    makeRun({
      arch: name,
      family: 'hybrid',
      description: o.description,
      seed,
      sourceHash: sha256(source),
      curve: [
        [1e9, q - 0.2],
        [2e9, q],
      ],
    }),
  );
  const baseline = reseal(makeRun({ arch: 'dense', family: 'dense', seed: 0, curve: [[2e9, 0.85]] }), (u) => ({
    ...u,
    architecture: { ...u.architecture, origin: 'baseline' },
  }));
  const manifest = makeManifest({
    source,
    originalName: `${name}.ts`,
    tier: 'smoke',
    seeds: values.length,
    tasks: ['mnist'],
    own,
    baselines: [baseline],
    validation: { seconds: 1, backend: 'wasm', passed: [{ task: 'mnist', params: { total: 1000, active: 500 } }], refused: [] },
    createdAt: '2025-03-02T00:00:00.000Z',
  });
  return { manifest, source, records: [...own, baseline], doc: uploadDocumentOf(manifest, source, [...own, baseline]) };
}
