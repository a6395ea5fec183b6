/**
 * The submission tables (submissions, upload_tokens) of the store. Their schema and
 * migrations live with the store's (harness/store/schema, migrations 0003); this module
 * is their only reader and writer. It opens its own connection to the same database as
 * openStore would (same rule: DATABASE_URL → Postgres, else the SQLite file), after
 * openStore has migrated it (writable) or checked that it is current (read-only).
 *
 * Queries are written once against drizzle's Postgres types, as in harness/store/index.ts:
 * the SQLite tables infer the same row types (checked in schema/index.ts).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pgLib from 'pg';
import { z } from 'zod';
import { sha256 } from '../results/files.ts';
import { DEFAULT_SQLITE_PATH, type OpenStoreOptions, openStore } from '../store/index.ts';
import { pg as pgSchema, sqlite as sqliteSchema } from '../store/schema/index.ts';
import { type Bundle, type ClaimEntry, claimEntry } from './bundle.ts';

export type SubmissionStatus = 'pending' | 'verified' | 'rejected';

/** What `verify` found, kept with the submission (the variant seed itself is not: it is the maintainer's secret). */
export const verification = z.object({
  verifiedAt: z.iso.datetime(),
  status: z.enum(['verified', 'rejected']),
  /** true when the tasks' data were regenerated from a held-out seed */
  variant: z.boolean(),
  /**
   * first 12 hex digits of SHA-256 of the variant seed: re-runs on the same variant are
   * recognisable while the seed stays unpublished (pick seeds from a large range: a small
   * one could be found by trying every value)
   */
  variantTag: z.string().nullable(),
  backend: z.string().nullable(),
  hardwareClass: z.string().nullable(),
  seconds: z.number(),
  tasks: z.array(
    z.object({
      task: z.string(),
      claim: z.object({ mean: z.number().nullable(), n: z.number().int() }),
      accept: z.object({ lo: z.number(), hi: z.number(), basis: z.string() }).nullable(),
      reruns: z.array(z.object({ seed: z.number().int(), status: z.string(), quality: z.number().nullable(), within: z.boolean() })),
    }),
  ),
});
export type Verification = z.infer<typeof verification>;

export interface SubmissionSummary {
  id: string;
  name: string;
  family: string;
  tier: string;
  hardwareClass: string;
  bundleHash: string;
  status: SubmissionStatus;
  reason: string | null;
  claim: ClaimEntry[];
  uploadedBy: string | null;
  verification: Verification | null;
  createdAt: string;
  updatedAt: string;
}

export interface TokenSummary {
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SubmissionDb {
  readonly kind: 'sqlite' | 'postgres';
  /** a new token for NAME; the token is returned once and only its SHA-256 is stored */
  createToken(name: string): Promise<{ name: string; token: string }>;
  listTokens(): Promise<TokenSummary[]>;
  /** false when there is no live token of that name */
  revokeToken(name: string): Promise<boolean>;
  /** the token whose SHA-256 this is, revoked or not */
  tokenByHash(tokenHash: string): Promise<TokenSummary | null>;
  findByBundleHash(bundleHash: string): Promise<{ id: string; status: SubmissionStatus } | null>;
  /** stores a checked bundle as pending; idempotent on the bundle hash (created false: it was there) */
  insertSubmission(bundle: Bundle, uploadedBy: string | null): Promise<{ id: string; status: SubmissionStatus; created: boolean }>;
  listSubmissions(): Promise<SubmissionSummary[]>;
  /** by id or by bundle hash; with the upload document as stored */
  getSubmission(idOrHash: string): Promise<(SubmissionSummary & { document: unknown }) | null>;
  setVerdict(id: string, verdict: { status: 'verified' | 'rejected'; reason: string; verification: Verification | null }): Promise<void>;
  close(): Promise<void>;
}

export const TOKEN_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function hashToken(token: string): string {
  return sha256(token);
}

/** A submission's id: its name and the first 12 hex digits of its bundle hash (readable, URL-safe, stable). */
export function submissionId(name: string, bundleHash: string): string {
  return `${name}-${bundleHash.slice(0, 12)}`;
}

type Db = NodePgDatabase;
type Tables = { submissions: typeof pgSchema.submissions; tokens: typeof pgSchema.uploadTokens };

const claimList = z.array(claimEntry);

class DrizzleSubmissionDb implements SubmissionDb {
  constructor(
    readonly kind: 'sqlite' | 'postgres',
    private readonly db: Db,
    private readonly t: Tables,
    private readonly closeFn: () => Promise<void>,
  ) {}

  async createToken(name: string) {
    if (!TOKEN_NAME.test(name))
      throw new Error(`token name '${name}' must be lower-case letters, digits, dots, dashes or underscores (at most 63)`);
    const tokens = this.t.tokens;
    const existing = await this.db.select({ name: tokens.name }).from(tokens).where(eq(tokens.name, name)).limit(1);
    if (existing.length) throw new Error(`a token named '${name}' exists already (revoked tokens keep their name): choose another name`);
    const token = `mpt_${randomBytes(32).toString('base64url')}`;
    await this.db.insert(tokens).values({ name, tokenHash: hashToken(token), createdAt: new Date().toISOString(), revokedAt: null });
    return { name, token };
  }

  async listTokens() {
    const tokens = this.t.tokens;
    return this.db
      .select({ name: tokens.name, createdAt: tokens.createdAt, revokedAt: tokens.revokedAt })
      .from(tokens)
      .orderBy(tokens.createdAt);
  }

  async revokeToken(name: string) {
    const tokens = this.t.tokens;
    const live = await this.db
      .select({ name: tokens.name })
      .from(tokens)
      .where(and(eq(tokens.name, name), isNull(tokens.revokedAt)))
      .limit(1);
    if (!live.length) return false;
    await this.db.update(tokens).set({ revokedAt: new Date().toISOString() }).where(eq(tokens.name, name));
    return true;
  }

