/**
 * "Against the literature": the known directions of ../shared/research/moe.md, each
 * checked per task by a test on seed-paired runs. Every clause names the figures it rests
 * on and its p-values; each direction is its own family (the protocol's lit-a … lit-f),
 * corrected by Holm within it, never across (statistics.md: families by claim): a direction
 * holds only where its Holm-adjusted p is below α. Costs read against dense-block, the
 * like-for-like control. Every "inconclusive" prints its minimum detectable effect. "Comes
 * close" is an equivalence claim, shown by TOST against the task's stated margin; a quality
 * difference smaller than twice the test set's standard error gets no verdict.
 */
import type { QualityMetric, RunRecord } from '../results/record.ts';
import type { CostToTargetAxis } from '../stats/cost-to-target.ts';
import type { Multiplier } from '../stats/multiplier.ts';
import { DEFAULT_POWER, minimumDetectableLog } from '../stats/power.ts';
import { type Difference, holm, oneSampleT, pairedT, tost } from '../stats/tests.ts';
import { bySeed, costsOf, multiplierOf } from './analysis.ts';
import type { ArchOnTask, TaskFindings } from './collect.ts';
import { formatDelta, formatP, formatPairedMultiplier, percent, sig } from './format.ts';
import { secondsNotMeasured, timedPairs } from './timed.ts';
import { asPredicted, inconclusive, notAsPredicted, notRun, notTestable, type Verdict } from './verdicts.ts';

/** Family-wise error rate of the whole list. */
export const ALPHA = 0.05;

/** The learned sparse routers the directions are about. */
const LEARNED = ['switch-top1', 'topk'] as const;

/**
 * Tasks where the hash baseline's key is the group label itself (charlm: a token's expert
 * is a hash of its character id, and the group is the input character), so its NMI is
 * high by construction and cannot serve as the "no specialisation" control.
 */
const HASH_KEYED_BY_GROUP = new Set(['charlm']);

/**
 * One clause: its figures, the p-values it puts into the family (null: a test that could
 * not run), and how its verdict follows from their Holm-adjusted values.
 */
export interface Clause {
  figures: string;
  ps: (number | null)[];
  /** from the Holm-adjusted p-values and the size of the family they were adjusted in */
  decide(adjusted: (number | null)[], familySize: number): Verdict;
}

/** The like-for-like control every cost is read against. */
const REFERENCE = 'dense-block';

/** "MDE 2.1× (4.0× at the family's Holm threshold α/12)" from a paired log test's spread. */
function mdeOfLogs(d: Difference, familySize: number): string {
  if (d.se === null) return 'MDE not measured: one pair';
  const sd = d.se * Math.sqrt(d.n);
  const at = (alpha: number) => {
    const x = minimumDetectableLog(sd, d.n, { alpha, power: DEFAULT_POWER.power });
    return x === null ? 'not measured' : `${sig(Math.exp(x), 3)}×`;
  };
  return `MDE ${at(ALPHA)}${familySize > 1 ? `, ${at(ALPHA / familySize)} at the family's Holm threshold α/${familySize}` : ''}`;
}

/** The same for a difference in the metric's units. */
function mdeOfDifference(d: Difference, familySize: number, metric: QualityMetric): string {
  if (d.se === null) return 'MDE not measured: one pair';
  const sd = d.se * Math.sqrt(d.n);
  const at = (alpha: number) => {
    const x = minimumDetectableLog(sd, d.n, { alpha, power: DEFAULT_POWER.power });
    return x === null ? 'not measured' : formatDelta(x, metric).slice(1);
  };
  return `MDE ${at(ALPHA)}${familySize > 1 ? `, ${at(ALPHA / familySize)} at the family's Holm threshold α/${familySize}` : ''}`;
}

export interface Direction {
  id: string;
  claim: string;
  source: string;
  check(t: TaskFindings, quiet: (r: RunRecord) => boolean): Clause[];
}

const fixed = (figures: string, verdict: Verdict): Clause => ({ figures, ps: [], decide: () => verdict });
const find = (t: TaskFindings, name: string) => t.archs.find((a) => a.name === name) ?? null;
const missing = (name: string): Clause => fixed(name, notRun);

/** "p = 0.014, Holm 0.42" */
function pText(p: number | null, adjusted: number | null): string {
  return p === null || adjusted === null ? 'no test' : `p ${formatP(p)}, Holm ${formatP(adjusted)}`;
}

