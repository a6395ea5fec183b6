/**
 * Test support for the store: record builders with hand-chosen curves, and a real store
 * per backend (a SQLite file in a temp dir; a fresh Postgres schema per test file).
 * Not a test file itself; imported by *.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { getTableColumns } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { sealRecord, sha256 } from '../../harness/results/files.ts';
import type { EnergyReading, QualityMetric, RunRecord, RunStatus, TierName, UnhashedRecord } from '../../harness/results/record.ts';
import { openStore, rowOf } from '../../harness/store/index.ts';
import { pg as pgSchema } from '../../harness/store/schema/index.ts';
import type { Family, Store } from '../../harness/store/types.ts';
import { syntheticRecord } from './synthetic.ts';

export const ACCURACY: QualityMetric = { name: 'accuracy', unit: '', higherIsBetter: true };
export const BPC: QualityMetric = { name: 'bits per character', unit: 'bpc', higherIsBetter: false };
export const HW = 'test-device ×1 · cpu';

export interface MakeRun {
  arch: string;
  family?: Family;
  description?: string;
  task?: string;
  metric?: QualityMetric;
  tier?: TierName;
  hardwareClass?: string;
  seed?: number;
  /** [executed FLOPs so far, quality] per eval point; the last is the final result */
  curve: [number, number][];
  status?: RunStatus;
  /** seconds per FLOP; default 1e-9 */
  secondsPerFlop?: number;
  /** joules per FLOP, or null for energy not measured */
  joulesPerFlop?: number | null;
  startedAt?: string;
  sourceHash?: string;
  paramsTotal?: number;
}

let counter = 0;

/** A sealed, schema-valid record with exactly the curve given. */
export function makeRun(o: MakeRun): RunRecord {
  const base = syntheticRecord(0);
  const task = o.task ?? 'mnist';
  const tier = o.tier ?? 'smoke';
  const seed = o.seed ?? 0;
  const status = o.status ?? 'completed';
  const spf = o.secondsPerFlop ?? 1e-9;
  const jpf = o.joulesPerFlop === undefined ? null : o.joulesPerFlop;
  const last = o.curve[o.curve.length - 1];
  if (!last) throw new Error('makeRun needs at least one curve point');
  const [flops, quality] = last;
  const n = counter++;
  const started = o.startedAt ?? new Date(Date.parse('2025-03-01T00:00:00Z') + n * 1000).toISOString();
  const sourceHash = o.sourceHash ?? sha256(`test:${o.arch}`);
  const slug = sha256(`${o.arch}|${n}`).slice(0, 10);
  const energy: EnergyReading =
    jpf === null
      ? { measured: false, reason: 'test: no energy counter' }
      : {
          measured: true,
          method: 'rapl',
          devices: 'package-0',
          grossJoules: flops * jpf,
          idleWatts: 0,
          idleSeconds: 0,
          netJoules: flops * jpf,
          windowSeconds: flops * spf,
          samples: 10,
        };
  const record: UnhashedRecord = {
    ...base,
    id: `${tier}.${task}.a${slug}.s${seed}.t${n}`,
    key: sha256([task, tier, seed, sourceHash, 'test', o.hardwareClass ?? HW].join('|')).slice(0, 16),
    status,
    failure: status === 'completed' ? null : { phase: 'train', message: 'test: loss became NaN' },
    startedAt: started,
    finishedAt: new Date(Date.parse(started) + 1000).toISOString(),
    harnessVersion: 'test',
    task: { id: task, tier, seed, variantSeed: null, metric: o.metric ?? ACCURACY },
    architecture: {
      ...base.architecture,
      name: o.arch,
      family: o.family ?? (o.arch === 'dense' ? 'dense' : 'moe'),
      description: o.description ?? `test architecture ${o.arch}`,
      origin: 'test',
      sourceHash,
    },
    params: { total: o.paramsTotal ?? 1000, active: 500 },
    training: { ...base.training, budgetFlops: flops, wallSeconds: flops * spf },
    flops: { ...base.flops, executed: flops, model: flops / 2 },
    energy,
    powerTrace: [],
    curve: o.curve.map(([f, q], i) => ({
      step: i + 1,
      flops: f,
      modelFlops: f / 2,
      seconds: f * spf,
      joules: jpf === null ? null : f * jpf,
      trainLoss: null,
      quality: q,
      evalLoss: 1,
    })),
    final:
      status === 'completed'
        ? {
            quality,
            evalLoss: 1,
            subQualities: {},
            legibility: {
              activationSparsity: 0.5,
              updateDensity: 0.9,
              gradientDensity: 0.9,
              routing: [],
              superposition: null,
              ablation: null,
            },
          }
        : null,
    hardwareClass: o.hardwareClass ?? HW,
  };
  return sealRecord(record);
}

