/**
 * The store: run records indexed in SQLite (default, no set-up) or Postgres (DATABASE_URL).
 *
 *   const store = await openStore();                       // .middlepath/store.sqlite, migrated
 *   const site = await openStore({ readonly: true });      // never writes, never migrates
 *
 * Every query goes through drizzle's query builder, parameterised. The leaderboard is
 * aggregated here, from indexed columns, so callers receive rows per architecture rather
 * than raw records.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, count, desc, eq, inArray, max, min, ne, type SQL } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pgLib from 'pg';
import { contentHashOf } from '../results/files.ts';
import { PROVENANCE, type Provenance } from '../results/provenance.ts';
import { type QualityMetric, type RunRecord, runRecord, TIERS, type TierName } from '../results/record.ts';
import { aggregateAll, aggregateTask, type SliceRun } from './leaderboard.ts';
import { type NewRunRow, pg as pgSchema, type RunRow, sqlite as sqliteSchema } from './schema/index.ts';
import { NEWEST_MIGRATION } from './schema/version.ts';
import type {
  ArchitectureDetail,
  ArchitectureSummary,
  CompareRow,
  Facets,
  IngestOptions,
  IngestOutcome,
  LeaderboardFilter,
  LeaderboardRow,
  RunFilter,
  RunSummary,
  Store,
} from './types.ts';

export type { Store } from './types.ts';

import { DEFAULT_SQLITE_PATH } from './defaults.ts';

export { DEFAULT_SQLITE_PATH };

export interface OpenStoreOptions {
  /** a postgres:// URL; when absent, DATABASE_URL, unless sqlitePath is given */
  url?: string;
  /** SQLite file; default .middlepath/store.sqlite under the working directory */
  sqlitePath?: string;
  /** open without writing: no migrations, ingest refused (SQLite read-only, Postgres read-only transactions) */
  readonly?: boolean;
}

const MIGRATIONS = {
  sqlite: fileURLToPath(new URL('./migrations/sqlite', import.meta.url)),
  pg: fileURLToPath(new URL('./migrations/pg', import.meta.url)),
};

/** A read-only open cannot migrate: refuse a store whose schema is older than this code. */
function requireCurrentSchema(applied: number | null, newest: { when: number }, where: string): void {
  if (applied === null) throw new Error(`${where} has no tables yet: run \`npx middlepath ingest\` first`);
  if (applied < newest.when) {
    throw new Error(`${where} was made by an older version of middlepath: run \`npx middlepath ingest\` once to migrate it`);
  }
}

/** Arbitrary fixed key: concurrent workers opening one Postgres store migrate one at a time. */
const PG_MIGRATION_LOCK = 72_541_903;

/**
 * The queries below are written once against drizzle's Postgres types. The SQLite db and
 * table are passed in under those types: the builder methods used here (select, insert,
 * onConflictDoUpdate, where, groupBy, orderBy) exist with the same names and meaning on
 * both, SQL is rendered by the db's own dialect, and schema/index.ts checks at compile
 * time that both tables infer the same row types. The SQLite half of the test suite runs
 * every query.
 */
type Db = NodePgDatabase;
type Runs = typeof pgSchema.runs;
type Records = typeof pgSchema.records;

type CompactPoint = [number, number, number | null, number];

const warnedTampered = new Set<string>();

/**
 * A stored record as read back: parsed by the one schema and its content hash recomputed, so
 * a row edited in the database (quality, provenance of figures, anything) is refused, not shown.
 */
function checkedRecord(text: string): { record: RunRecord } | { tampered: string } {
  const record = runRecord.parse(JSON.parse(text));
  const hash = contentHashOf(record);
  if (hash !== record.contentHash) {
    return {
      tampered: `run ${record.id}: the stored record does not match its content hash (${hash.slice(0, 12)}… ≠ ${record.contentHash.slice(0, 12)}…): it was edited in the database — re-ingest its record file`,
    };
  }
  return { record };
}

/**
 * The compact curve column is written only by rowOf from a validated record; a cheap
 * structural check (zod here cost more than the query itself at 10,000 runs) still
 * refuses a row that is not what rowOf writes.
 */
