/**
 * The README's "What we found" section, built from run records and the store's per-task
 * leaderboards. Pure: no file system, no tfjs, no clock. The same records always give the
 * same text, so `npm run findings -- --check` can tell a stale README from a fresh one.
 */
import type { RunRecord } from '../results/record.ts';
import type { CostToTargetAxis } from '../stats/cost-to-target.ts';
import { pairedMultiplier } from '../stats/multiplier.ts';
import { pairedT } from '../stats/tests.ts';
import type { LeaderboardRow } from '../store/types.ts';
import { TASK_INFOS } from '../tiers.ts';
import { bySeed, constantsOf, costPairs, costSummary, costsOf, multiplierOf, placeboPairs, type VerdictConstants } from './analysis.ts';
import { type ArchOnTask, collectTask, type NotCompleted, type TaskFindings } from './collect.ts';
import { exploratorySensitivity } from './exploratory-sensitivity.ts';
import {
  cell,
  count,
  DASH,
  dateRange,
  formatCostSummary,
  formatDelta,
  formatP,
  formatPairedMultiplier,
  formatQuality,
  formatTarget,
  percent,
  sig,
} from './format.ts';
import { identicalSeeds } from './identity.ts';
import { renderLiterature } from './literature.ts';
import { scalingStudy, type TrendRules } from './scaling.ts';
import { scalingSection } from './scaling-text.ts';
import { isQuiet, secondsNotMeasured, timedPairs } from './timed.ts';

/** The published CPU leaderboard is the one the README speaks for. */
export const FINDINGS_TIER = 'cpu';
export const REGENERATE_COMMAND = 'npm run findings';
export const PRODUCE_COMMAND = 'npx middlepath run --tier cpu';

export interface FindingsInput {
  /** every record read; only those of the cpu tier and each task's hardware class are summarised */
  records: readonly RunRecord[];
  /** per task id, the hardware class shown (hardwareClassByTask); empty when there are no cpu-tier records */
  hardwareClasses: Readonly<Record<string, string>>;
  /** per task id, the store's leaderboard for (task, cpu, its hardware class) */
  leaderboards: Readonly<Record<string, readonly LeaderboardRow[]>>;
  /** record files that failed validation and were left out */
  invalidFiles?: number;
  /** where each record's file is, relative to the README, so every figure links to its runs */
  recordHrefs?: Readonly<Record<string, string>>;
  /** the protocol's quiet-machine rule: seconds count only where load per core at start and end is at most this */
  maxLoadPerCore: number;
  /** the protocol's per-doubling margin and α for the scaling trends */
  trendRules: TrendRules;
  /** per task id, the target, margin and test-set error to judge by; default the task constants of the cpu tier */
  constants?: Readonly<Record<string, VerdictConstants>>;
}

/** Runs per (task, tier, hardware class): a store's facets or a count of records. */
export interface SliceCount {
  task: string;
  tier: string;
  hardwareClass: string;
  runs: number;
}

export function sliceCounts(records: readonly RunRecord[]): SliceCount[] {
  const n = new Map<string, SliceCount>();
  for (const r of records) {
    const k = `${r.task.id}\u0000${r.task.tier}\u0000${r.hardwareClass}`;
    const c = n.get(k) ?? { task: r.task.id, tier: r.task.tier, hardwareClass: r.hardwareClass, runs: 0 };
    c.runs++;
    n.set(k, c);
  }
  return [...n.values()];
}

/**
 * Per task, the hardware class with the most cpu-tier runs of that task (ties: the first by
 * name). Within a task every comparison stays on one machine class, so seconds compare; a
 * task regenerated on another class is still summarised (its FLOPs and quality do not
 * depend on the CPU: the same backend and kernel reproduce a record bit for bit).
 */
