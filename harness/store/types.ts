/**
 * The store's public shape: what the CLI writes through and what the site reads.
 * The site imports only these types and the read functions, never tfjs.
 */
import type { Provenance } from '../results/provenance.ts';
import type { QualityMetric, RunRecord, RunStatus, TierName } from '../results/record.ts';

export type Family = 'dense' | 'moe' | 'hybrid' | 'other';

/** mean with a 95% t-interval over seeds; lo = hi = mean when n = 1 */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** The cost axes the leaderboard can plot against; each has its own Pareto frontier. */
export type CostAxis = 'executedFlops' | 'modelFlops' | 'wallSeconds' | 'energyJoules';
export const COST_AXES: readonly CostAxis[] = ['executedFlops', 'modelFlops', 'wallSeconds', 'energyJoules'];

export interface LeaderboardFilter {
  /** a task id, or 'all' for the geometric mean over tasks */
  task: string | 'all';
  tier: TierName;
  hardwareClass: string;
  /** only runs of these provenances; default every one */
  provenance?: readonly Provenance[];
}

export interface LeaderboardRow {
  architecture: string;
  family: Family;
  description: string;
  /** completed runs (seeds) behind the figures; for 'all', the fewest on any one task */
  seeds: number;
  /** completed runs behind the figures */
  runIds: string[];
  /** the provenances of those runs (one, unless the row mixes, e.g. published and local seeds) */
  provenance: Provenance[];
  /** runs of this architecture in the same slice that did not complete (not counted in any mean) */
  failedRuns: number;
  /** the task(s) this row aggregates: one, or every task it ran for 'all' */
  tasks: string[];
  /** the task's metric at budget (for 'all': null, the multiplier is the headline) */
  quality: Interval | null;
  /**
   * dense FLOPs-to-dense-final-quality ÷ this architecture's (executed FLOPs); null when no
   * dense runs or never reached. For 'all': geometric mean over tasks of the per-task
   * mean, lo and hi (a summary band, not a t-interval), n = number of tasks.
   */
  multiplier: Interval | null;
  /** why multiplier is null, when it is */
  multiplierNote: string | null;
  /** the same multiplier read on training wall seconds */
  multiplierSeconds: Interval | null;
  /** the same multiplier read on joules; null unless every run involved measured energy */
  multiplierJoules: Interval | null;
  /** for 'all': geometric means over tasks of the per-task figures */
  executedFlops: Interval;
  modelFlops: Interval;
  wallSeconds: Interval;
  /** null when any run's energy was not measured; energyNote then says why */
  energyJoules: Interval | null;
  energyNote: string | null;
  /** for 'all': the largest over tasks */
  paramsTotal: number;
  paramsActive: number;
  /** headline legibility figures at the end of training (means over seeds), null when not applicable */
  legibility: {
    nmi: number | null;
    effectiveExperts: number | null;
    activationSparsity: number | null;
    updateDensity: number | null;
  };
  /** on the Pareto frontier of (executed FLOPs, quality) — for 'all': (executed FLOPs, multiplier) */
  pareto: boolean;
  /** on the Pareto frontier for each cost axis (false on energy when energy is null) */
  paretoBy: Record<CostAxis, boolean>;
}

export interface RunSummary {
  id: string;
  architecture: string;
  family: Family;
  task: string;
  tier: TierName;
  seed: number;
  status: RunStatus;
  quality: number | null;
  executedFlops: number;
  wallSeconds: number;
  /** null when energy was not measured */
  energyJoules: number | null;
  hardwareClass: string;
  startedAt: string;
  harnessVersion: string;
  provenance: Provenance;
}

export interface Facets {
  tasks: string[];
  tiers: TierName[];
  hardwareClasses: string[];
  /** each task's metric (name, unit, direction), for axis labels */
  metrics: Record<string, QualityMetric>;
  /** the (task, tier, hardware class) slices that hold at least one run */
  slices: { task: string; tier: TierName; hardwareClass: string; runs: number }[];
  /** the provenances present, in PROVENANCE order */
  provenances: Provenance[];
}

export interface ArchitectureSummary {
  name: string;
  family: Family;
  description: string;
  runs: number;
}

export interface ArchitectureDetail {
  name: string;
  /** from the most recent run */
  family: Family;
  description: string;
  reference: string | null;
  origin: string;
  hyperparameters: Record<string, string | number | boolean>;
  /** every source hash seen under this name, most recent first */
  sources: { sourceHash: string; runs: number; firstStartedAt: string; lastStartedAt: string }[];
  /** every run, most recent first */
  runs: RunSummary[];
}

/** One task on the compare page: each side's row in that task's leaderboard, or null */
export interface CompareRow {
  task: string;
  metric: QualityMetric;
  a: LeaderboardRow | null;
  b: LeaderboardRow | null;
}

/**
 * inserted: a new run; unchanged: this content hash is already stored (with this
 * provenance); replaced: a run with this id was stored with different content (the record
 * file was rewritten) or provenance, and the row now follows the file
 */
export type IngestOutcome = 'inserted' | 'unchanged' | 'replaced';

export interface IngestOptions {
  /** default 'local': only the published manifest, verify and submit say otherwise */
  provenance?: Provenance;
}

export interface RunFilter {
  architecture?: string;
  task?: string;
  tier?: TierName;
  hardwareClass?: string;
  provenance?: readonly Provenance[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** idempotent: the same content hash is the same row */
  ingest(record: RunRecord, opts?: IngestOptions): Promise<IngestOutcome>;
  facets(): Promise<Facets>;
  leaderboard(filter: LeaderboardFilter): Promise<LeaderboardRow[]>;
  run(id: string): Promise<RunRecord | null>;
  /**
   * The full records of the completed runs in a slice (every task when task is 'all'), in
   * id order: what the curves, cost-to-target and findings are computed from. Cached until
   * the store changes and shared between callers: read-only. `incomplete`: every status
   * (the findings name architectures that were refused or failed).
   */
  records(filter: LeaderboardFilter, opts?: { incomplete?: boolean }): Promise<readonly RunRecord[]>;
  /** where the run's record came from; null for an unknown id */
  provenance(id: string): Promise<Provenance | null>;
  /** of these run keys, those with a settled run (any status but failed): key → the first such run's id */
  settledKeys(keys: readonly string[]): Promise<Map<string, string>>;
  runs(filter?: RunFilter): Promise<RunSummary[]>;
  architectures(): Promise<ArchitectureSummary[]>;
  /** null for an unknown name */
  architecture(name: string): Promise<ArchitectureDetail | null>;
  /** every task either architecture ran in the tier and hardware class */
  compare(a: string, b: string, filter: { tier: TierName; hardwareClass: string }): Promise<CompareRow[]>;
  close(): Promise<void>;
}