function needsTarget(t: TaskFindings, name: string): Clause | null {
  return t.constants?.target == null ? fixed(name, notTestable(`no target for ${t.task} on this tier`)) : null;
}

function multiplierOn(t: TaskFindings, a: ArchOnTask, axis: CostToTargetAxis): Multiplier | null {
  const dense = find(t, REFERENCE);
  const target = t.constants?.target;
  if (!dense || target == null) return null;
  return multiplierOf(dense.records, a.records, target, axis);
}

/** Whether a multiplier's test, read one-sidedly, supports > 1 (or < 1): a bound counts only in its own direction. */
function multiplierTest(m: Multiplier): { p: number | null; effect: number } | null {
  if (m.kind === 'estimate') return { p: m.p, effect: Math.log(m.value) };
  if (m.kind !== 'bound') return null;
  // the bounds' own logs: d ≥ bound (or ≤) seed by seed, so a test that the bounds lie above 0 is conservative for > 1
  const agrees = m.direction === 'at least' ? m.logs.effect > 0 : m.logs.effect < 0;
  return agrees ? { p: m.logs.p, effect: m.logs.effect } : null;
}

function flopGain(t: TaskFindings): Clause[] {
  return LEARNED.map((name): Clause => {
    const a = find(t, name);
    if (!a) return missing(name);
    if (!find(t, REFERENCE)) return missing(REFERENCE);
    const noTarget = needsTarget(t, name);
    if (noTarget) return noTarget;
    const m = multiplierOn(t, a, 'executedFlops') as Multiplier;
    const figures = `${name} ${formatPairedMultiplier(m, REFERENCE)}`;
    const test = multiplierTest(m);
    if (m.kind === 'censored') {
      const why =
        m.archReached === m.n && m.denseReached === m.n
          ? 'both sides only bounded by their first evaluation point: the evaluation grid decides'
          : `${m.archReached} of ${m.n} seeds reached the target, ${REFERENCE}’s ${m.denseReached}`;
      return fixed(figures, inconclusive(why));
    }
    if (!test)
      return fixed(
        figures,
        m.kind === 'bound'
          ? inconclusive(`${m.direction === 'at least' ? 'a lower bound under' : 'an upper bound over'} 1 settles nothing`)
          : notTestable(m.kind),
      );
    return {
      figures,
      ps: [test.p],
      decide: ([adj], size) => {
        const why = pText(test.p, adj ?? null);
        if (adj == null) return inconclusive(`one seed, ${why}`);
        if (adj >= ALPHA) return inconclusive(m.kind === 'estimate' ? `${why}; ${mdeOfLogs(m.logs, size)}` : why);
        return test.effect > 0 ? asPredicted(why) : notAsPredicted(why);
      },
    };
  });
}

/** Per seed where both axes reached the target: log(multiplier on seconds) − log(on FLOPs). */
function wallClock(t: TaskFindings, quiet: (r: RunRecord) => boolean): Clause[] {
  return LEARNED.map((name): Clause => {
    const a = find(t, name);
    const dense = find(t, REFERENCE);
    if (!a) return missing(name);
    if (!dense) return missing(REFERENCE);
    const target = t.constants?.target;
    if (target == null) return needsTarget(t, name) as Clause;
    const all = bySeed(dense.records, a.records);
    const quietPairs = timedPairs(all, quiet);
    if (quietPairs.length < all.length) return fixed(`${name} on seconds`, notTestable(secondsNotMeasured(all, quiet)));
    const logs = quietPairs.flatMap(([d, x]) => {
      const cd = costsOf(d, target);
      const cx = costsOf(x, target);
      const all = [cd.seconds, cx.seconds, cd.executedFlops, cx.executedFlops];
      const c = all.flatMap((r) => (r.status === 'reached' && r.cost > 0 ? [Math.log(r.cost)] : []));
      if (c.length < 4) return [];
      const [ds, xs, df, xf] = c as [number, number, number, number];
      return [ds - xs - (df - xf)];
    });
    const pairs = bySeed(dense.records, a.records).length;
    const mS = multiplierOn(t, a, 'seconds') as Multiplier;
    const mF = multiplierOn(t, a, 'executedFlops') as Multiplier;
    const figures = `${name} ${formatPairedMultiplier(mS, REFERENCE)} on seconds vs ${formatPairedMultiplier(mF, REFERENCE)} on FLOPs`;
    if (logs.length < pairs || logs.length === 0) {
      return fixed(figures, notTestable(`${logs.length} of ${pairs} seed pairs reached the target on both axes`));
    }
    const d = oneSampleT(logs);
    return {
      figures: `${figures} (ratio ${sig(Math.exp(d.effect), 3)}×)`,
      ps: [d.p],
      decide: ([adj], size) => {
        const why = pText(d.p, adj ?? null);
        if (adj == null || adj >= ALPHA) return inconclusive(`${why}; ${mdeOfLogs(d, size)}`);
        return d.effect < 0 ? asPredicted(why) : notAsPredicted(why);
      },
    };
  });
}