export function hardwareClassByTask(counts: readonly SliceCount[]): Record<string, string> {
  const best = new Map<string, SliceCount>();
  for (const c of counts) {
    if (c.tier !== FINDINGS_TIER) continue;
    const cur = best.get(c.task);
    if (!cur || c.runs > cur.runs || (c.runs === cur.runs && c.hardwareClass.localeCompare(cur.hardwareClass) < 0)) best.set(c.task, c);
  }
  return Object.fromEntries([...best.entries()].map(([task, c]) => [task, c.hardwareClass]));
}

/** The slice the section is about: each task's cpu-tier records on its hardware class. */
export function sliceOf(records: readonly RunRecord[], classes: Readonly<Record<string, string>>): RunRecord[] {
  return records.filter((r) => r.task.tier === FINDINGS_TIER && r.hardwareClass === classes[r.task.id]);
}

/** The standard tasks in suite order, then any other task in the slice by name. */
export function taskOrder(records: readonly { task: { id: string } }[]): string[] {
  const standard = TASK_INFOS.map((t) => t.spec.id);
  const others = [...new Set(records.map((r) => r.task.id))].filter((t) => !standard.includes(t)).sort();
  return [...standard, ...others];
}

function groupNameOf(task: string): string | null {
  return TASK_INFOS.find((t) => t.spec.id === task)?.spec.groups.name ?? null;
}

/** "`A`", or "`A` (mnist, charlm) and `B` (parity)" when the tasks ran on different classes. */
function classesText(classes: Readonly<Record<string, string>>): string {
  const tasksOf = new Map<string, string[]>();
  for (const task of taskOrder(Object.keys(classes).map((id) => ({ task: { id } })))) {
    const hw = classes[task];
    if (hw) tasksOf.set(hw, [...(tasksOf.get(hw) ?? []), task]);
  }
  if (tasksOf.size === 1) return `hardware class \`${[...tasksOf.keys()][0]}\``;
  return `hardware classes ${[...tasksOf.entries()].map(([hw, ts]) => `\`${hw}\` (${ts.join(', ')})`).join(' and ')}`;
}

function header(
  slice: readonly RunRecord[],
  classes: Readonly<Record<string, string>>,
  tasks: readonly TaskFindings[],
  invalidFiles: number,
): string {
  const seeds = [...new Set(tasks.flatMap((t) => t.archs.map((a) => a.row.seeds)))].sort((a, b) => a - b);
  const lo = seeds[0];
  const hi = seeds.at(-1);
  const perCell = lo === undefined || hi === undefined ? 'no completed runs' : lo === hi ? `${lo}` : `${lo}–${hi}`;
  const plural = hi === 1 ? 'seed' : 'seeds';
  const range = dateRange(
    slice.map((r) => r.startedAt),
    slice.map((r) => r.finishedAt),
  );
  const invalid = invalidFiles > 0 ? ` ${invalidFiles} record file(s) failed validation and are left out.` : '';
  return (
    `*Generated from ${slice.length} records of tier ${FINDINGS_TIER} on ${classesText(classes)} ` +
    `(${perCell} ${plural} per cell; runs ${range}) by \`${REGENERATE_COMMAND}\`; do not edit by hand.*${invalid}`
  );
}

const iv = <T>(x: T | null, f: (v: T) => string) => (x === null ? DASH : f(x));

/** The like-for-like reference (the routed scaffold with one expert), and dense as a second, labelled column. */
export const REFERENCE = 'dense-block';
export const SECOND = 'dense';

/** What the table's rows share: links, which seconds count, whether the reference is dense in all but name. */
interface TableContext {
  hrefs: Readonly<Record<string, string>>;
  /** a record's seconds count only where its machine was quiet (protocol: load per core at start and end) */
  quiet: (r: RunRecord) => boolean;
  /** seeds where dense-block is bit-identical to dense; null where they differ or share none */
  identical: number[] | null;
}

