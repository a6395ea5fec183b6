/**
 * The store's schema on PostgreSQL: the same logical schema as schema/sqlite.ts (see
 * there), with Postgres column types. Tables are created unqualified, so they land in
 * the connection's search_path (tests use a fresh schema per file).
 */
import { bigint, boolean, doublePrecision, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { PROVENANCE } from '../../results/provenance.ts';
import { TIERS } from '../../results/record.ts';

const STATUS = ['completed', 'diverged', 'timeout', 'failed', 'refused'] as const;
const TIER = TIERS;
const FAMILY = ['dense', 'moe', 'hybrid', 'other'] as const;

export const runs = pgTable(
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
    higherIsBetter: boolean('higher_is_better').notNull(),
    quality: doublePrecision('quality'),
    executedFlops: doublePrecision('executed_flops').notNull(),
    modelFlops: doublePrecision('model_flops').notNull(),
    wallSeconds: doublePrecision('wall_seconds').notNull(),
    energyJoules: doublePrecision('energy_joules'),
    energyNote: text('energy_note'),
    paramsTotal: bigint('params_total', { mode: 'number' }).notNull(),
    paramsActive: bigint('params_active', { mode: 'number' }).notNull(),
    nmi: doublePrecision('nmi'),
    effectiveExperts: doublePrecision('effective_experts'),
    activationSparsity: doublePrecision('activation_sparsity'),
    updateDensity: doublePrecision('update_density'),
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

export const records = pgTable('records', {
  id: text('id').primaryKey(),
  /** text, not jsonb: jsonb would reorder keys and renormalise numbers; text round-trips exactly */
  record: text('record').notNull(),
});

const SUBMISSION_STATUS = ['pending', 'verified', 'rejected'] as const;

/** Uploaded submission bundles; see schema/sqlite.ts. */
export const submissions = pgTable(
  'submissions',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    family: text('family', { enum: FAMILY }).notNull(),
    tier: text('tier', { enum: TIER }).notNull(),
    hardwareClass: text('hardware_class').notNull(),
    bundleHash: text('bundle_hash').notNull(),
    status: text('status', { enum: SUBMISSION_STATUS }).notNull(),
    reason: text('reason'),
    claim: text('claim').notNull(),
    bundle: text('bundle').notNull(),
    uploadedBy: text('uploaded_by'),
    verification: text('verification'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('submissions_bundle_hash_unique').on(t.bundleHash), index('submissions_created_idx').on(t.createdAt)],
);

/** Upload tokens: only the SHA-256 of each token is kept. */
export const uploadTokens = pgTable(
  'upload_tokens',
  {
    name: text('name').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('upload_tokens_hash_unique').on(t.tokenHash)],
);