  async tokenByHash(tokenHash: string) {
    const tokens = this.t.tokens;
    const rows = await this.db
      .select({ name: tokens.name, createdAt: tokens.createdAt, revokedAt: tokens.revokedAt })
      .from(tokens)
      .where(eq(tokens.tokenHash, tokenHash))
      .limit(1);
    return rows[0] ?? null;
  }

  async findByBundleHash(bundleHash: string) {
    const s = this.t.submissions;
    const rows = await this.db.select({ id: s.id, status: s.status }).from(s).where(eq(s.bundleHash, bundleHash)).limit(1);
    return rows[0] ?? null;
  }

  async insertSubmission(bundle: Bundle, uploadedBy: string | null) {
    const s = this.t.submissions;
    const before = await this.findByBundleHash(bundle.bundleHash);
    if (before) return { ...before, created: false };
    const m = bundle.manifest;
    const now = new Date().toISOString();
    const id = submissionId(m.name, bundle.bundleHash);
    // the document as checked (not the raw body): exactly what verify will re-check and re-run
    const document = JSON.stringify({
      bundleHash: bundle.bundleHash,
      manifest: m,
      module: { source: bundle.source },
      records: bundle.records,
    });
    try {
      await this.db.insert(s).values({
        id,
        name: m.name,
        family: m.family,
        tier: m.tier,
        hardwareClass: m.hardwareClass,
        bundleHash: bundle.bundleHash,
        status: 'pending',
        reason: null,
        claim: JSON.stringify(m.claim),
        bundle: document,
        uploadedBy,
        verification: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (e) {
      // the same bundle, uploaded concurrently, won the race: that is the same submission
      const again = await this.findByBundleHash(bundle.bundleHash);
      if (again) return { ...again, created: false };
      throw e;
    }
    return { id, status: 'pending' as const, created: true };
  }

  private summaryColumns() {
    const s = this.t.submissions;
    return {
      id: s.id,
      name: s.name,
      family: s.family,
      tier: s.tier,
      hardwareClass: s.hardwareClass,
      bundleHash: s.bundleHash,
      status: s.status,
      reason: s.reason,
      claim: s.claim,
      uploadedBy: s.uploadedBy,
      verification: s.verification,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
  }

  private summaryOf(r: {
    id: string;
    name: string;
    family: string;
    tier: string;
    hardwareClass: string;
    bundleHash: string;
    status: SubmissionStatus;
    reason: string | null;
    claim: string;
    uploadedBy: string | null;
    verification: string | null;
    createdAt: string;
    updatedAt: string;
  }): SubmissionSummary {
    // validated on the way out: the columns are JSON text
    return {
      ...r,
      claim: claimList.parse(JSON.parse(r.claim)),
      verification: r.verification === null ? null : verification.parse(JSON.parse(r.verification)),
    };
  }

  async listSubmissions() {
    const s = this.t.submissions;
    const rows = await this.db.select(this.summaryColumns()).from(s).orderBy(desc(s.createdAt), s.id);
    return rows.map((r) => this.summaryOf(r));
  }

  async getSubmission(idOrHash: string) {
    const s = this.t.submissions;
    const col = /^[0-9a-f]{64}$/.test(idOrHash) ? s.bundleHash : s.id;
    const rows = await this.db
      .select({ ...this.summaryColumns(), bundle: s.bundle })
      .from(s)
      .where(eq(col, idOrHash))
      .limit(1);
    const row = rows[0];
    if (!row) return null;
    const { bundle, ...rest } = row;
    return { ...this.summaryOf(rest), document: JSON.parse(bundle) as unknown };
  }

  async setVerdict(id: string, v: { status: 'verified' | 'rejected'; reason: string; verification: Verification | null }) {
    const s = this.t.submissions;
    await this.db
      .update(s)
      .set({
        status: v.status,
        reason: v.reason,
        verification: v.verification ? JSON.stringify(v.verification) : null,
        updatedAt: new Date().toISOString(),
      })
      .where(eq(s.id, id));
  }

  close() {
    return this.closeFn();
  }
}

/**
 * Open the submission tables. Writable opens migrate first (through openStore); read-only
 * ones (the site's pages) refuse an outdated schema the same way openStore does.
 */
export async function openSubmissionDb(options: OpenStoreOptions = {}): Promise<SubmissionDb> {
  const ro = options.readonly ?? false;
  const check = await openStore(options);
  await check.close();
  const url = options.url ?? (options.sqlitePath === undefined ? process.env.DATABASE_URL : undefined);
  if (url) {
    let connectionString = url;
    if (ro) {
      const u = new URL(url);
      const existing = u.searchParams.get('options');
      u.searchParams.set('options', `${existing ? `${existing} ` : ''}-c default_transaction_read_only=on`);
      connectionString = u.toString();
    }
    const pool = new pgLib.Pool({ connectionString, max: 2 });
    return new DrizzleSubmissionDb(
      'postgres',
      drizzlePg({ client: pool }),
      { submissions: pgSchema.submissions, tokens: pgSchema.uploadTokens },
      () => pool.end(),
    );
  }
  const client = new Database(resolve(options.sqlitePath ?? DEFAULT_SQLITE_PATH), ro ? { readonly: true, fileMustExist: true } : {});
  client.pragma('busy_timeout = 5000');
  const tables = {
    submissions: sqliteSchema.submissions as unknown as Tables['submissions'],
    tokens: sqliteSchema.uploadTokens as unknown as Tables['tokens'],
  };
  return new DrizzleSubmissionDb('sqlite', drizzleSqlite({ client }) as unknown as Db, tables, async () => {
    client.close();
  });
}