/** The architecture's cost-to-target over its seeds on executed FLOPs. */
function costCell(t: TaskFindings, a: ArchOnTask): string {
  const target = t.constants?.target;
  if (target == null) return DASH;
  return formatCostSummary(costSummary(a.records.map((r) => costsOf(r, target).executedFlops)));
}

/** Seed-paired multiplier against `against` on one axis; seconds from quiet pairs of one class only. */
function multiplierCell(t: TaskFindings, a: ArchOnTask, axis: CostToTargetAxis, against: string, ctx: TableContext): string {
  if (a.name === against) return against === REFERENCE ? '1 (reference)' : '1';
  if (against === SECOND && a.name === REFERENCE && ctx.identical) return 'identical to dense: not tested';
  const base = t.archs.find((x) => x.name === against);
  const target = t.constants?.target;
  if (!base) return `no ${against} runs to compare with`;
  if (target == null) return `no target (${t.constants?.targetNote ?? 'unknown task'})`;
  if (axis !== 'seconds') return formatPairedMultiplier(multiplierOf(base.records, a.records, target, axis), against);
  const pairs = bySeed(base.records, a.records);
  const quiet = timedPairs(pairs, ctx.quiet);
  if (quiet.length < 2) return secondsNotMeasured(pairs, ctx.quiet);
  return `${formatPairedMultiplier(
    multiplierOf(
      quiet.map(([x]) => x),
      quiet.map(([, y]) => y),
      target,
      axis,
    ),
    against,
  )} (${quiet.length} of ${pairs.length} seeds quiet)`;
}

/** "3 / 0 · [s0](…) [s1](…) [s2](…)": the counts, then each completed seed's record. */
function seedsCell(a: ArchOnTask, hrefs: Readonly<Record<string, string>>): string {
  const bySeed = [...a.records].sort((x, y) => x.task.seed - y.task.seed);
  const links = bySeed.flatMap((r) => {
    const href = hrefs[r.id];
    return href === undefined ? [] : [`[s${r.task.seed}](${encodeURI(href)})`];
  });
  return `${a.row.seeds} / ${a.row.failedRuns}${links.length ? ` · ${links.join(' ')}` : ''}`;
}

/** "0.37 (null 0.00, p95 0.00; above it in 5 of 5)" */
function amiCell(l: ArchOnTask['legibility']): string {
  if (!l.ami) return DASH;
  const nul =
    l.amiNullMean && l.amiNullP95 ? ` (null ${sig(l.amiNullMean.mean, 2)}, p95 ${sig(l.amiNullP95.mean, 2)}` : ' (null not recorded';
  const above = l.amiAbove ? `; above it in ${l.amiAbove.k} of ${l.amiAbove.n})` : ')';
  return `${sig(l.ami.mean, 2)}${nul}${above}`;
}

/** "0.12 (null p95 0.05, above it in 1 of 5; hash 0.03)" */
function dominanceCell(l: ArchOnTask['legibility'], hash: ArchOnTask | undefined): string {
  if (!l.ablationDominance) return DASH;
  const nul = l.dominanceNullP95 ? `null p95 ${sig(l.dominanceNullP95.mean, 3)}` : 'null not recorded';
  const above = l.dominanceAbove ? `, above it in ${l.dominanceAbove.k} of ${l.dominanceAbove.n}` : '';
  const h = hash?.legibility.ablationDominance;
  const hashText = h ? `; hash ${sig(h.mean, 3)}` : '; hash not recorded';
  return `${sig(l.ablationDominance.mean, 3)} (${nul}${above}${hashText})`;
}