function parseCompactCurve(text: string, id: string): CompactPoint[] {
  const v: unknown = JSON.parse(text);
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (
    Array.isArray(v) &&
    v.every((p) => Array.isArray(p) && p.length === 4 && num(p[0]) && num(p[1]) && (p[2] === null || num(p[2])) && num(p[3]))
  ) {
    return v as CompactPoint[];
  }
  throw new Error(`run ${id}: the stored curve is malformed; re-ingest its record file`);
}

/** The indexed columns of a record (exported for the migration tests). */
export function rowOf(r: RunRecord): NewRunRow {
  const fin = r.status === 'completed' ? r.final : null;
  const leg = r.final?.legibility;
  const layers = leg?.routing ?? [];
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return {
    id: r.id,
    key: r.key,
    contentHash: r.contentHash,
    status: r.status,
    task: r.task.id,
    tier: r.task.tier,
    seed: r.task.seed,
    architecture: r.architecture.name,
    family: r.architecture.family,
    description: r.architecture.description,
    sourceHash: r.architecture.sourceHash,
    hardwareClass: r.hardwareClass,
    metricName: r.task.metric.name,
    metricUnit: r.task.metric.unit,
    higherIsBetter: r.task.metric.higherIsBetter,
    quality: fin ? fin.quality : null,
    executedFlops: r.flops.executed,
    modelFlops: r.flops.model,
    wallSeconds: r.training.wallSeconds,
    energyJoules: r.energy.measured ? r.energy.grossJoules : null,
    energyNote: r.energy.measured ? null : r.energy.reason,
    paramsTotal: r.params.total,
    paramsActive: r.params.active,
    nmi: avg(layers.map((l) => l.nmi)),
    effectiveExperts: avg(layers.map((l) => l.effectiveExperts)),
    activationSparsity: leg?.activationSparsity ?? null,
    updateDensity: leg?.updateDensity ?? null,
    curve: JSON.stringify(r.curve.map((p) => [p.flops, p.seconds, p.joules, p.quality])),
    // normalised so that text order is time order on both databases
    startedAt: new Date(r.startedAt).toISOString(),
    harnessVersion: r.harnessVersion,
    ingestedAt: new Date().toISOString(),
  };
}

function summaryOf(
  r: Pick<
    RunRow,
    | 'id'
    | 'architecture'
    | 'family'
    | 'task'
    | 'tier'
    | 'seed'
    | 'status'
    | 'quality'
    | 'executedFlops'
    | 'wallSeconds'
    | 'energyJoules'
    | 'hardwareClass'
    | 'startedAt'
    | 'harnessVersion'
    | 'provenance'
  >,
): RunSummary {
  return {
    id: r.id,
    architecture: r.architecture,
    family: r.family,
    task: r.task,
    tier: r.tier,
    seed: r.seed,
    status: r.status,
    quality: r.quality,
    executedFlops: r.executedFlops,
    wallSeconds: r.wallSeconds,
    energyJoules: r.energyJoules,
    hardwareClass: r.hardwareClass,
    startedAt: r.startedAt,
    harnessVersion: r.harnessVersion,
    provenance: r.provenance,
  };
}

class ReadonlyStoreError extends Error {
  constructor() {
    super('this store was opened read-only; open it without { readonly: true } to ingest');
    this.name = 'ReadonlyStoreError';
  }
}

class DrizzleStore implements Store {
  /**
   * Aggregates computed since the store last changed. The version (row count, latest
   * ingest time) is one indexed query, so a reader such as the site still sees a suite's
   * new runs on the next request while repeat renders skip the aggregation.
   */
  private cache = {
    version: '',
    leaderboards: new Map<string, LeaderboardRow[]>(),
    records: new Map<string, readonly RunRecord[]>(),
    facets: null as Facets | null,
  };

  private async fresh(): Promise<typeof this.cache> {
    const { t, db } = this;
    const [v] = await db.select({ n: count(), at: max(t.ingestedAt) }).from(t);
    const version = `${v?.n ?? 0}|${v?.at ?? ''}`;
    if (version !== this.cache.version) this.cache = { version, leaderboards: new Map(), records: new Map(), facets: null };
    return this.cache;
  }

  constructor(
    readonly kind: 'sqlite' | 'postgres',
    private readonly db: Db,
    private readonly t: Runs,
    private readonly rec: Records,
    private readonly readonly: boolean,
    private readonly closeFn: () => Promise<void>,
  ) {}