/** Per-seed final qualities of a and b on their shared seeds, "better" positive in the metric's direction. */
function qualityDifference(a: ArchOnTask, b: ArchOnTask, metric: QualityMetric): Difference | null {
  const pairs = bySeed(a.records, b.records).filter(([x, y]) => x.final && y.final);
  if (pairs.length === 0) return null;
  const q = (r: RunRecord) => (r.final as NonNullable<RunRecord['final']>).quality;
  const sign = metric.higherIsBetter ? 1 : -1;
  return pairedT(
    pairs.map(([x]) => sign * q(x)),
    pairs.map(([, y]) => sign * q(y)),
  );
}

/** "Δ −3.76 pp [−6.10, −1.42] (better is +)": the effect as better-is-positive, in the metric's units. */
function deltaText(d: Difference, metric: QualityMetric): string {
  const iv = d.lo === null || d.hi === null ? '' : ` [${formatDelta(d.lo, metric)}, ${formatDelta(d.hi, metric)}]`;
  return `Δ ${formatDelta(d.effect, metric)}${iv}`;
}

/** The rule of statistics.md: a difference under twice the test set's standard error is not a finding. */
function belowTestSetError(d: Difference, t: TaskFindings): string | null {
  const se = t.constants?.testSetError;
  if (se == null) return null;
  return Math.abs(d.effect) < 2 * se ? `|Δ| below twice the test set's standard error (${formatDelta(2 * se, t.metric).slice(1)})` : null;
}

/** Quality of `a` against `b` on shared seeds: a paired test, and TOST where `close` asks for equivalence. */
function qualityPair(
  t: TaskFindings,
  a: string,
  b: string,
  outcome: { better: (why: string) => Verdict; worse: (why: string) => Verdict; close?: (why: string) => Verdict },
): Clause[] {
  const x = find(t, a);
  const y = find(t, b);
  if (!x || !y) return [...(x ? [] : [missing(a)]), ...(y ? [] : [missing(b)])];
  const d = qualityDifference(x, y, t.metric);
  if (!d) return [fixed(`${a} vs ${b}`, notTestable('no seed in common'))];
  const margin = t.constants?.margin ?? null;
  const eq = outcome.close && margin !== null ? tost(d, margin) : null;
  const figures = `${a} − ${b}: ${deltaText(d, t.metric)} (better is +)`;
  return [
    {
      figures,
      ps: eq ? [eq.p, d.p] : [d.p],
      decide: (adjusted, size) => {
        const [eqAdj, dAdj] = eq ? [adjusted[0] ?? null, adjusted[1] ?? null] : [null, adjusted[0] ?? null];
        const diffWhy = pText(d.p, dAdj);
        if (eq && outcome.close && eqAdj !== null && eqAdj < ALPHA) {
          return outcome.close(`within ±${formatDelta(eq.margin, t.metric).slice(1)} by TOST, ${pText(eq.p, eqAdj)}`);
        }
        const eqWhy = eq ? `; equivalence within ±${formatDelta(eq.margin, t.metric).slice(1)} not shown, TOST ${pText(eq.p, eqAdj)}` : '';
        if (dAdj === null || dAdj >= ALPHA) return inconclusive(`${diffWhy}${eqWhy}; ${mdeOfDifference(d, size, t.metric)}`);
        const small = belowTestSetError(d, t);
        if (small) return { kind: 'inconclusive', text: `no verdict: ${small}; ${diffWhy}` };
        return d.effect > 0 ? outcome.better(diffWhy) : outcome.worse(diffWhy);
      },
    },
  ];
}