function row(t: TaskFindings, a: ArchOnTask, withDStar: boolean, ctx: TableContext): string[] {
  const l = a.legibility;
  const cells = [
    a.name,
    a.family,
    seedsCell(a, ctx.hrefs),
    iv(a.row.quality, (q) => formatQuality(q, t.metric)),
    costCell(t, a),
    multiplierCell(t, a, 'executedFlops', REFERENCE, ctx),
    multiplierCell(t, a, 'executedFlops', SECOND, ctx),
    multiplierCell(t, a, 'seconds', REFERENCE, ctx),
    `${count(a.row.paramsActive)} / ${count(a.row.paramsTotal)}`,
    amiCell(l),
    iv(l.effectiveExperts, (x) => `${sig(x.mean, 3)} / ${l.experts ?? DASH}`),
    dominanceCell(
      l,
      t.archs.find((x) => x.name === 'hash'),
    ),
    iv(l.updateDensity, (x) => percent(x.mean)),
  ];
  if (withDStar)
    cells.push(
      l.dimensionsPerFeatureScaleFree
        ? sig(l.dimensionsPerFeatureScaleFree.mean, 3)
        : l.dimensionsPerFeature
          ? 'not measured: the records predate the scale-free D*'
          : 'not measured: the architecture exposes no feature embedding (featureEmbedding)',
    );
  return cells;
}

/**
 * The placebo: dense against dense on disjoint seeds (placeboPairs), read exactly like an
 * architecture against dense. A sound method reads ≈ 1× with every seed reached.
 */
export interface Placebo {
  label: string;
  /** the multiplier cells, executed FLOPs and seconds */
  flops: string;
  seconds: string;
  /** the quality difference, second half − first half */
  quality: string;
  /** dense runs in the pairs */
  runs: number;
}

export function placeboOf(t: TaskFindings, quiet: (r: RunRecord) => boolean = () => true): Placebo | null {
  // dense has ten exploratory seeds, dense-block five: the exploratory placebo is dense's
  const dense = t.archs.find((x) => x.name === SECOND);
  const target = t.constants?.target;
  if (!dense || target == null) return null;
  const pairs = placeboPairs(dense.records);
  if (pairs.length < 2) return null;
  const seeds = (i: 0 | 1) => pairs.map((p) => p[i].task.seed);
  const range = (xs: number[]) => (xs.every((x, i) => i === 0 || x === (xs[i - 1] as number) + 1) ? `${xs[0]}–${xs.at(-1)}` : xs.join(','));
  // the placebo's p says whether a reading off 1× is more than seed noise
  const on = (axis: CostToTargetAxis) => {
    const m = pairedMultiplier(costPairs(pairs, target, axis));
    return `${formatPairedMultiplier(m)}${m.kind === 'estimate' && m.p !== null ? `, p ${formatP(m.p)}` : ''}`;
  };
  const q = (r: (typeof pairs)[number][number]) => r.final?.quality ?? Number.NaN;
  const d = pairedT(
    pairs.map((p) => q(p[1])),
    pairs.map((p) => q(p[0])),
  );
  const ivText = d.lo === null || d.hi === null ? '' : ` [${formatDelta(d.lo, t.metric)}, ${formatDelta(d.hi, t.metric)}]`;
  return {
    label: `placebo: dense s${range(seeds(1))} vs dense s${range(seeds(0))} (its target set from these same dense seeds)`,
    flops: on('executedFlops'),
    seconds: timedPairs(pairs, quiet).length < pairs.length ? secondsNotMeasured(pairs, quiet) : on('seconds'),
    quality: `Δ ${formatDelta(d.effect, t.metric)}${ivText}${d.p === null ? '' : `, p ${formatP(d.p)}`}`,
    runs: 2 * pairs.length,
  };
}

function placeboRow(t: TaskFindings, withDStar: boolean, ctx: TableContext): string[] | null {
  const p = placeboOf(t, ctx.quiet);
  if (!p) return null;
  const rest = Array.from({ length: withDStar ? 6 : 5 }, () => DASH);
  // dense against dense: it stands in the second column, dense's own
  return [p.label, 'dense', `${p.runs} / 0`, p.quality, DASH, DASH, p.flops, p.seconds, ...rest];
}

