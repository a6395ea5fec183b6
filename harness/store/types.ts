/**
 * The store's public shape: what the CLI writes through and what the site reads.
 * The site imports only these types and the read functions, never tfjs.
 */
import type { RunRecord, RunStatus, TierName } from '../results/record.ts';

/** mean with a 95% t-interval over seeds; lo = hi = mean when n = 1 */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

export interface LeaderboardFilter {
  /** a task id, or 'all' for the geometric mean over tasks */
  task: string | 'all';
  tier: TierName;
  hardwareClass: string;
}

export interface LeaderboardRow {
  architecture: string;
  family: 'dense' | 'moe' | 'hybrid' | 'other';
  description: string;
  seeds: number;
  runIds: string[];
  /** the task's metric at budget (for 'all': null, the multiplier is the headline) */
  quality: Interval | null;
  /** dense FLOPs-to-dense-final-quality ÷ this architecture's; null when no dense runs or never reached */
  multiplier: Interval | null;
  /** why multiplier is null, when it is */
  multiplierNote: string | null;
  executedFlops: Interval;
  modelFlops: Interval;
  wallSeconds: Interval;
  /** null when any run's energy was not measured; energyNote then says why */
  energyJoules: Interval | null;
  energyNote: string | null;
  paramsTotal: number;
  paramsActive: number;
  /** headline legibility figures at the end of training (means over seeds), null when not applicable */
  legibility: {
    nmi: number | null;
    effectiveExperts: number | null;
    activationSparsity: number | null;
    updateDensity: number | null;
  };
  /** on the Pareto frontier of (executed FLOPs, quality) */
  pareto: boolean;
}

export interface RunSummary {
  id: string;
  task: string;
  tier: TierName;
  seed: number;
  status: RunStatus;
  quality: number | null;
  executedFlops: number;
  wallSeconds: number;
  hardwareClass: string;
  startedAt: string;
}

export interface Facets {
  tasks: string[];
  tiers: TierName[];
  hardwareClasses: string[];
}

export type IngestOutcome = 'inserted' | 'unchanged';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** idempotent: the same content hash is the same row */
  ingest(record: RunRecord): Promise<IngestOutcome>;
  facets(): Promise<Facets>;
  leaderboard(filter: LeaderboardFilter): Promise<LeaderboardRow[]>;
  run(id: string): Promise<RunRecord | null>;
  runs(filter?: { architecture?: string; task?: string; tier?: TierName }): Promise<RunSummary[]>;
  close(): Promise<void>;
}