/** A per-seed figure of a against b (paired), predicted `expected` of b. */
function figurePair(
  label: string,
  x: ArchOnTask,
  y: ArchOnTask,
  value: (r: RunRecord) => number | null,
  expected: 'above' | 'below',
  show: (v: number) => string,
): Clause {
  const pairs = bySeed(x.records, y.records).flatMap(([p, q]) => {
    const a = value(p);
    const b = value(q);
    return a === null || b === null ? [] : [[a, b] as const];
  });
  if (pairs.length === 0) return fixed(`${label} ${x.name}`, notTestable(`${label} not recorded`));
  const d = pairedT(
    pairs.map(([a]) => a),
    pairs.map(([, b]) => b),
  );
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const figures = `${label} ${x.name} ${show(mean(pairs.map(([a]) => a)))} vs ${y.name} ${show(mean(pairs.map(([, b]) => b)))}`;
  return {
    figures,
    ps: [d.p],
    decide: ([adj], size) => {
      const why = pText(d.p, adj ?? null);
      if (adj == null || adj >= ALPHA)
        return inconclusive(
          `${why}; ${d.se === null ? 'MDE not measured: one pair' : `MDE ${show(mdeOf(d, ALPHA))}${size > 1 ? `, ${show(mdeOf(d, ALPHA / size))} at the family's Holm threshold α/${size}` : ''}`}`,
        );
      return d.effect > 0 === (expected === 'above') ? asPredicted(why) : notAsPredicted(why);
    },
  };
}

/** The smallest paired difference d's spread detects at `alpha`, in d's own units. */
const mdeOf = (d: Difference, alpha: number) =>
  minimumDetectableLog((d.se as number) * Math.sqrt(d.n), d.n, { alpha, power: DEFAULT_POWER.power }) ?? Number.NaN;

/** AMI (chance-adjusted, Vinh et al. 2010) of the last routed layer: NMI is not adjusted for chance. */
const lastLayerAmi = (r: RunRecord) => r.final?.legibility.routing.at(-1)?.ami ?? null;
const updateDensity = (r: RunRecord) => r.final?.legibility.updateDensity ?? null;

function legibility(t: TaskFindings): Clause[] {
  const out: Clause[] = [];
  const hash = find(t, 'hash');
  for (const name of LEARNED) {
    const a = find(t, name);
    if (!a) out.push(missing(name));
    else if (!hash) out.push(missing('hash'));
    else if (HASH_KEYED_BY_GROUP.has(t.task)) {
      out.push(fixed(`${name} AMI`, notTestable(`hash routes by the ${t.groupName ?? 'group label'} itself here`)));
    } else out.push(figurePair('AMI', a, hash, lastLayerAmi, 'above', (v) => sig(v, 2)));
  }
  const gr = find(t, 'gradient-routed');
  const dense = find(t, REFERENCE);
  if (!gr) out.push(missing('gradient-routed'));
  else if (!dense) out.push(missing(REFERENCE));
  else out.push(figurePair('update density', gr, dense, updateDensity, 'below', percent));
  return out;
}

export const DIRECTIONS: readonly Direction[] = [
  {
    id: 'a',
    claim:
      'at equal active FLOPs, sparse MoE (switch-top1, topk) reaches the target with fewer FLOPs than the like-for-like dense control (dense-block): multiplier > 1',
    source: 'Switch Transformer, Fedus et al. 2021: dense’s quality in 1/7 of the steps',
    check: flopGain,
  },
  {
    id: 'b',
    claim: 'the wall-clock gain is smaller than the FLOP gain',
    source: 'OLMoE 2409.02060: ~3× fewer tokens, ~2× less time',
    check: (t, quiet) => wallClock(t, quiet),
  },
  {
    id: 'c',
    claim: 'hash routing comes close to learned routing (hash vs switch-top1 quality, equivalence by TOST)',
    source: 'Roller et al. 2021, 2106.04426',
    check: (t) =>
      qualityPair(t, 'hash', 'switch-top1', {
        close: (why) => asPredicted(`equivalent: ${why}`),
        better: (why) => asPredicted(`hash better, ${why}`),
        worse: (why) => notAsPredicted(`hash worse, ${why}`),
      }),
  },
  {
    id: 'd',
    claim: 'a shared expert helps (shared-routed vs switch-top1 quality); the literature is split',
    source: 'DeepSeekMoE 2401.06066 found it helps, OLMoE 2409.02060 that it slightly hurts',
    check: (t) =>
      qualityPair(t, 'shared-routed', 'switch-top1', {
        better: (why) => asPredicted(`shared better, as DeepSeekMoE found; ${why}`),
        worse: (why) => notAsPredicted(`shared worse, as OLMoE found; ${why}`),
      }),
  },
  {
    id: 'e',
    claim:
      'at the same FLOP budget switch-top1 beats dense-total (its total parameters, every one active, so each example costs more FLOPs)',
    source: 'Fedus et al. 2021 against FLOP-matched and larger dense models',
    check: (t) =>
      qualityPair(t, 'switch-top1', 'dense-total', {
        better: (why) => asPredicted(why),
        worse: (why) => notAsPredicted(`dense-total better, ${why}`),
      }),
  },
  {
    id: 'f',
    claim:
      'learned routers specialise by task or class (routing AMI of switch-top1/topk above that of hash, whose routing never sees the label; each seed against its own permutation null in the table), and gradient routing updates fewer parameters per step than dense-block',
    source: 'Fedus et al. 2021 and Cloud et al. 2024, 2410.04332',
    check: legibility,
  },
];