/** A row for an architecture that ran but never completed (and was not simply refused). */
function failedRow(n: NotCompleted, withDStar: boolean): string[] {
  // × dense, wall-clock, params, AMI, effective experts, ablation, update density (and D*)
  const rest = Array.from({ length: withDStar ? 8 : 7 }, () => DASH);
  // the failure message is the harness's advice to the user: a cell has room for its start
  const why = n.lastFailure ?? 'no reason recorded';
  const short = why.length > 80 ? `${why.slice(0, 79)}…` : why;
  return [n.name, n.family, `0 / ${n.seeds}`, DASH, DASH, `no completed run (${short})`, ...rest];
}

function table(t: TaskFindings, ctx: TableContext): string {
  const withDStar = t.task === 'superposition';
  const metric = t.metric.name === 'accuracy' ? 'accuracy (%)' : `${t.metric.name}${t.metric.unit ? ` (${t.metric.unit})` : ''}`;
  const direction = t.metric.higherIsBetter ? 'higher is better' : 'lower is better';
  const target = t.constants?.target == null ? '' : ` (${formatTarget(t.constants.target, t.metric)})`;
  const head = [
    'architecture',
    'family',
    'seeds (completed / failed)',
    `${metric} at budget, ${direction}`,
    `executed FLOPs to target${target}`,
    `× ${REFERENCE} on executed FLOPs (seed-paired)`,
    `× ${SECOND} on executed FLOPs (second column)`,
    `× ${REFERENCE} on wall-clock (quiet seeds only)`,
    'params active / total',
    `routing AMI with ${t.groupName ?? 'the group label'} (permutation null)`,
    'effective experts / E',
    'ablation diagonal dominance (its null; hash’s)',
    'update density',
  ];
  if (withDStar) head.push('D* (scale-free)');
  const placebo = placeboRow(t, withDStar, ctx);
  const body = [
    ...t.archs.map((a) => row(t, a, withDStar, ctx)),
    ...(placebo ? [placebo] : []),
    ...t.notCompleted.filter((n) => n.refusal === null).map((n) => failedRow(n, withDStar)),
  ];
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const lines = [line(head), line(head.map(() => '---')), ...body.map(line)];
  for (const n of t.notCompleted) {
    if (n.refusal !== null) lines.push('', `*${n.name} is not in the table: refused before training (${n.refusal}).*`);
  }
  return lines.join('\n');
}

/** The task's target, margin and test-set error: what its verdicts are judged against. */
function constantsLine(t: TaskFindings): string {
  const c = t.constants;
  if (!c) return '*No target, margin or test-set error is defined for this task.*';
  const target = c.target === null ? `no target (${c.targetNote})` : `target ${formatTarget(c.target, t.metric)}`;
  const margin = `equivalence margin ±${formatDelta(c.margin, t.metric).slice(1)}`;
  const se =
    c.testSetError === null
      ? `test-set standard error not measured (${c.testSetNote})`
      : `test-set standard error ${formatDelta(c.testSetError, t.metric).slice(1)}`;
  return `*${target}; ${margin}; ${se}.*`;
}

function taskSection(task: string, t: TaskFindings | null, hrefs: Readonly<Record<string, string>>, maxLoadPerCore: number): string {
  if (!t) return `### ${task}\n\nNo ${FINDINGS_TIER}-tier runs of ${task} on this hardware class.`;
  const recordsOf = (name: string) => t.archs.find((a) => a.name === name)?.records ?? [];
  const identical = identicalSeeds(recordsOf(REFERENCE), recordsOf(SECOND));
  const ctx: TableContext = { hrefs, quiet: (r) => isQuiet(r, maxLoadPerCore), identical };
  const same = identical
    ? `\n\n*${REFERENCE} is bit-identical to ${SECOND} on this task (same quality and executed FLOPs at every evaluation, seeds ${identical.join(', ')}): it is tested once, against ${REFERENCE}.*`
    : '';
  return `### ${task}\n\n${constantsLine(t)}${same}\n\n${table(t, ctx)}`;
}