  async ingest(input: RunRecord, opts: IngestOptions = {}): Promise<IngestOutcome> {
    if (this.readonly) throw new ReadonlyStoreError();
    // zod at the boundary: the caller's object may have been built or mutated by hand
    const record = runRecord.parse(input);
    const hash = contentHashOf(record);
    if (hash !== record.contentHash) {
      throw new Error(`record ${record.id}: contentHash does not match its content (expected ${hash.slice(0, 12)}…)`);
    }
    const { t, db } = this;
    const provenance = opts.provenance ?? 'local';
    const same = await db.select({ id: t.id, provenance: t.provenance }).from(t).where(eq(t.contentHash, hash)).limit(1);
    if (same[0]) {
      if (same[0].provenance === provenance) return 'unchanged';
      // the same record, now listed (or no longer listed) as published: the row follows
      this.cache.version = '';
      await db.update(t).set({ provenance, ingestedAt: new Date().toISOString() }).where(eq(t.id, same[0].id));
      return 'replaced';
    }
    const previous = await db.select({ id: t.id }).from(t).where(eq(t.id, record.id)).limit(1);
    const row = { ...rowOf(record), provenance };
    const { id: _id, ...update } = row;
    const text = JSON.stringify(record);
    this.cache.version = ''; // this process's own writes invalidate at once
    try {
      // same id, new content: the record file is the source of truth, so the rows follow it.
      // The record goes first: were the second write to fail, the run is not yet listed and
      // the next ingest of the file finishes the job.
      await db
        .insert(this.rec)
        .values({ id: record.id, record: text })
        .onConflictDoUpdate({ target: this.rec.id, set: { record: text } });
      await db.insert(t).values(row).onConflictDoUpdate({ target: t.id, set: update });
    } catch (e) {
      // a concurrent writer inserted the same content between the check and the insert
      const again = await db.select({ id: t.id }).from(t).where(eq(t.contentHash, hash)).limit(1);
      if (again.length > 0) return 'unchanged';
      throw e;
    }
    return previous.length > 0 ? 'replaced' : 'inserted';
  }

  async facets(): Promise<Facets> {
    const cache = await this.fresh();
    cache.facets ??= await this.computeFacets();
    return structuredClone(cache.facets);
  }

  private async computeFacets(): Promise<Facets> {
    const { t, db } = this;
    const slices = await db
      .select({ task: t.task, tier: t.tier, hardwareClass: t.hardwareClass, runs: count() })
      .from(t)
      .groupBy(t.task, t.tier, t.hardwareClass)
      .orderBy(asc(t.task), asc(t.tier), asc(t.hardwareClass));
    const metricRows = await db
      .select({
        task: t.task,
        name: t.metricName,
        unit: t.metricUnit,
        higherIsBetter: t.higherIsBetter,
        latest: max(t.startedAt),
      })
      .from(t)
      .groupBy(t.task, t.metricName, t.metricUnit, t.higherIsBetter)
      .orderBy(asc(max(t.startedAt)));
    const metrics: Record<string, QualityMetric> = {};
    // ascending by recency, so where a task's metric changed, the latest wins
    for (const m of metricRows) metrics[m.task] = { name: m.name, unit: m.unit, higherIsBetter: m.higherIsBetter };
    const present = new Set((await db.selectDistinct({ p: t.provenance }).from(t)).map((r) => r.p));
    const uniq = <T>(xs: T[]) => [...new Set(xs)];
    return {
      tasks: uniq(slices.map((s) => s.task)).sort(),
      tiers: TIERS.filter((tier) => slices.some((s) => s.tier === tier)),
      hardwareClasses: uniq(slices.map((s) => s.hardwareClass)).sort(),
      metrics,
      slices,
      provenances: PROVENANCE.filter((p) => present.has(p)),
    };
  }

