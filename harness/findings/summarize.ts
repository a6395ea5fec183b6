/**
 * The README's "What we found" section, built from run records and the store's per-task
 * leaderboards. Pure: no file system, no tfjs, no clock. The same records always give the
 * same text, so `npm run findings -- --check` can tell a stale README from a fresh one.
 */
import type { RunRecord } from '../results/record.ts';
import type { Interval, LeaderboardRow } from '../store/types.ts';
import { TASK_INFOS } from '../tiers.ts';
import { type ArchOnTask, collectTask, type NotCompleted, type TaskFindings } from './collect.ts';
import { cell, count, DASH, dateRange, formatMultiplier, formatQuality, percent, shortNote, sig } from './format.ts';
import { renderLiterature } from './literature.ts';

/** The published CPU leaderboard is the one the README speaks for. */
export const FINDINGS_TIER = 'cpu';
export const REGENERATE_COMMAND = 'npm run findings';
export const PRODUCE_COMMAND = 'npx middlepath run --tier cpu';

export interface FindingsInput {
  /** every record read; only those of the cpu tier and this hardware class are summarised */
  records: readonly RunRecord[];
  /** the slice shown, from pickHardwareClass; null when there are no cpu-tier records */
  hardwareClass: string | null;
  /** per task id, the store's leaderboard for (task, cpu, hardwareClass) */
  leaderboards: Readonly<Record<string, readonly LeaderboardRow[]>>;
  /** record files that failed validation and were left out */
  invalidFiles?: number;
  /** where each record's file is, relative to the README, so every figure links to its runs */
  recordHrefs?: Readonly<Record<string, string>>;
}

/** The hardware class with the most cpu-tier runs (ties: the first by name), or null. */
export function pickHardwareClass(records: readonly RunRecord[]): string | null {
  const n = new Map<string, number>();
  for (const r of records) if (r.task.tier === FINDINGS_TIER) n.set(r.hardwareClass, (n.get(r.hardwareClass) ?? 0) + 1);
  const ranked = [...n.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return ranked[0]?.[0] ?? null;
}

/** The slice the section is about. */
export function sliceOf(records: readonly RunRecord[], hardwareClass: string | null): RunRecord[] {
  return records.filter((r) => r.task.tier === FINDINGS_TIER && r.hardwareClass === hardwareClass);
}

/** The standard tasks in suite order, then any other task in the slice by name. */
export function taskOrder(records: readonly RunRecord[]): string[] {
  const standard = TASK_INFOS.map((t) => t.spec.id);
  const others = [...new Set(records.map((r) => r.task.id))].filter((t) => !standard.includes(t)).sort();
  return [...standard, ...others];
}

function groupNameOf(task: string): string | null {
  return TASK_INFOS.find((t) => t.spec.id === task)?.spec.groups.name ?? null;
}

function header(slice: readonly RunRecord[], hardwareClass: string, tasks: readonly TaskFindings[], invalidFiles: number): string {
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
    `*Generated from ${slice.length} records of tier ${FINDINGS_TIER} on hardware class \`${hardwareClass}\` ` +
    `(${perCell} ${plural} per cell; runs ${range}) by \`${REGENERATE_COMMAND}\`; do not edit by hand.*${invalid}`
  );
}

const iv = <T>(x: T | null, f: (v: T) => string) => (x === null ? DASH : f(x));

const BASELINE = 'dense';