/** The same run under another architecture's name (a new id and key, sealed again): an architecture that is another in all but name. */
export function renamedRun(r: RunRecord, arch: string): RunRecord {
  const { contentHash: _old, ...rest } = r;
  const tag = sha256(arch).slice(0, 4);
  return sealRecord({
    ...rest,
    id: `${rest.id}.${tag}`,
    key: `${rest.key.slice(0, 12)}${tag}`,
    architecture: { ...rest.architecture, name: arch },
  });
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** opens the file's store (migrating, unless readonly) */
  open(options?: { readonly?: boolean }): Promise<Store>;
  /** empties the store between tests */
  reset(): Promise<void>;
  /** makes the store as the first migration (0000, records inline) left it, holding these records */
  legacy(records: RunRecord[]): Promise<void>;
  /** rewrites a stored record's JSON in the database behind the store's back (an attacker with the database) */
  editStoredRecord(id: string, edit: (json: string) => string): Promise<void>;
  cleanup(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** A copy of a dialect's migrations folder whose journal stops after the first migration. */
function firstMigrationOnly(dialect: 'sqlite' | 'pg'): string {
  const from = fileURLToPath(new URL(`../../harness/store/migrations/${dialect}`, import.meta.url));
  const to = mkdtempSync(join(tmpdir(), `middlepath-mig-${dialect}-`));
  cpSync(from, to, { recursive: true });
  const journalPath = join(to, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: unknown[] };
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
  return to;
}

/** The 0000 runs row of a record: today's indexed columns plus the record inline. */
function legacyRow(r: RunRecord): { columns: string[]; values: unknown[] } {
  const row = rowOf(r) as Record<string, unknown>;
  // the first migration's columns: today's, less those later migrations added
  const added = new Set(['provenance']); // 0004
  const cols = Object.entries(getTableColumns(pgSchema.runs)).filter(([, c]) => !added.has(c.name));
  const columns = cols.map(([, c]) => c.name);
  const values = cols.map(([k]) => row[k] ?? null);
  return { columns: [...columns, 'record'], values: [...values, JSON.stringify(r)] };
}

export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'middlepath-store-'));
  const path = join(dir, 'store.sqlite');
  let n = 0;
  let current = path;
  return {
    name: 'sqlite',
    open: (options = {}) => openStore({ sqlitePath: current, readonly: options.readonly ?? false }),
    async reset() {
      current = join(dir, `store-${++n}.sqlite`);
    },
    async legacy(records) {
      const migrations = firstMigrationOnly('sqlite');
      const client = new Database(current);
      try {
        migrateSqlite(drizzleSqlite({ client }), { migrationsFolder: migrations });
        for (const r of records) {
          const { columns, values } = legacyRow(r);
          const sqlValues = values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
          client.prepare(`INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...sqlValues);
        }
      } finally {
        client.close();
        rmSync(migrations, { recursive: true, force: true });
      }
    },
    async editStoredRecord(id, edit) {
      const client = new Database(current);
      try {
        const row = client.prepare('SELECT record FROM records WHERE id = ?').get(id) as { record: string };
        client.prepare('UPDATE records SET record = ? WHERE id = ?').run(edit(row.record), id);
      } finally {
        client.close();
      }
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh schema of its own on the test server, so test files running at once do not collide. */
export function postgresBackend(baseUrl: string): Backend {
  const schema = `t_${sha256(`${process.pid}|${Date.now()}|${Math.random()}`).slice(0, 12)}`;
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  let created = false;
  return {
    name: 'postgres',
    async open(options = {}) {
      if (!created) {
        await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
        created = true;
      }
      return openStore({ url: url.toString(), readonly: options.readonly ?? false });
    },
    async reset() {
      if (created) await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE; CREATE SCHEMA ${schema}`));
    },
    async legacy(records) {
      if (!created) {
        await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
        created = true;
      }
      const migrations = firstMigrationOnly('pg');
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        await migratePg(drizzlePg({ client }), { migrationsFolder: migrations, migrationsSchema: schema });
        for (const r of records) {
          const { columns, values } = legacyRow(r);
          await client.query(`INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
        }
      } finally {
        await client.end();
        rmSync(migrations, { recursive: true, force: true });
      }
    },
    async editStoredRecord(id, edit) {
      await admin(async (c) => {
        const { rows } = await c.query<{ record: string }>(`SELECT record FROM ${schema}.records WHERE id = $1`, [id]);
        await c.query(`UPDATE ${schema}.records SET record = $1 WHERE id = $2`, [edit(rows[0]?.record ?? ''), id]);
      });
    },
    async cleanup() {
      if (created) await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
}