  private async sliceRuns(where: SQL | undefined): Promise<SliceRun[]> {
    const { t, db } = this;
    const rows = await db
      .select({
        id: t.id,
        key: t.key,
        status: t.status,
        task: t.task,
        architecture: t.architecture,
        family: t.family,
        description: t.description,
        sourceHash: t.sourceHash,
        higherIsBetter: t.higherIsBetter,
        metricName: t.metricName,
        metricUnit: t.metricUnit,
        quality: t.quality,
        executedFlops: t.executedFlops,
        modelFlops: t.modelFlops,
        wallSeconds: t.wallSeconds,
        energyJoules: t.energyJoules,
        energyNote: t.energyNote,
        paramsTotal: t.paramsTotal,
        paramsActive: t.paramsActive,
        nmi: t.nmi,
        effectiveExperts: t.effectiveExperts,
        activationSparsity: t.activationSparsity,
        updateDensity: t.updateDensity,
        curve: t.curve,
        startedAt: t.startedAt,
        provenance: t.provenance,
      })
      .from(t)
      .where(where);
    return rows.map((r) => {
      // only completed runs count, so only their curves are read
      const points = r.status === 'completed' ? parseCompactCurve(r.curve, r.id) : [];
      return {
        ...r,
        curve: points.map(([flops, seconds, joules, quality]) => ({ flops, seconds, joules, quality })),
      };
    });
  }

  async leaderboard(filter: LeaderboardFilter): Promise<LeaderboardRow[]> {
    const cache = await this.fresh();
    const key = JSON.stringify([filter.task, filter.tier, filter.hardwareClass, filter.provenance ?? null]);
    let rows = cache.leaderboards.get(key);
    if (!rows) {
      rows = await this.computeLeaderboard(filter);
      cache.leaderboards.set(key, rows);
    }
    // a copy: a caller that sorts or edits its rows must not change the next caller's
    return structuredClone(rows);
  }

  private async computeLeaderboard(filter: LeaderboardFilter): Promise<LeaderboardRow[]> {
    const { t } = this;
    const base = and(
      eq(t.tier, filter.tier),
      eq(t.hardwareClass, filter.hardwareClass),
      filter.provenance ? inArray(t.provenance, [...filter.provenance]) : undefined,
    );
    if (filter.task !== 'all') return aggregateTask(await this.sliceRuns(and(base, eq(t.task, filter.task))));
    return aggregateAll(await this.sliceRuns(base));
  }

  async run(id: string): Promise<RunRecord | null> {
    const { rec, db } = this;
    const rows = await db.select({ record: rec.record }).from(rec).where(eq(rec.id, id)).limit(1);
    const row = rows[0];
    // validated and hash-checked on the way out too: the row could have been written by an older harness, or edited in the database
    if (!row) return null;
    const checked = checkedRecord(row.record);
    if ('tampered' in checked) throw new Error(checked.tampered);
    return checked.record;
  }

  async records(filter: LeaderboardFilter, opts: { incomplete?: boolean } = {}): Promise<readonly RunRecord[]> {
    const cache = await this.fresh();
    const incomplete = opts.incomplete ?? false;
    const key = JSON.stringify([filter.task, filter.tier, filter.hardwareClass, filter.provenance ?? null, incomplete]);
    const hit = cache.records.get(key);
    if (hit) return hit;
    const { t, rec, db } = this;
    const rows = await db
      .select({ record: rec.record })
      .from(t)
      .innerJoin(rec, eq(rec.id, t.id))
      .where(
        and(
          eq(t.tier, filter.tier),
          eq(t.hardwareClass, filter.hardwareClass),
          incomplete ? undefined : eq(t.status, 'completed'),
          filter.task === 'all' ? undefined : eq(t.task, filter.task),
          filter.provenance ? inArray(t.provenance, [...filter.provenance]) : undefined,
        ),
      )
      .orderBy(asc(t.id));
    // validated on the way out, as run() does; frozen because every caller shares the array
    const out = Object.freeze(
      rows.flatMap((r) => {
        const checked = checkedRecord(r.record);
        if ('tampered' in checked) {
          // an edited row is left out of every page, and said once
          if (!warnedTampered.has(checked.tampered)) process.stderr.write(`warning: ${checked.tampered}\n`);
          warnedTampered.add(checked.tampered);
          return [];
        }
        const rec = checked.record;
        // the curve too: readers memoise what they compute from a frozen record's curve (cost-to-target)
        for (const p of rec.curve) Object.freeze(p);
        Object.freeze(rec.curve);
        return [Object.freeze(rec)];
      }),
    );
    cache.records.set(key, out);
    return out;
  }

  async provenance(id: string): Promise<Provenance | null> {
    const { t, db } = this;
    const rows = await db.select({ p: t.provenance }).from(t).where(eq(t.id, id)).limit(1);
    return rows[0]?.p ?? null;
  }