/** Dense is 1 by definition on every axis: its own interval would only restate that. */
function multiplierCell(a: ArchOnTask, m: Interval | null, note: string | null): string {
  if (a.name === BASELINE && m) return '1 (baseline)';
  return m ? formatMultiplier(m) : note === null ? DASH : shortNote(note);
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

function row(t: TaskFindings, a: ArchOnTask, withDStar: boolean, hrefs: Readonly<Record<string, string>>): string[] {
  const l = a.legibility;
  const cells = [
    a.name,
    a.family,
    seedsCell(a, hrefs),
    iv(a.row.quality, (q) => formatQuality(q, t.metric)),
    multiplierCell(a, a.row.multiplier, a.row.multiplierNote ?? 'no multiplier'),
    multiplierCell(a, a.row.multiplierSeconds, null),
    `${count(a.row.paramsActive)} / ${count(a.row.paramsTotal)}`,
    iv(l.nmi, (x) => sig(x.mean, 2)),
    iv(l.effectiveExperts, (x) => `${sig(x.mean, 3)} / ${l.experts ?? DASH}`),
    iv(l.ablationDominance, (x) => sig(x.mean, 3)),
    iv(l.updateDensity, (x) => percent(x.mean)),
  ];
  if (withDStar) cells.push(iv(l.dimensionsPerFeature, (x) => sig(x.mean, 3)));
  return cells;
}

/** A row for an architecture that ran but never completed (and was not simply refused). */
function failedRow(n: NotCompleted, withDStar: boolean): string[] {
  // wall-clock, params, NMI, effective experts, ablation, update density (and D*)
  const rest = Array.from({ length: withDStar ? 7 : 6 }, () => DASH);
  // the failure message is the harness's advice to the user: a cell has room for its start
  const why = n.lastFailure ?? 'no reason recorded';
  const short = why.length > 80 ? `${why.slice(0, 79)}…` : why;
  return [n.name, n.family, `0 / ${n.seeds}`, DASH, `no completed run (${short})`, ...rest];
}

function table(t: TaskFindings, hrefs: Readonly<Record<string, string>>): string {
  const withDStar = t.task === 'superposition';
  const metric = t.metric.name === 'accuracy' ? 'accuracy (%)' : `${t.metric.name}${t.metric.unit ? ` (${t.metric.unit})` : ''}`;
  const direction = t.metric.higherIsBetter ? 'higher is better' : 'lower is better';
  const head = [
    'architecture',
    'family',
    'seeds (completed / failed)',
    `${metric} at budget, ${direction}`,
    '× dense on executed FLOPs',
    '× dense on wall-clock',
    'params active / total',
    `routing NMI with ${t.groupName ?? 'the group label'}`,
    'effective experts / E',
    'ablation diagonal dominance',
    'update density',
  ];
  if (withDStar) head.push('D*');
  const body = [
    ...t.archs.map((a) => row(t, a, withDStar, hrefs)),
    ...t.notCompleted.filter((n) => n.refusal === null).map((n) => failedRow(n, withDStar)),
  ];
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const lines = [line(head), line(head.map(() => '---')), ...body.map(line)];
  for (const n of t.notCompleted) {
    if (n.refusal !== null) lines.push('', `*${n.name} is not in the table: refused before training (${n.refusal}).*`);
  }
  return lines.join('\n');
}

function taskSection(task: string, t: TaskFindings | null, hrefs: Readonly<Record<string, string>>): string {
  if (!t) return `### ${task}\n\nNo ${FINDINGS_TIER}-tier runs of ${task} on this hardware class.`;
  return `### ${task}\n\n${table(t, hrefs)}`;
}

function empty(invalidFiles: number): string {
  const invalid = invalidFiles > 0 ? ` (${invalidFiles} record file(s) failed validation and were left out.)` : '';
  return (
    `*No ${FINDINGS_TIER}-tier records are committed yet.${invalid} Produce them with \`${PRODUCE_COMMAND}\` ` +
    `(records land in \`results/runs/\`), commit them, then regenerate this section with \`${REGENERATE_COMMAND}\`.*`
  );
}

export function summarizeFindings(input: FindingsInput): string {
  const invalidFiles = input.invalidFiles ?? 0;
  const slice = sliceOf(input.records, input.hardwareClass);
  if (input.hardwareClass === null || slice.length === 0) return empty(invalidFiles);
  const order = taskOrder(slice);
  const found = order.map((task) => collectTask(task, slice, input.leaderboards[task] ?? [], groupNameOf(task)));
  const present = found.filter((t): t is TaskFindings => t !== null);
  const parts = [
    header(slice, input.hardwareClass, present, invalidFiles),
    'Quality is at the FLOP budget, mean ± half-width of the 95% t-interval over seeds. Multipliers: dense’s executed FLOPs (or seconds) to reach its own final quality ÷ the architecture’s, mean [95% interval]; the cost to reach a quality is read off the evaluation points (every 10% of the budget), so a run already past dense’s final quality at its first point reads at most dense’s cost ÷ a tenth of the budget — such a multiplier is a lower bound. Legibility figures are means over completed seeds at the end of training, read on the last routed layer; — where a figure does not apply or was not measured.',
    ...order.map((task, i) => taskSection(task, found[i] ?? null, input.recordHrefs ?? {})),
    `### Against the literature\n\n${renderLiterature(present)}`,
  ];
  return parts.join('\n\n');
}
