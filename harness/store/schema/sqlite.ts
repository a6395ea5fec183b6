/**
 * The store's schema on SQLite. One logical schema with schema/pg.ts: same tables, same
 * columns, same TypeScript row types (checked in schema/index.ts). Change both together,
 * then `npx drizzle-kit generate --config harness/store/drizzle.config.sqlite.ts` (and pg)
 * and update schema/version.ts (schema.test.ts says to).
 *
 * `runs` holds what the leaderboard filters, groups and aggregates on, so it never has to
 * parse a record; `records` holds each full record as JSON text (the run page's source).
 * They are apart so that runs rows stay small: a 6 KB record inline spills every row onto
 * overflow pages and made the leaderboard's index scan several times slower.
 */
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { PROVENANCE } from '../../results/provenance.ts';
import { TIERS } from '../../results/record.ts';

const STATUS = ['completed', 'diverged', 'timeout', 'failed', 'refused'] as const;
const TIER = TIERS;
const FAMILY = ['dense', 'moe', 'hybrid', 'other'] as const;

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    key: text('key').notNull(),
    contentHash: text('content_hash').notNull(),
    status: text('status', { enum: STATUS }).notNull(),
    task: text('task').notNull(),
    tier: text('tier', { enum: TIER }).notNull(),
    seed: integer('seed').notNull(),
    architecture: text('architecture').notNull(),
    family: text('family', { enum: FAMILY }).notNull(),
    description: text('description').notNull(),
    sourceHash: text('source_hash').notNull(),
    hardwareClass: text('hardware_class').notNull(),
    metricName: text('metric_name').notNull(),
    metricUnit: text('metric_unit').notNull(),
    higherIsBetter: integer('higher_is_better', { mode: 'boolean' }).notNull(),
    /** final quality; null unless the run completed */
    quality: real('quality'),
    executedFlops: real('executed_flops').notNull(),
    modelFlops: real('model_flops').notNull(),
    wallSeconds: real('wall_seconds').notNull(),
    /** gross joules; null when energy was not measured (energy_note says why) */
    energyJoules: real('energy_joules'),
    energyNote: text('energy_note'),
    paramsTotal: integer('params_total').notNull(),
    paramsActive: integer('params_active').notNull(),
    nmi: real('nmi'),
    effectiveExperts: real('effective_experts'),
    activationSparsity: real('activation_sparsity'),
    updateDensity: real('update_density'),
    /** compact eval curve, JSON [[flops, seconds, joules|null, quality], ...], for the multiplier */
    curve: text('curve').notNull(),
    startedAt: text('started_at').notNull(),
    harnessVersion: text('harness_version').notNull(),
    /** where the record came from (results/provenance.ts); the published manifest decides baseline vs local */
    provenance: text('provenance', { enum: PROVENANCE }).notNull().default('local'),
    ingestedAt: text('ingested_at').notNull(),
  },
  (t) => [
    uniqueIndex('runs_content_hash_unique').on(t.contentHash),
    index('runs_slice_idx').on(t.tier, t.hardwareClass, t.task, t.status),
    index('runs_architecture_idx').on(t.architecture, t.startedAt),
    index('runs_key_idx').on(t.key),
    // count and max(ingested_at) are the store's version: readers cache aggregates until it moves
    index('runs_ingested_idx').on(t.ingestedAt),
  ],
);

export const records = sqliteTable('records', {
  id: text('id').primaryKey(),
  record: text('record').notNull(),
});

const SUBMISSION_STATUS = ['pending', 'verified', 'rejected'] as const;

/**
 * Uploaded submission bundles (harness/submit). `bundle` is the checked upload document as
 * JSON text, which `middlepath verify` re-runs; `claim` its per-task claim, for listing.
 */
export const submissions = sqliteTable(
  'submissions',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    family: text('family', { enum: FAMILY }).notNull(),
    tier: text('tier', { enum: TIER }).notNull(),
    hardwareClass: text('hardware_class').notNull(),
    bundleHash: text('bundle_hash').notNull(),
    status: text('status', { enum: SUBMISSION_STATUS }).notNull(),
    /** why it was rejected, or what verification found */
    reason: text('reason'),
    /** JSON: the manifest's claim, per task */
    claim: text('claim').notNull(),
    bundle: text('bundle').notNull(),
    /** the upload token's name */
    uploadedBy: text('uploaded_by'),
    /** JSON: the last verification's figures */
    verification: text('verification'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('submissions_bundle_hash_unique').on(t.bundleHash), index('submissions_created_idx').on(t.createdAt)],
);

/** Upload tokens: only the SHA-256 of each token is kept; the token itself is shown once. */
export const uploadTokens = sqliteTable(
  'upload_tokens',
  {
    name: text('name').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('upload_tokens_hash_unique').on(t.tokenHash)],
);