  async settledKeys(keys: readonly string[]): Promise<Map<string, string>> {
    const { t, db } = this;
    const found = new Map<string, string>();
    // in slices: a parameter list has limits (SQLite: 32,766)
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await db
        .select({ key: t.key, id: t.id })
        .from(t)
        .where(and(inArray(t.key, keys.slice(i, i + 500)), ne(t.status, 'failed')))
        .orderBy(asc(t.startedAt));
      for (const r of rows) if (!found.has(r.key)) found.set(r.key, r.id);
    }
    return found;
  }

  private summaryColumns() {
    const { t } = this;
    return {
      id: t.id,
      architecture: t.architecture,
      family: t.family,
      task: t.task,
      tier: t.tier,
      seed: t.seed,
      status: t.status,
      quality: t.quality,
      executedFlops: t.executedFlops,
      wallSeconds: t.wallSeconds,
      energyJoules: t.energyJoules,
      hardwareClass: t.hardwareClass,
      startedAt: t.startedAt,
      harnessVersion: t.harnessVersion,
      provenance: t.provenance,
    };
  }

  async runs(filter: RunFilter = {}): Promise<RunSummary[]> {
    const { t, db } = this;
    const conds = [
      filter.architecture !== undefined ? eq(t.architecture, filter.architecture) : undefined,
      filter.task !== undefined ? eq(t.task, filter.task) : undefined,
      filter.tier !== undefined ? eq(t.tier, filter.tier) : undefined,
      filter.hardwareClass !== undefined ? eq(t.hardwareClass, filter.hardwareClass) : undefined,
      filter.provenance !== undefined ? inArray(t.provenance, [...filter.provenance]) : undefined,
    ];
    const rows = await db
      .select(this.summaryColumns())
      .from(t)
      .where(and(...conds))
      .orderBy(desc(t.startedAt), asc(t.id));
    return rows.map(summaryOf);
  }

  async architectures(): Promise<ArchitectureSummary[]> {
    const { t, db } = this;
    const groups = await db
      .select({ name: t.architecture, runs: count(), latest: max(t.startedAt) })
      .from(t)
      .groupBy(t.architecture)
      .orderBy(asc(t.architecture));
    const out: ArchitectureSummary[] = [];
    for (const g of groups) {
      const latest = await db
        .select({ family: t.family, description: t.description })
        .from(t)
        .where(eq(t.architecture, g.name))
        .orderBy(desc(t.startedAt))
        .limit(1);
      const l = latest[0];
      if (l) out.push({ name: g.name, family: l.family, description: l.description, runs: g.runs });
    }
    return out;
  }

  async architecture(name: string): Promise<ArchitectureDetail | null> {
    const { t, db } = this;
    const latest = await db.select({ id: t.id }).from(t).where(eq(t.architecture, name)).orderBy(desc(t.startedAt), desc(t.id)).limit(1);
    const latestId = latest[0]?.id;
    const record = latestId === undefined ? null : await this.run(latestId);
    if (!record) return null;
    const arch = record.architecture;
    const sources = await db
      .select({
        sourceHash: t.sourceHash,
        runs: count(),
        firstStartedAt: min(t.startedAt),
        lastStartedAt: max(t.startedAt),
      })
      .from(t)
      .where(eq(t.architecture, name))
      .groupBy(t.sourceHash)
      .orderBy(desc(max(t.startedAt)));
    return {
      name: arch.name,
      family: arch.family,
      description: arch.description,
      reference: arch.reference,
      origin: arch.origin,
      hyperparameters: arch.hyperparameters,
      sources: sources.map((s) => ({
        sourceHash: s.sourceHash,
        runs: s.runs,
        firstStartedAt: s.firstStartedAt ?? '',
        lastStartedAt: s.lastStartedAt ?? '',
      })),
      runs: await this.runs({ architecture: name }),
    };
  }

  async compare(a: string, b: string, filter: { tier: TierName; hardwareClass: string }): Promise<CompareRow[]> {
    const { t, db } = this;
    const tasks = await db
      .selectDistinct({ task: t.task })
      .from(t)
      .where(and(eq(t.tier, filter.tier), eq(t.hardwareClass, filter.hardwareClass), inArray(t.architecture, [a, b])))
      .orderBy(asc(t.task));
    const metrics = (await this.facets()).metrics;
    const out: CompareRow[] = [];
    for (const { task } of tasks) {
      const rows = await this.leaderboard({ task, tier: filter.tier, hardwareClass: filter.hardwareClass });
      const metric = metrics[task];
      if (!metric) continue;
      out.push({
        task,
        metric,
        a: rows.find((r) => r.architecture === a) ?? null,
        b: rows.find((r) => r.architecture === b) ?? null,
      });
    }
    return out;
  }

  close(): Promise<void> {
    return this.closeFn();
  }
}