export function renderClause(figures: string, verdict: Verdict): string {
  return `${figures} → **${verdict.text}**`;
}

/** Every clause of every direction on every task; Holm within each direction's family (lit-a … lit-f), never across. */
export interface Decided {
  direction: Direction;
  task: string;
  clauses: { figures: string; verdict: Verdict }[];
}

export const familyOf = (d: Direction) => `lit-${d.id}`;

export function decideAll(
  tasks: readonly TaskFindings[],
  quiet: (r: RunRecord) => boolean = () => false,
): { decided: Decided[]; families: Map<string, number> } {
  const checked = DIRECTIONS.flatMap((direction) => tasks.map((t) => ({ direction, task: t.task, clauses: direction.check(t, quiet) })));
  const families = new Map<string, number>();
  const adjustedOf = new Map<string, (number | null)[]>();
  for (const d of DIRECTIONS) {
    const ps = checked.filter((c) => c.direction === d).flatMap((c) => c.clauses.flatMap((k) => k.ps));
    adjustedOf.set(familyOf(d), holm(ps));
    families.set(familyOf(d), ps.filter((p) => p !== null).length);
  }
  const at = new Map<string, number>();
  const decided = checked.map((c) => {
    const f = familyOf(c.direction);
    return {
      ...c,
      clauses: c.clauses.map((k) => {
        const from = at.get(f) ?? 0;
        const mine = (adjustedOf.get(f) ?? []).slice(from, from + k.ps.length);
        at.set(f, from + k.ps.length);
        return { figures: k.figures, verdict: k.decide(mine, families.get(f) ?? 0) };
      }),
    };
  });
  return { decided, families };
}

/** The whole list: one bullet per direction, one sub-bullet per task. */
export function renderLiterature(tasks: readonly TaskFindings[], quiet: (r: RunRecord) => boolean = () => false): string {
  const { decided, families } = decideAll(tasks, quiet);
  const sizes = DIRECTIONS.map((d) => `${familyOf(d)} ${families.get(familyOf(d)) ?? 0}`).join(', ');
  const lines = [
    `Verdicts are tests on seed-paired runs (same seed on both sides), Holm-corrected within each direction's family at a family-wise α = ${ALPHA} (tests per family: ${sizes}), never across families: multipliers by a t-test on the per-seed log ratios against ${REFERENCE}, quality differences by a paired t-test, "comes close" only by TOST against the task's margin, and no verdict on a quality difference smaller than twice the test set's standard error. Inconclusive means the test could not tell, not that there is no difference; each prints its minimum detectable effect (80% power) at α and at its family's Holm threshold. These are exploratory readings: the records were seen while the rules were chosen.`,
    '',
  ];
  for (const d of DIRECTIONS) {
    lines.push(`- **(${d.id})** ${d.claim} (${d.source}); family ${familyOf(d)}.`);
    for (const c of decided.filter((x) => x.direction === d)) {
      lines.push(`  - ${c.task}: ${c.clauses.map((k) => renderClause(k.figures, k.verdict)).join('; ')}`);
    }
  }
  return lines.join('\n');
}
