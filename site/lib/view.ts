/**
 * The leaderboard's view state (task, tier, hardware class, axes, sort), parsed from the
 * URL and turned back into links. Live: query parameters on `/`. Static export: path
 * segments under /board/, one prerendered page per state. Pure.
 */
import { PROVENANCE, type Provenance } from '../../harness/results/provenance.ts';
import { type QualityMetric, TIERS, type TierName } from '../../harness/results/record.ts';
import { COST_AXES, type CostAxis, type Facets, type Family } from '../../harness/store/types.ts';
import { isExport } from './mode.ts';

export type CapAxis = 'quality' | 'multiplier';
export const CAP_AXES: readonly CapAxis[] = ['quality', 'multiplier'];
/** smallest budget first: smoke, the scaling ladder's rungs, cpu, gpu */
export const TIER_ORDER: readonly TierName[] = TIERS;

export const SORT_KEYS = [
  'architecture',
  'family',
  'quality',
  'multiplier',
  'executedFlops',
  'modelFlops',
  'wallSeconds',
  'energyJoules',
  'paramsTotal',
  'nmi',
  'effectiveExperts',
  'activationSparsity',
  'updateDensity',
  'seeds',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

export interface View {
  task: string; // a task id or 'all'
  tier: TierName;
  hw: string;
  cost: CostAxis;
  cap: CapAxis;
  /** null: the default order (best capability first) */
  sort: SortKey | null;
  dir: SortDir;
  /** which runs count: every one, the published suite (baselines and verified), or one provenance */
  prov: ProvView;
  /** one family only, or every one */
  fam: Family | 'all';
  /** architectures hidden from every chart and table of the view */
  hide: string[];
}

export const FAMILY_CHOICES: readonly (Family | 'all')[] = ['all', 'dense', 'moe', 'hybrid', 'other'];

/** Whether an architecture is shown under the view's family filter and hidden list. */
export function shows(view: Pick<View, 'fam' | 'hide'>, name: string, family: Family): boolean {
  return (view.fam === 'all' || view.fam === family) && !view.hide.includes(name);
}

export type ProvView = 'all' | 'published' | Provenance;

/** The provenances a provenance choice admits; undefined: every one. */
export function provenanceFilter(prov: ProvView): readonly Provenance[] | undefined {
  if (prov === 'all') return undefined;
  return prov === 'published' ? ['baseline', 'verified'] : [prov];
}

/** The provenance choices that select something in this store. */
export function provChoices(facets: Facets): ProvView[] {
  const present = facets.provenances;
  const published = present.some((p) => p === 'baseline' || p === 'verified');
  return ['all', ...(published && present.length > 1 ? (['published'] as const) : []), ...(present.length > 1 ? present : [])];
}

export const COST_LABEL: Record<CostAxis, string> = {
  executedFlops: 'executed FLOPs',
  modelFlops: 'model FLOPs',
  wallSeconds: 'training time',
  energyJoules: 'energy',
};

export const COST_UNIT: Record<CostAxis, string> = {
  executedFlops: 'FLOP',
  modelFlops: 'FLOP',
  wallSeconds: 's',
  energyJoules: 'J',
};

export function metricLabel(m: QualityMetric | undefined): string {
  if (!m) return 'quality';
  // accuracy is a fraction in the records and a percentage everywhere it is shown, as in the CLI and README
  if (m.name === 'accuracy') return 'accuracy (%)';
  return m.unit && m.unit !== '%' ? `${m.name} (${m.unit})` : m.unit === '%' ? `${m.name} (%)` : m.name;
}

/** A URL-safe, stable stand-in for a hardware class such as 'NVIDIA H200 ×1 · tensorflow-gpu'. */
export function slug(s: string): string {
  return (
    s
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** slug ↔ value for a list, made unique by suffixing a counter on collisions */
export function slugMap(values: readonly string[]): { toSlug: Map<string, string>; fromSlug: Map<string, string> } {
  const toSlug = new Map<string, string>();
  const fromSlug = new Map<string, string>();
  for (const v of [...values].sort()) {
    let s = slug(v);
    for (let k = 2; fromSlug.has(s); k++) s = `${slug(v)}-${k}`;
    toSlug.set(v, s);
    fromSlug.set(s, v);
  }
  return { toSlug, fromSlug };
}

export const hwSlug = (facets: Facets, hw: string): string => slugMap(facets.hardwareClasses).toSlug.get(hw) ?? slug(hw);
export const hwFromSlug = (facets: Facets, s: string): string | undefined => slugMap(facets.hardwareClasses).fromSlug.get(s);

/** Tasks with runs in a (tier, hardware class) slice. */
export function tasksIn(facets: Facets, tier: TierName, hw: string): string[] {
  const set = new Set(facets.slices.filter((s) => s.tier === tier && s.hardwareClass === hw).map((s) => s.task));
  return facets.tasks.filter((t) => set.has(t));
}

export function tiersWithRuns(facets: Facets): TierName[] {
  const set = new Set(facets.slices.map((s) => s.tier));
  return TIER_ORDER.filter((t) => set.has(t));
}

export function hardwareIn(facets: Facets, tier: TierName): string[] {
  const set = new Set(facets.slices.filter((s) => s.tier === tier).map((s) => s.hardwareClass));
  return facets.hardwareClasses.filter((h) => set.has(h));
}

/** The (tier, hardware class) holding the most runs: the first thing a visitor sees. */
function busiestSlice(facets: Facets, tier?: TierName): { tier: TierName; hw: string } | null {
  const runs = new Map<string, { tier: TierName; hw: string; n: number }>();
  for (const s of facets.slices) {
    if (tier && s.tier !== tier) continue;
    const k = `${s.tier}\u0000${s.hardwareClass}`;
    const cur = runs.get(k) ?? { tier: s.tier, hw: s.hardwareClass, n: 0 };
    cur.n += s.runs;
    runs.set(k, cur);
  }
  let best: { tier: TierName; hw: string; n: number } | null = null;
  for (const c of runs.values()) if (!best || c.n > best.n) best = c;
  return best && { tier: best.tier, hw: best.hw };
}

export type RawParams = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * A complete view from whatever the URL gave: unknown or missing values fall back to
 * defaults (and are reported, so the page can say what it changed). Null for an empty store.
 */
export function resolveView(facets: Facets, raw: RawParams): { view: View; notes: string[] } | null {
  const notes: string[] = [];
  const tierRaw = first(raw.tier);
  const tierGiven = TIER_ORDER.find((t) => t === tierRaw);
  if (tierRaw && !tierGiven) notes.push(`unknown tier “${tierRaw}”`);
  const hwRaw = first(raw.hw);
  let slice = busiestSlice(facets, tierGiven);
  if (!slice) {
    if (tierGiven) notes.push(`no runs in tier ${tierGiven}`);
    slice = busiestSlice(facets);
  }
  if (!slice) return null;
  const tier = slice.tier;
  let hw = slice.hw;
  if (hwRaw) {
    if (hardwareIn(facets, tier).includes(hwRaw)) hw = hwRaw;
    else notes.push(`no runs on “${hwRaw}” in tier ${tier}`);
  }
  const tasks = tasksIn(facets, tier, hw);
  const taskRaw = first(raw.task);
  let task = tasks.length > 1 ? 'all' : (tasks[0] ?? 'all');
  if (taskRaw) {
    if (taskRaw === 'all' || tasks.includes(taskRaw)) task = taskRaw;
    else notes.push(`no runs of task “${taskRaw}” in this tier and hardware class`);
  }
  const costRaw = first(raw.cost);
  const cost = COST_AXES.find((c) => c === costRaw) ?? 'executedFlops';
  const capRaw = first(raw.cap);
  let cap: CapAxis = CAP_AXES.find((c) => c === capRaw) ?? (task === 'all' ? 'multiplier' : 'quality');
  if (task === 'all' && cap === 'quality') cap = 'multiplier'; // no single metric across tasks
  const sortRaw = first(raw.sort);
  const sort = SORT_KEYS.find((k) => k === sortRaw) ?? null;
  const dir: SortDir = first(raw.dir) === 'asc' ? 'asc' : 'desc';
  const costRawBad = costRaw !== undefined && !COST_AXES.some((c) => c === costRaw);
  if (costRawBad) notes.push(`unknown cost axis “${costRaw}”`);
  if (capRaw !== undefined && !CAP_AXES.some((c) => c === capRaw)) notes.push(`unknown capability axis “${capRaw}”`);
  const provRaw = first(raw.prov);
  const known: readonly string[] = ['all', 'published', ...PROVENANCE];
  let prov: ProvView = 'all';
  if (provRaw !== undefined) {
    if (!known.includes(provRaw)) notes.push(`unknown provenance “${provRaw}”`);
    else if (!provChoices(facets).includes(provRaw as ProvView)) notes.push(`no ${provRaw} runs in this store`);
    else prov = provRaw as ProvView;
  }
  const famRaw = first(raw.fam);
  const fam = FAMILY_CHOICES.find((f) => f === famRaw) ?? 'all';
  if (famRaw !== undefined && fam !== famRaw) notes.push(`unknown family “${famRaw}”`);
  // one parameter per hidden name (hide=a&hide=b): a name may hold any character
  const hideRaw = raw.hide === undefined ? [] : Array.isArray(raw.hide) ? raw.hide : [raw.hide];
  const hide = [...new Set(hideRaw.filter((h) => h !== ''))].sort();
  return { view: { task, tier, hw, cost, cap, sort, dir, prov, fam, hide }, notes };
}

/** Change some of a view's fields and keep the rest valid (e.g. a task missing from a new tier). */
export function withChange(facets: Facets, view: View, change: Partial<View>): View {
  const next = { ...view, ...change };
  if (change.tier && change.tier !== view.tier && !hardwareIn(facets, next.tier).includes(next.hw)) {
    next.hw = busiestSlice(facets, next.tier)?.hw ?? next.hw;
  }
  if (next.task !== 'all' && !tasksIn(facets, next.tier, next.hw).includes(next.task)) next.task = 'all';
  if (change.task === 'all' || next.task === 'all') {
    if (next.cap === 'quality') next.cap = 'multiplier';
  } else if (change.task && view.task === 'all' && !change.cap) {
    next.cap = 'quality';
  }
  if (change.task || change.tier || change.hw || change.cost || change.cap) {
    // a new slice or axis starts in its default order
    if (!('sort' in change)) {
      next.sort = null;
      next.dir = 'desc';
    }
  }
  return next;
}

export function viewHref(facets: Facets, v: View): string {
  if (isExport) {
    return `/board/${encodeURIComponent(v.task)}/${v.tier}/${hwSlug(facets, v.hw)}/${v.cost}/${v.cap}`;
  }
  const q = new URLSearchParams({ task: v.task, tier: v.tier, hw: v.hw, cost: v.cost, cap: v.cap });
  if (v.prov !== 'all') q.set('prov', v.prov);
  if (v.fam !== 'all') q.set('fam', v.fam);
  for (const h of v.hide) q.append('hide', h);
  if (v.sort) {
    q.set('sort', v.sort);
    q.set('dir', v.dir);
  }
  return `/?${q.toString()}`;
}

export function downloadHref(facets: Facets, v: Pick<View, 'task' | 'tier' | 'hw'>, ext: 'csv' | 'json'): string {
  return `/data/${encodeURIComponent(v.task)}/${v.tier}/${hwSlug(facets, v.hw)}/leaderboard.${ext}`;
}

/** Every view a static export prerenders: each slice's tasks and 'all', each axis pair. */
export function allBoardParams(facets: Facets): { task: string; tier: TierName; hw: string; cost: CostAxis; cap: CapAxis }[] {
  const out: { task: string; tier: TierName; hw: string; cost: CostAxis; cap: CapAxis }[] = [];
  for (const tier of tiersWithRuns(facets)) {
    for (const hw of hardwareIn(facets, tier)) {
      for (const task of ['all', ...tasksIn(facets, tier, hw)]) {
        for (const cost of COST_AXES) {
          for (const cap of CAP_AXES) {
            if (task === 'all' && cap === 'quality') continue;
            out.push({ task, tier, hw: hwSlug(facets, hw), cost, cap });
          }
        }
      }
    }
  }
  return out;
}

export const archHref = (name: string): string => `/archs/${encodeURIComponent(name)}`;
export const runHref = (id: string): string => `/runs/${encodeURIComponent(id)}`;
export const compareHref = (a: string, b: string): string =>
  isExport ? `/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}` : `/compare?${new URLSearchParams({ a, b }).toString()}`;