async function openSqlite(path: string, ro: boolean): Promise<Store> {
  const abs = resolve(path);
  if (ro && !existsSync(abs)) throw new Error(`no store at ${abs}: run \`npx middlepath run\` or \`npx middlepath ingest\` first`);
  if (!ro) mkdirSync(dirname(abs), { recursive: true });
  const client = new Database(abs, ro ? { readonly: true, fileMustExist: true } : {});
  try {
    client.pragma('busy_timeout = 5000'); // a reader waits for a writer's checkpoint instead of failing
    if (!ro) {
      client.pragma('journal_mode = WAL'); // readers (the site) never block the writer (the suite)
      client.pragma('synchronous = NORMAL'); // durable in WAL mode, far fewer fsyncs
    }
    const db = drizzleSqlite({ client });
    if (!ro) migrateSqlite(db, { migrationsFolder: MIGRATIONS.sqlite });
    else {
      const has = client.prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'").get();
      const applied = has
        ? (client.prepare('select max(created_at) as m from __drizzle_migrations').get() as { m: number | null }).m
        : null;
      requireCurrentSchema(applied, NEWEST_MIGRATION.sqlite, `the store at ${abs}`);
    }
    const t = sqliteSchema.runs as unknown as Runs;
    const rec = sqliteSchema.records as unknown as Records;
    return new DrizzleStore('sqlite', db as unknown as Db, t, rec, ro, async () => {
      client.close();
    });
  } catch (e) {
    client.close();
    throw e;
  }
}

async function openPostgres(url: string, ro: boolean): Promise<Store> {
  // Read-only at the server too: the connection starts with every transaction read-only
  // (a startup option, added to any the URL already carries, such as a search_path).
  let connectionString = url;
  if (ro) {
    const u = new URL(url);
    const existing = u.searchParams.get('options');
    u.searchParams.set('options', `${existing ? `${existing} ` : ''}-c default_transaction_read_only=on`);
    connectionString = u.toString();
  }
  const pool = new pgLib.Pool({ connectionString, max: 4 });
  // An idle connection the server dropped (a restart) is discarded and replaced by the pool;
  // without a listener the error would end the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      const res = await client.query<{ schema: string | null }>('select current_schema() as schema');
      const schema = res.rows[0]?.schema;
      if (!schema) throw new Error('the Postgres search_path names no existing schema');
      if (!ro) {
        await client.query('select pg_advisory_lock($1)', [PG_MIGRATION_LOCK]);
        try {
          // the migrations journal lives beside the tables, so one database can hold several stores (one per schema)
          await migratePg(drizzlePg({ client }), { migrationsFolder: MIGRATIONS.pg, migrationsSchema: schema });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [PG_MIGRATION_LOCK]);
        }
      } else {
        const table = `${client.escapeIdentifier(schema)}.__drizzle_migrations`;
        const exists = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
        const applied = exists.rows[0]?.t
          ? (await client.query<{ m: string | null }>(`select max(created_at)::text as m from ${table}`)).rows[0]?.m
          : null;
        requireCurrentSchema(applied == null ? null : Number(applied), NEWEST_MIGRATION.pg, `the Postgres store (schema ${schema})`);
      }
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end();
    throw e;
  }
  const db = drizzlePg({ client: pool });
  return new DrizzleStore('postgres', db, pgSchema.runs, pgSchema.records, ro, () => pool.end());
}

/** Open (and, unless read-only, create and migrate) the store. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const ro = options.readonly ?? false;
  const url = options.url ?? (options.sqlitePath === undefined ? process.env.DATABASE_URL : undefined);
  if (url) return openPostgres(url, ro);
  return openSqlite(options.sqlitePath ?? DEFAULT_SQLITE_PATH, ro);
}