function empty(invalidFiles: number): string {
  const invalid = invalidFiles > 0 ? ` (${invalidFiles} record file(s) failed validation and were left out.)` : '';
  return (
    `*No ${FINDINGS_TIER}-tier records are committed yet.${invalid} Produce them with \`${PRODUCE_COMMAND}\` ` +
    `(records land in \`results/runs/\`), commit them, then regenerate this section with \`${REGENERATE_COMMAND}\`.*`
  );
}

/** How to read the tables: what each figure is and how it was computed. */
const METHOD =
  'Quality is at the FLOP budget, mean ± half-width of the 95% t-interval over seeds. Each task has a fixed quality target (in its constants, shown under its heading, and on /methods). ' +
  'A run’s cost-to-target is where its evaluated quality reaches the target and stays there to the end of training, interpolated in log-cost between the bracketing evaluation points; ' +
  '“not reached” when it ends short of it; a run already on target at its first evaluation point only bounds its cost from above. ' +
  'The cost column is the geometric mean over seeds with a t-interval on the logs, or how many seeds reached it. ' +
  'Multipliers: per seed, dense’s cost-to-target ÷ the architecture’s on the same seed (same data order and initial draw), then the geometric mean with a 95% t-interval on the per-seed logs — dense’s own variance included, never below 0; > 1 means the architecture needs less. ' +
  'A seed short of the target, or only bounded, is never dropped: it turns the multiplier into a bound (≥ or ≤) or into “k of n seeds reached”, with no interval. ' +
  'The placebo row reads dense against dense on disjoint seeds exactly the same way: a sound method reads ≈ 1× there with every seed reached. ' +
  'Legibility figures are means over completed seeds at the end of training, read on the last routed layer; — where a figure does not apply or was not measured.';

/** What the current records cannot settle yet. */
const CAVEAT =
  'Seconds count only from records whose machine was quiet (load per core at most the protocol’s limit at the start and the end of training, `training.load`); a wall-clock cell says how many seeds were, and reads “not measured” where fewer than two pairs were. ' +
  'Learning rates were tuned per task and architecture on one seed at a quarter of the budget, on a validation split carved from the training data (`results/tuning/cpu.json`); a rate best at a quarter of the budget need not be best at all of it, and where the best and runner-up rates lie within a seed SD the choice is noise. ' +
  'A target here is the quality every dense seed holds from a quarter of its budget on, set from the same dense seeds the table compares with (not held out, unlike the confirmatory targets), and the rule was chosen after seeing these records; cost-to-target measures how fast an architecture reaches dense’s early quality; the quality column compares the end of training.';

export function summarizeFindings(input: FindingsInput): string {
  const invalidFiles = input.invalidFiles ?? 0;
  const slice = sliceOf(input.records, input.hardwareClasses);
  if (slice.length === 0) return empty(invalidFiles);
  const order = taskOrder(slice);
  const found = order.map((task) =>
    collectTask(
      task,
      slice,
      input.leaderboards[task] ?? [],
      groupNameOf(task),
      input.constants?.[task] ?? constantsOf(task, FINDINGS_TIER),
    ),
  );
  const present = found.filter((t): t is TaskFindings => t !== null);
  const parts = [
    header(slice, input.hardwareClasses, present, invalidFiles),
    METHOD,
    CAVEAT,
    ...order.map((task, i) => taskSection(task, found[i] ?? null, input.recordHrefs ?? {}, input.maxLoadPerCore)),
    exploratorySensitivity(present),
    `### Against the literature\n\n${renderLiterature(present, (r) => isQuiet(r, input.maxLoadPerCore))}`,
    scalingSection(scalingStudy(input.records, taskOrder(input.records), input.trendRules), input.trendRules),
  ];
  return parts.join('\n\n');
}
