/**
 * Per task, what the findings section shows of each architecture: the store's leaderboard
 * row (quality, multipliers, seeds) joined with the legibility figures read from the very
 * records behind that row, plus the architectures that never completed (refused or failed).
 */
import type { Legibility, QualityMetric, RunRecord } from '../results/record.ts';
import { meanInterval } from '../store/stats.ts';
import type { Family, Interval, LeaderboardRow } from '../store/types.ts';
import type { VerdictConstants } from './analysis.ts';

/** Legibility at the end of training, each a 95% interval over the seeds that measured it. */
export interface LegibilitySummary {
  /** NMI of the last routed layer's expert choice with the task's group label */
  nmi: Interval | null;
  effectiveExperts: Interval | null;
  /** E of the last routed layer */
  experts: number | null;
  ablationDominance: Interval | null;
  updateDensity: Interval | null;
  /** D*: superposition's dimensions per feature (Elhage et al.'s, tied models only) */
  dimensionsPerFeature: Interval | null;
  /** the scale-free D*: m / participation ratio of the feature norms, comparable across untied models */
  dimensionsPerFeatureScaleFree: Interval | null;
  /** AMI of the last routed layer with the group label, and its permutation null (mean, 95th percentile) */
  ami: Interval | null;
  amiNullMean: Interval | null;
  amiNullP95: Interval | null;
  /** seeds whose AMI exceeds their own null's 95th percentile, of those that recorded both */
  amiAbove: { k: number; n: number } | null;
  /** ablation dominance's null (group labels permuted), its 95th percentile, and seeds above it */
  dominanceNullP95: Interval | null;
  dominanceAbove: { k: number; n: number } | null;
}

export interface ArchOnTask {
  name: string;
  family: Family;
  row: LeaderboardRow;
  /** the completed records the row aggregates (row.runIds), in id order */
  records: RunRecord[];
  legibility: LegibilitySummary;
}

/** An architecture with records on the task but no completed run. */
export interface NotCompleted {
  name: string;
  family: Family;
  /** distinct run keys (seeds) tried */
  seeds: number;
  /** set when every run was refused before training: the harness's own words */
  refusal: string | null;
  /** otherwise, the latest run's status and reason */
  lastFailure: string | null;
}

export interface TaskFindings {
  task: string;
  metric: QualityMetric;
  /** the task's group label, e.g. 'digit', where known */
  groupName: string | null;
  /** in the leaderboard's order (best quality first) */
  archs: ArchOnTask[];
  notCompleted: NotCompleted[];
  /** the task's target, margin and test-set error on this tier; null for a task the harness does not know */
  constants: VerdictConstants | null;
}

/** A refusal is the harness declining the task before training, not a failed attempt. */
export function isRefusal(r: RunRecord): boolean {
  // 'refused' since harness 0.2; older records said 'failed' at build with the refusal's reason
  return r.status === 'refused' || (r.status === 'failed' && r.failure?.phase === 'build' && /refuses task/.test(r.failure.message));
}

function intervalOf(values: readonly (number | null | undefined)[]): Interval | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? meanInterval(v) : null;
}

/** Seeds whose figure exceeds its own null's 95th percentile, of those with both; null where none has both. */
function aboveNull(pairs: readonly ([number, number] | null)[]): { k: number; n: number } | null {
  const both = pairs.filter((p): p is [number, number] => p !== null);
  return both.length ? { k: both.filter(([x, p95]) => x > p95).length, n: both.length } : null;
}

/** The last routed layer: the one expert ablation is measured on, and the deepest routing. */
function lastLayer(l: Legibility) {
  return l.routing.at(-1) ?? null;
}

export function summarizeLegibility(records: readonly RunRecord[]): LegibilitySummary {
  const legs = records.map((r) => r.final?.legibility).filter((l): l is Legibility => l !== undefined);
  const layers = legs.map(lastLayer);
  const experts = layers.map((l) => l?.experts).filter((e): e is number => e !== undefined);
  return {
    nmi: intervalOf(layers.map((l) => l?.nmi)),
    effectiveExperts: intervalOf(layers.map((l) => l?.effectiveExperts)),
    // E is fixed per architecture and task; should seeds disagree the largest is shown
    experts: experts.length ? Math.max(...experts) : null,
    ablationDominance: intervalOf(legs.map((l) => l.ablation?.diagonalDominance)),
    updateDensity: intervalOf(legs.map((l) => l.updateDensity)),
    dimensionsPerFeature: intervalOf(legs.map((l) => l.superposition?.dimensionsPerFeature)),
    dimensionsPerFeatureScaleFree: intervalOf(legs.map((l) => l.superposition?.dimensionsPerFeatureScaleFree)),
    ami: intervalOf(layers.map((l) => l?.ami)),
    amiNullMean: intervalOf(layers.map((l) => l?.amiNull?.mean)),
    amiNullP95: intervalOf(layers.map((l) => l?.amiNull?.p95)),
    amiAbove: aboveNull(layers.map((l) => (l?.ami !== undefined && l.amiNull ? [l.ami, l.amiNull.p95] : null))),
    dominanceNullP95: intervalOf(legs.map((l) => l.ablation?.dominanceNull?.p95)),
    dominanceAbove: aboveNull(
      legs.map((l) => (l.ablation?.dominanceNull ? [l.ablation.diagonalDominance, l.ablation.dominanceNull.p95] : null)),
    ),
  };
}

/** The runs of an architecture's most recent source only, as the leaderboard counts them, oldest first. */
function currentSource(records: readonly RunRecord[]): RunRecord[] {
  const sorted = [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  const latest = sorted.at(-1);
  return latest ? sorted.filter((r) => r.architecture.sourceHash === latest.architecture.sourceHash) : [];
}

function notCompleted(name: string, records: readonly RunRecord[]): NotCompleted {
  const current = currentSource(records);
  const latest = current.at(-1) as RunRecord;
  const refused = current.every(isRefusal);
  return {
    name,
    family: latest.architecture.family,
    seeds: new Set(current.map((r) => r.key)).size,
    refusal: refused ? (latest.failure?.message ?? null) : null,
    lastFailure: refused ? null : `${latest.status}${latest.failure ? `: ${latest.failure.message}` : ''}`,
  };
}

/**
 * Join one task's leaderboard with its records. `records` are the task's records in the
 * slice (tier and hardware class); rows come from the store for the same slice.
 */
export function collectTask(
  task: string,
  records: readonly RunRecord[],
  rows: readonly LeaderboardRow[],
  groupName: string | null,
  constants: VerdictConstants | null,
): TaskFindings | null {
  const own = records.filter((r) => r.task.id === task);
  const newest = [...own].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1);
  if (!newest) return null;
  const byId = new Map(own.map((r) => [r.id, r]));
  const archs: ArchOnTask[] = rows.map((row) => {
    const behind = row.runIds.map((id) => byId.get(id)).filter((r): r is RunRecord => r !== undefined);
    return { name: row.architecture, family: row.family, row, records: behind, legibility: summarizeLegibility(behind) };
  });
  const shown = new Set(rows.map((r) => r.architecture));
  const rest = new Map<string, RunRecord[]>();
  for (const r of own) {
    if (shown.has(r.architecture.name)) continue;
    rest.set(r.architecture.name, [...(rest.get(r.architecture.name) ?? []), r]);
  }
  return {
    task,
    // where a task's metric changed, the latest run's is the one its rows are scored in
    metric: newest.task.metric,
    groupName,
    constants,
    archs,
    notCompleted: [...rest.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, rs]) => notCompleted(name, rs)),
  };
}
