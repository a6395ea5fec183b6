/**
 * The confirmatory findings: the records stamped with the protocol in force, read by that
 * protocol's rules and nothing else. Per task the target is set at read time from the
 * reference's target-setting seeds by the primary rule (never from a compared seed); every
 * architecture's comparison seeds are paired with the reference's; the placebo pairs the
 * reference's comparison seeds with its placebo seeds, both scored against that held-out
 * target. Every verdict is one of the protocol's claims, Holm-corrected within the family
 * the claim names. Pure: records and protocol in, markdown out.
 */

import { type Claim, type Protocol, protocolHash, ruleInWords, seedsOf, type TargetRule } from '../results/protocol.ts';
import type { CostReading, QualityMetric, RunRecord } from '../results/record.ts';
import { costOnCurve, firstCrossingOnCurve } from '../stats/cost-to-target.ts';
import { type CostPair, type Multiplier, pairedMultiplier } from '../stats/multiplier.ts';
import { suggestTarget, suggestToleranceTarget } from '../stats/targets.ts';
import { type Difference, oneSampleT, pairedT, tost } from '../stats/tests.ts';
import { TASK_INFOS } from '../tiers.ts';
import { bySeed, costSummary } from './analysis.ts';
import { type ClaimTest, differenceMdeText, directionalP, holmByFamily, multiplierMdeText } from './claims.ts';
import { DASH, formatCostSummary, formatDelta, formatP, formatPairedMultiplier, formatTarget, sig, tableOf } from './format.ts';
import { identicalSeeds } from './identity.ts';
import { isQuiet, secondsNotMeasured, timedPair } from './timed.ts';

type Axis = 'executedFlops' | 'seconds';

/** A row's cost cells where nothing can be read: no target yet, or an architecture that refused the task. */
const NO_COSTS = {
  costGood: DASH,
  costFirst: DASH,
  flops: DASH,
  flopsFirst: DASH,
  flopsSecond: DASH,
  seconds: DASH,
  flopsVerdict: null,
  secondsVerdict: null,
} as const;

/** A run's cost to `target` on one axis, read where it reaches it for good or where it first crosses it. */
export function readingOf(r: RunRecord, target: number, crossing: TargetRule['crossing'], axis: Axis): CostReading {
  const curve = r.curve.map((p) => ({ x: axis === 'seconds' ? p.seconds : p.flops, quality: p.quality }));
  const hib = r.task.metric.higherIsBetter;
  return crossing === 'first' ? firstCrossingOnCurve(curve, target, hib) : costOnCurve(curve, target, hib);
}

/** The target a rule sets from the reference's target-setting runs: all of them, or none. */
export function heldOutTarget(
  targetSetting: readonly RunRecord[],
  expected: readonly number[],
  rule: Pick<TargetRule, 'holdFrom' | 'tolerance'>,
): { value: number; seeds: number[] } | { value: null; why: string } {
  const done = targetSetting.filter((r) => r.status === 'completed' && expected.includes(r.task.seed));
  const have = new Set(done.map((r) => r.task.seed));
  if (have.size < expected.length) return { value: null, why: `not set: ${have.size} of ${expected.length} target-setting runs recorded` };
  const s = rule.tolerance
    ? suggestToleranceTarget(done, rule.holdFrom, rule.tolerance.coverage, rule.tolerance.confidence)
    : suggestTarget(done, rule.holdFrom);
  return s
    ? { value: s.value, seeds: s.seeds }
    : { value: null, why: 'not set: a target-setting run has no finite curve, or a quality at its bound (0 loss, 100% accuracy)' };
}

/** Seed-paired cost pairs: ref's run and the arch's on each index of the two seed lists. */
function pairsOf(
  ref: ReadonlyMap<number, RunRecord>,
  refSeeds: readonly number[],
  arch: ReadonlyMap<number, RunRecord>,
  archSeeds: readonly number[],
  read: (r: RunRecord) => CostReading,
  keep: (a: RunRecord, b: RunRecord) => boolean = () => true,
): CostPair[] {
  return refSeeds.flatMap((s, i) => {
    const a = ref.get(s);
    const b = arch.get(archSeeds[i] as number);
    return a && b && keep(a, b) ? [{ seed: b.task.seed, dense: read(a), arch: read(b) }] : [];
  });
}

/** Per-seed final quality difference a − ref, better positive, on shared seeds. */
function qualityDiff(ref: ReadonlyMap<number, RunRecord>, arch: ReadonlyMap<number, RunRecord>): Difference | null {
  const pairs = [...arch.values()].flatMap((b) => {
    const a = ref.get(b.task.seed);
    return a?.final && b.final ? [[a, b] as const] : [];
  });
  if (pairs.length < 2) return null;
  const sign = (pairs[0]?.[0].task.metric.higherIsBetter ?? true) ? 1 : -1;
  return pairedT(
    pairs.map(([, b]) => sign * (b.final?.quality as number)),
    pairs.map(([a]) => sign * (a.final?.quality as number)),
  );
}

/** The test a multiplier puts into a claim: an estimate both ways, a bound only in its own direction, TOST on estimates only. */
function multiplierP(m: Multiplier, claim: Claim, margin: number): number | null {
  if (claim.direction === 'equivalent') return m.kind === 'estimate' ? tost(m.logs, Math.log(margin)).p : null;
  if (claim.direction !== 'greater' && claim.direction !== 'less') return null;
  if (m.kind === 'estimate') return m.n >= 2 ? directionalP(m.logs, claim.direction) : null;
  if (m.kind === 'bound' && m.n >= 2 && (m.direction === 'at least') === (claim.direction === 'greater'))
    return directionalP(m.logs, claim.direction);
  return null;
}

function differenceP(d: Difference | null, claim: Claim, margin: number): number | null {
  if (!d) return null;
  if (claim.direction === 'equivalent') return tost(d, margin).p;
  return claim.direction === 'greater' || claim.direction === 'less' ? directionalP(d, claim.direction) : null;
}

type Evidence =
  | { kind: 'multiplier'; m: Multiplier; margin: number; planned: number | null }
  | { kind: 'difference'; d: Difference | null; margin: number; floor: number | null; show: (x: number) => string };

/** One (task, architecture, against, metric) comparison with the protocol's tests on it. */
interface Judged {
  task: string;
  arch: string;
  evidence: Evidence;
  /** indices into the global test list */
  tests: number[];
}

/** The words of a comparison's verdict from its tests' Holm-adjusted p-values. */
function verdictOf(j: Judged, c: ConfirmatoryReading, p: Protocol): string {
  const { tests, adjusted, sizes } = c;
  const alpha = p.power.alpha;
  const e = j.evidence;
  const rows = j.tests.map((i) => ({ t: tests[i] as ClaimTest, adj: adjusted[i] ?? null }));
  // a family is every test the protocol plans: before the last planned run, Holm would divide by too few
  if (!isComplete(c) && rows.some((r) => r.t.p !== null))
    return `no verdict yet: the families are complete only once every planned run is recorded (unadjusted ${rows
      .map((r) => `${r.t.claim.family} p ${r.t.p === null ? 'none' : formatP(r.t.p)}`)
      .join('; ')})`;
  const label = (c: Claim) => {
    const cost = c.metric === 'executedFlops' || c.metric === 'seconds';
    if (c.direction === 'equivalent')
      return cost
        ? `equivalent within [${sig(1 / e.margin, 3)}, ${e.margin}]×`
        : `equivalent within ±${e.kind === 'difference' ? e.show(e.margin) : e.margin}`;
    if (c.direction === 'greater') return cost ? 'cheaper' : 'better';
    return cost ? 'costlier' : 'worse';
  };
  const pText = (r: { t: ClaimTest; adj: number | null }) =>
    r.t.p === null ? `${r.t.claim.family}: no test` : `${r.t.claim.family} p ${formatP(r.t.p)}, Holm ${formatP(r.adj as number)}`;
  const shown = rows.filter((r) => r.adj !== null && r.adj < alpha);
  if (shown.length) {
    return shown
      .map((r) => {
        if (
          e.kind === 'difference' &&
          r.t.claim.direction !== 'equivalent' &&
          e.d &&
          e.floor !== null &&
          Math.abs(e.d.effect) < 2 * e.floor
        )
          return `no verdict: |Δ| below twice the test set's standard error (${pText(r)})`;
        return `**${label(r.t.claim)}** (${pText(r)})`;
      })
      .join('; ');
  }
  if (rows.every((r) => r.t.p === null)) {
    if (e.kind === 'multiplier' && e.m.kind === 'censored')
      return `not testable: ${e.m.archReached} of ${e.m.n} seeds reached, the reference's ${e.m.denseReached}`;
    if (e.kind === 'multiplier' && e.m.kind === 'bound') return 'inconclusive: a bound in the untested direction';
    return 'not measured: too few runs';
  }
  const family = rows.find((r) => r.t.claim.direction !== 'equivalent')?.t.claim.family ?? rows[0]?.t.claim.family ?? '';
  const size = sizes.get(family) ?? 1;
  const mdeText =
    e.kind === 'multiplier'
      ? multiplierMdeText({
          planned: e.planned,
          sd: e.m.kind === 'estimate' && e.m.logs.se !== null ? e.m.logs.se * Math.sqrt(e.m.n) : null,
          n: e.m.kind === 'estimate' ? e.m.n : 0,
          alpha,
          power: p.power.power,
          familySize: size,
        })
      : differenceMdeText({
          sd: e.d?.se == null ? null : e.d.se * Math.sqrt(e.d.n),
          n: e.d?.n ?? 0,
          alpha,
          power: p.power.power,
          familySize: size,
          show: e.show,
        });
  return `inconclusive (${rows.map(pText).join('; ')}; ${mdeText})`;
}

interface TaskRead {
  task: string;
  metric: QualityMetric | null;
  plannedRuns: number;
  recordedRuns: number;
  target: ReturnType<typeof heldOutTarget>;
  /** dense-block identical to dense on every shared seed */
  identical: number[] | null;
  rows: {
    arch: string;
    seeds: string;
    quality: string;
    qualityDelta: string;
    costGood: string;
    costFirst: string;
    flops: string;
    flopsFirst: string;
    flopsSecond: string;
    seconds: string;
    flopsVerdict: Judged | null;
    secondsVerdict: Judged | null;
    qualityVerdict: Judged | null;
    /** why the architecture refused the task, where it did (no run to measure) */
    refused?: string;
  }[];
  placebo: { text: string; judged: Judged | null; reached: string } | null;
  literature: { claim: Claim; judged: Judged; figures: string }[];
  sensitivity: { arch: string; cells: string[] }[];
}

function byTask(records: readonly RunRecord[], task: string, arch: string, seeds: readonly number[]): Map<number, RunRecord> {
  const m = new Map<number, RunRecord>();
  for (const r of records)
    if (r.task.id === task && r.architecture.name === arch && r.status === 'completed' && r.final && seeds.includes(r.task.seed))
      m.set(r.task.seed, r);
  return m;
}

/** The architectures the claims compare with the reference, in the protocol's order. */
export function comparedArchitectures(p: Protocol): string[] {
  const ref = p.reference.architecture;
  return [
    ...new Set(
      p.claims.filter((c) => c.against === undefined && c.set === 'confirmatory' && c.id !== 'placebo').flatMap((c) => c.architectures),
    ),
  ].filter((a) => a !== ref);
}

/** Runs the protocol plans for a task: target-setting, every architecture's comparison seeds, the placebo's. */
export function plannedRuns(p: Protocol, task: string): number {
  const s = seedsOf(p, task);
  if (!s) return 0;
  return s.targetSetting.length + (comparedArchitectures(p).length + 1) * s.comparison.length + s.placebo.length;
}

export interface ConfirmatoryReading {
  tasks: TaskRead[];
  tests: ClaimTest[];
  adjusted: (number | null)[];
  sizes: Map<string, number>;
}

export function readConfirmatory(p: Protocol, records: readonly RunRecord[]): ConfirmatoryReading {
  const ref = p.reference.architecture;
  const second = p.reference.second;
  const tests: ClaimTest[] = [];
  const add = (claim: Claim, task: string, arch: string, pv: number | null): number => tests.push({ claim, task, arch, p: pv }) - 1;
  const mine = records.filter((r) => r.task.tier === p.tier);
  const tasks: TaskRead[] = [];
  const archs = comparedArchitectures(p);
  const claimsOf = (metric: Claim['metric'], against?: string) =>
    p.claims.filter(
      (c) => c.metric === metric && c.set === 'confirmatory' && c.id !== 'placebo' && c.against === against && !c.id.startsWith('lit-'),
    );
  for (const task of Object.keys(p.tasks)) {
    const plan = p.tasks[task];
    const seeds = seedsOf(p, task);
    if (!plan || !seeds) continue;
    const info = TASK_INFOS.find((t) => t.spec.id === task);
    const own = mine.filter((r) => r.task.id === task);
    const target = heldOutTarget(
      own.filter((r) => r.architecture.name === ref),
      seeds.targetSetting,
      p.targetRules.primary,
    );
    const metric = own[0]?.task.metric ?? null;
    const show = (x: number) => (metric ? formatDelta(x, metric).slice(1) : sig(x, 3));
    const floor = info?.statistics.testSet.standardError ?? null;
    const cells = new Map([ref, ...archs].map((a) => [a, byTask(own, task, a, seeds.comparison)]));
    const refCell = cells.get(ref) as Map<number, RunRecord>;
    const identical = identicalSeeds([...refCell.values()], [...(cells.get(second)?.values() ?? [])]);
    const read = (crossing: TargetRule['crossing'], axis: Axis, value: number) => (r: RunRecord) => readingOf(r, value, crossing, axis);
    // seconds compare only on one machine class, and only where the machine was quiet
    const quietRun = (r: RunRecord) => isQuiet(r, p.seconds.maxLoadPerCore);
    const quiet = timedPair(quietRun);
    const cmp = seeds.comparison;
    const judgedMultiplier = (arch: string, m: Multiplier, claims: Claim[], margin = p.margins.multiplier): Judged => ({
      task,
      arch,
      evidence: { kind: 'multiplier', m, margin, planned: plan.mdeAtSeedsPerCell },
      tests: claims.map((c) => add(c, task, arch, multiplierP(m, c, margin))),
    });
    /** a quality difference by default; `units` for another difference (a log ratio, an AMI), which has no test-set floor */
    const judgedDifference = (arch: string, d: Difference | null, claims: Claim[], units?: (x: number) => string): Judged => ({
      task,
      arch,
      evidence: { kind: 'difference', d, margin: plan.qualityMargin, floor: units ? null : floor, show: units ?? show },
      tests: claims.map((c) => add(c, task, arch, differenceP(d, c, plan.qualityMargin))),
    });
    const rows: TaskRead['rows'] = [];
    const flopsOf = new Map<string, Multiplier>();
    for (const arch of [ref, ...archs]) {
      const cell = cells.get(arch) as Map<number, RunRecord>;
      const k = cell.size;
      // an architecture that refused the task before training (expert-choice declines charlm) is not a missing run
      const refusal = own.find((r) => r.architecture.name === arch && r.status === 'refused' && cmp.includes(r.task.seed));
      if (k === 0 && refusal) {
        const why = `refused by the architecture: ${(refusal.failure?.message ?? 'no reason given').split('\n')[0]}`;
        rows.push({
          arch,
          seeds: `refused (0 of ${cmp.length})`,
          quality: DASH,
          qualityDelta: `not measured: ${why}`,
          qualityVerdict: null,
          ...NO_COSTS,
          refused: why,
        });
        continue;
      }
      const q = [...cell.values()].map((r) => r.final?.quality as number);
      const qMean = q.length ? q.reduce((s, x) => s + x, 0) / q.length : null;
      const isRef = arch === ref;
      const dropped = arch === second && identical !== null;
      const base = {
        arch,
        seeds: `${k} of ${cmp.length}`,
        quality: qMean === null || !metric ? DASH : metric.name === 'accuracy' ? `${(100 * qMean).toFixed(2)}%` : qMean.toPrecision(4),
      };
      const d = isRef ? null : qualityDiff(refCell, cell);
      const qualityDelta = isRef
        ? 'the reference'
        : d && metric
          ? `Δ ${formatDelta(d.effect, metric)} (better is +)`
          : 'not measured: too few runs';
      const qualityVerdict = isRef || dropped ? null : judgedDifference(arch, d, claimsOf('quality'));
      const tv = target.value;
      if (tv === null) {
        rows.push({
          ...base,
          qualityDelta,
          qualityVerdict,
          ...NO_COSTS,
        });
        continue;
      }
      const costOf = (crossing: TargetRule['crossing']) =>
        k === 0 ? DASH : formatCostSummary(costSummary([...cell.values()].map(read(crossing, 'executedFlops', tv))));
      const few = (m: Multiplier) => m.kind === 'no pairs' || (m.kind !== 'not measured' && m.n < 2);
      const shown = (m: Multiplier) => (few(m) ? 'not measured: too few runs' : formatPairedMultiplier(m, ref));
      const m = pairedMultiplier(pairsOf(refCell, cmp, cell, cmp, read('for good', 'executedFlops', tv)));
      flopsOf.set(arch, m);
      const mFirst = pairedMultiplier(pairsOf(refCell, cmp, cell, cmp, read('first', 'executedFlops', tv)));
      const secondCell = cells.get(second);
      const flopsSecond =
        isRef && identical
          ? `identical to ${second}: not tested`
          : arch === second
            ? '1'
            : !secondCell?.size
              ? DASH
              : formatPairedMultiplier(
                  pairedMultiplier(pairsOf(secondCell, cmp, cell, cmp, read('for good', 'executedFlops', tv))),
                  second,
                );
      const allPairs = pairsOf(refCell, cmp, cell, cmp, read('for good', 'seconds', tv));
      const quietPairs = pairsOf(refCell, cmp, cell, cmp, read('for good', 'seconds', tv), quiet);
      let seconds: string;
      let secondsVerdict: Judged | null = null;
      if (isRef) seconds = '1 (the reference)';
      else if (allPairs.length < 2) seconds = 'not measured: too few runs';
      else if (quietPairs.length < 2) seconds = secondsNotMeasured(bySeed([...refCell.values()], [...cell.values()]), quietRun);
      else {
        const ms = pairedMultiplier(quietPairs);
        secondsVerdict = dropped ? null : judgedMultiplier(arch, ms, claimsOf('seconds'));
        seconds = `${formatPairedMultiplier(ms, ref)} (${quietPairs.length} of ${allPairs.length} seeds quiet)`;
      }
      rows.push({
        ...base,
        qualityDelta,
        qualityVerdict,
        costGood: costOf('for good'),
        costFirst: costOf('first'),
        flops: isRef ? '1 (the reference)' : dropped ? `${shown(m)} (identical: not tested)` : shown(m),
        flopsFirst: isRef ? '1' : shown(mFirst),
        flopsSecond,
        seconds,
        flopsVerdict: isRef || dropped ? null : judgedMultiplier(arch, m, claimsOf('executedFlops')),
        secondsVerdict,
      });
    }
    // the placebo: the reference's comparison seeds against its placebo seeds, both against the held-out target
    let placebo: TaskRead['placebo'] = null;
    const placeboClaim = p.claims.find((c) => c.id === 'placebo');
    const placeboCell = byTask(own, task, ref, seeds.placebo);
    if (placeboClaim && target.value !== null) {
      const pairs = pairsOf(refCell, cmp, placeboCell, seeds.placebo, read('for good', 'executedFlops', target.value));
      const m = pairedMultiplier(pairs);
      const reached =
        pairs.filter((x) => x.arch.status === 'reached' || x.arch.status === 'bound').length +
        pairs.filter((x) => x.dense.status === 'reached' || x.dense.status === 'bound').length;
      placebo = {
        text: pairs.length < 2 ? 'not measured: too few runs' : formatPairedMultiplier(m, ref),
        judged:
          pairs.length < 2 ? null : judgedMultiplier(`${ref} (placebo)`, m, [placeboClaim], plan.placeboMargin ?? p.margins.multiplier),
        reached:
          pairs.length === 0
            ? `no pairs yet (${placeboCell.size} placebo and ${refCell.size} comparison runs of ${ref} recorded)`
            : `${reached} of ${2 * pairs.length} runs reached the target${reached === 2 * pairs.length ? ' (every seed)' : ''}`,
      };
    }
    // the literature's claims on the confirmatory set
    const literature: TaskRead['literature'] = [];
    for (const claim of p.claims.filter((c) => c.set === 'confirmatory' && c.id.startsWith('lit-'))) {
      for (const arch of claim.architectures) {
        const cell = cells.get(arch) ?? new Map<number, RunRecord>();
        const against = claim.against ?? ref;
        const other = cells.get(against) ?? new Map<number, RunRecord>();
        if (claim.metric === 'executedFlops') {
          const m = flopsOf.get(arch);
          if (!m) continue;
          literature.push({
            claim,
            judged: judgedMultiplier(arch, m, [claim]),
            figures: `${arch} ${formatPairedMultiplier(m, ref)} on FLOPs`,
          });
        } else if (claim.metric === 'quality') {
          const d = qualityDiff(other, cell);
          literature.push({
            claim,
            judged: judgedDifference(arch, d, [claim]),
            figures:
              d && metric
                ? `${arch} − ${against}: Δ ${formatDelta(d.effect, metric)} (better is +)`
                : `${arch} − ${against}: not measured: too few runs`,
          });
        } else if (claim.metric === 'seconds' && target.value !== null) {
          // per quiet seed reached on both axes: log(seconds multiplier) − log(FLOP multiplier)
          const tv = target.value;
          const logs = cmp.flatMap((s) => {
            const a = refCell.get(s);
            const b = cell.get(s);
            if (!a || !b || !quiet(a, b)) return [];
            const c = [
              readingOf(a, tv, 'for good', 'seconds'),
              readingOf(b, tv, 'for good', 'seconds'),
              readingOf(a, tv, 'for good', 'executedFlops'),
              readingOf(b, tv, 'for good', 'executedFlops'),
            ];
            if (c.some((x) => x.status !== 'reached' || !(x.cost > 0))) return [];
            const [as, bs, af, bf] = c.map((x) => Math.log((x as { cost: number }).cost)) as [number, number, number, number];
            return [as - bs - (af - bf)];
          });
          const d = logs.length >= 2 ? oneSampleT(logs) : null;
          literature.push({
            claim,
            judged: judgedDifference(arch, d, [claim], (x) => `${sig(Math.exp(x), 3)}×`),
            figures: d
              ? `${arch}: seconds multiplier ÷ FLOP multiplier ${sig(Math.exp(d.effect), 3)}× over ${logs.length} quiet seeds`
              : `${arch}: not measured: fewer than 2 quiet seeds reached the target on both axes`,
          });
        } else if (claim.metric === 'legibility') {
          const hash = cells.get('hash') ?? new Map<number, RunRecord>();
          const ami = (r: RunRecord | undefined) => r?.final?.legibility.routing.at(-1)?.ami ?? null;
          const null95 = (r: RunRecord | undefined) => r?.final?.legibility.routing.at(-1)?.amiNull?.p95 ?? null;
          const withAmi = [...cell.values()].filter((r) => ami(r) !== null && null95(r) !== null);
          const above = withAmi.filter((r) => (ami(r) as number) > (null95(r) as number)).length;
          const paired = withAmi.flatMap((r) => {
            const h = ami(hash.get(r.task.seed));
            return h === null ? [] : [[ami(r) as number, h] as const];
          });
          const d =
            paired.length >= 2
              ? pairedT(
                  paired.map(([a]) => a),
                  paired.map(([, b]) => b),
                )
              : null;
          const every = withAmi.length > 0 && above === withAmi.length;
          const j = judgedDifference(arch, d, [claim], (x) => `${sig(x, 2)} AMI`);
          // the claim needs every seed above its own null as well: a seed at or below it decides against the claim's first half
          if (!every && d) tests[j.tests[0] as number] = { claim, task, arch, p: 1 };
          literature.push({
            claim,
            judged: j,
            figures: `${arch} AMI above its permutation null's 95th percentile in ${above} of ${withAmi.length} seeds${d ? `; AMI − hash's ${sig(d.effect, 2)}` : ''}`,
          });
        }
      }
    }
    // the sensitivity table: each headline multiplier under the primary rule and each sensitivity rule
    const rules = [p.targetRules.primary, ...p.targetRules.sensitivity];
    const targets = rules.map((rule) =>
      heldOutTarget(
        own.filter((r) => r.architecture.name === ref),
        seeds.targetSetting,
        rule,
      ),
    );
    const sensitivity = [...archs.filter((a) => !(a === second && identical !== null)), `${ref} (placebo)`].map((arch) => ({
      arch,
      cells: rules.map((rule, i) => {
        const t = targets[i] as ReturnType<typeof heldOutTarget>;
        if (t.value === null) return `target ${t.why}`;
        const placeboRow = arch.endsWith('(placebo)');
        const ps = pairsOf(
          refCell,
          cmp,
          placeboRow ? placeboCell : (cells.get(arch) ?? new Map()),
          placeboRow ? seeds.placebo : cmp,
          read(rule.crossing, 'executedFlops', t.value),
        );
        return ps.length < 2 ? 'not measured: too few runs' : formatPairedMultiplier(pairedMultiplier(ps), ref);
      }),
    }));
    // the planned runs that are settled: completed, or refused by the architecture before training (expert-choice
    // declines charlm: it would read later tokens), which no re-run changes; a run outside the plan is not counted
    const planned = (r: RunRecord) =>
      r.architecture.name === ref
        ? [...seeds.targetSetting, ...seeds.comparison, ...seeds.placebo].includes(r.task.seed)
        : archs.includes(r.architecture.name) && seeds.comparison.includes(r.task.seed);
    const recorded = new Set(
      own
        .filter((r) => (r.status === 'completed' || r.status === 'refused') && planned(r))
        .map((r) => `${r.architecture.name}\u0000${r.task.seed}`),
    ).size;
    tasks.push({
      task,
      metric,
      plannedRuns: plannedRuns(p, task),
      recordedRuns: recorded,
      target,
      identical,
      rows,
      placebo,
      literature,
      sensitivity,
    });
  }
  const { adjusted, sizes } = holmByFamily(tests);
  return { tasks, tests, adjusted, sizes };
}

/** A seed list as "1000–1004" where consecutive. */
function seedRange(xs: readonly number[]): string {
  if (xs.length === 0) return DASH;
  const consecutive = xs.every((x, i) => i === 0 || x === (xs[i - 1] as number) + 1);
  return consecutive && xs.length > 1 ? `${xs[0]}–${xs.at(-1)}` : xs.join(', ');
}

/** The placebo passes: equivalent by its TOST after Holm, and every one of its runs reached the target. */
function placeboPasses(t: TaskRead, c: ConfirmatoryReading, p: Protocol): boolean {
  const j = t.placebo?.judged;
  return !!j && j.tests.every((i) => (c.adjusted[i] ?? 1) < p.power.alpha) && /every seed/.test(t.placebo?.reached ?? '');
}

function taskSection(p: Protocol, t: TaskRead, c: ConfirmatoryReading): string {
  const ref = p.reference.architecture;
  const plan = p.tasks[t.task];
  const seeds = seedsOf(p, t.task);
  const verdict = (j: Judged | null) => (j ? verdictOf(j, c, p) : DASH);
  const metric = t.metric;
  const targetText =
    t.target.value === null
      ? `target ${t.target.why} (dense-block seeds ${seedRange(seeds?.targetSetting ?? [])})`
      : `target ${metric ? formatTarget(t.target.value, metric) : t.target.value}, set by the primary rule (${p.targetRules.primary.id}) from ${ref} seeds ${seedRange(t.target.seeds)} only`;
  const planText = plan
    ? `${plan.seedsPerCell} comparison seeds per cell (${seedRange(seeds?.comparison ?? [])}), placebo seeds ${seedRange(seeds?.placebo ?? [])}; planned MDE ${plan.mdeAtSeedsPerCell}× on the FLOP multiplier${plan.shortfall ? ` (the power calculation asked for ${plan.seedsRequired} pairs: ${plan.shortfall})` : ''}`
    : '';
  const parts = [
    `### ${t.task} — ${t.recordedRuns} of ${t.plannedRuns} planned runs recorded`,
    `*${targetText}; ${planText}; quality margin ±${plan?.qualityMargin}.*`,
  ];
  if (t.recordedRuns === 0) return [...parts, 'No confirmatory run of this task is recorded yet: nothing to show.'].join('\n\n');
  if (t.identical)
    parts.push(
      `*${ref} is bit-identical to ${p.reference.second} here (same quality and executed FLOPs at every evaluation, seeds ${seedRange(t.identical)}): ${p.reference.second} is shown once and tested in no family.*`,
    );
  parts.push(
    tableOf(
      [
        'architecture',
        'comparison seeds recorded',
        'quality at budget',
        `Δ quality vs ${ref}`,
        'executed FLOPs to target, for good',
        'executed FLOPs to target, first crossing',
        `× ${ref} on FLOPs, for good (seed-paired)`,
        `× ${ref} on FLOPs, first crossing`,
        `× ${p.reference.second} on FLOPs (second column)`,
        `× ${ref} on seconds (quiet seeds only)`,
      ],
      [
        ...t.rows.map((r) => [
          r.arch,
          r.seeds,
          r.quality,
          r.qualityDelta,
          r.costGood,
          r.costFirst,
          r.flops,
          r.flopsFirst,
          r.flopsSecond,
          r.seconds,
        ]),
        ...(t.placebo
          ? [
              [
                `${ref} placebo (seeds ${seedRange(seeds?.placebo ?? [])} against ${seedRange(seeds?.comparison ?? [])})`,
                DASH,
                DASH,
                DASH,
                t.placebo.reached,
                DASH,
                t.placebo.text,
                DASH,
                DASH,
                DASH,
              ],
            ]
          : []),
      ],
    ),
  );
  const verdicts = t.rows.flatMap((r) =>
    r.seeds.startsWith('0 ') || r.seeds.startsWith('1 ')
      ? []
      : r.flopsVerdict || r.qualityVerdict || r.secondsVerdict
        ? [
            `- ${r.arch}: FLOPs → ${verdict(r.flopsVerdict)}; seconds → ${r.secondsVerdict ? verdict(r.secondsVerdict) : r.seconds}; quality at budget → ${verdict(r.qualityVerdict)}`,
          ]
        : [],
  );
  const thin = t.rows
    .filter((r) => r.arch !== p.reference.architecture && (r.seeds.startsWith('0 ') || r.seeds.startsWith('1 ')))
    .map((r) => r.arch);
  if (thin.length) verdicts.push(`- ${thin.join(', ')}: not measured: too few runs (fewer than 2 comparison seeds recorded)`);
  for (const r of t.rows) if (r.refused) verdicts.push(`- ${r.arch}: not measured: ${r.refused}`);
  if (t.placebo?.judged && !placeboPasses(t, c, p))
    verdicts.unshift(`- **the placebo does not pass on ${t.task}** (below): the verdicts of this task are not read as findings`);
  if (t.placebo?.judged) verdicts.push(`- placebo: ${t.placebo.text}, ${t.placebo.reached} → ${verdict(t.placebo.judged)}`);
  else if (t.placebo) verdicts.push(`- placebo: ${t.placebo.text}; ${t.placebo.reached}`);
  else verdicts.push(`- placebo: not measured (${t.target.value === null ? `target ${t.target.why}` : 'no runs'})`);
  parts.push(verdicts.join('\n'));
  return parts.join('\n\n');
}

function literatureSection(c: ConfirmatoryReading, p: Protocol): string {
  const lines: string[] = [];
  for (const claim of p.claims.filter((x) => x.set === 'confirmatory' && x.id.startsWith('lit-'))) {
    lines.push(`- **${claim.id}** ${claim.statement}${claim.source ? ` (${claim.source})` : ''}; family ${claim.family}.`);
    const shown = c.tasks.flatMap((t) => {
      // an entry whose test could not run says only "too few runs": one line for all of them below
      const mine = t.literature.filter((l) => l.claim === claim && l.judged.tests.some((i) => c.tests[i]?.p != null));
      return mine.length ? [`  - ${t.task}: ${mine.map((l) => `${l.figures} → ${verdictOf(l.judged, c, p)}`).join('; ')}`] : [];
    });
    lines.push(...(shown.length ? shown : ['  - not measured yet: no test could run on any task (too few runs)']));
  }
  return lines.join('\n');
}

function sensitivitySection(c: ConfirmatoryReading, p: Protocol): string {
  const rules = [p.targetRules.primary, ...p.targetRules.sensitivity];
  const head = ['task', 'architecture', ...rules.map((r, i) => `${r.id}${i === 0 ? ' (primary)' : ''}: ${ruleInWords(r)}`)];
  const body = c.tasks.flatMap((t) => t.sensitivity.map((s) => [t.task, s.arch, ...s.cells]));
  return tableOf(head, body);
}

function familiesSection(c: ConfirmatoryReading, p: Protocol): string {
  const body = p.families.map((f) => {
    const m = c.sizes.get(f.id) ?? 0;
    return [f.id, f.about, String(m), m > 0 ? `${sig(p.power.alpha / m, 2)}` : DASH];
  });
  return tableOf(['family', 'what it holds', 'tests that ran', "Holm's first threshold α/m"], body);
}

/** Whether the confirmatory set is complete: every planned run recorded, every target set. */
export function isComplete(c: ConfirmatoryReading): boolean {
  return c.tasks.every((t) => t.recordedRuns >= t.plannedRuns && t.target.value !== null);
}

/** The answer to "does a middle path pay", from the confirmatory tables only; or a plain statement that there is none yet. */
export function confirmatoryAnswer(p: Protocol, c: ConfirmatoryReading): string {
  const recorded = c.tasks.reduce((s, t) => s + Math.min(t.recordedRuns, t.plannedRuns), 0);
  const planned = c.tasks.reduce((s, t) => s + t.plannedRuns, 0);
  const chosen = `The target rule in force (${p.targetRules.primary.id}: the ${ruleInWords(p.targetRules.primary)}, from the reference's target-setting seeds) was chosen after seeing the exploratory data, and frozen in protocol v${p.version} before the confirmatory runs.`;
  if (!isComplete(c))
    return `**Does a middle path pay?** No verdict yet: the confirmatory runs under protocol v${p.version} are incomplete (${recorded} of ${planned} planned runs recorded), and the findings give no verdict before they are complete. The exploratory tables (the runs seen while the rules were chosen) show directions, not verdicts. ${chosen}`;
  const placeboOk = c.tasks.filter((t) => placeboPasses(t, c, p));
  // a task whose placebo fails gives no verdict: its method is not shown sound
  const passed = new Set(placeboOk.map((t) => t.task));
  const pick = (claimId: string) =>
    c.tests.flatMap((t, i) =>
      t.claim.id === claimId && passed.has(t.task) && (c.adjusted[i] ?? 1) < p.power.alpha ? [`${t.arch} on ${t.task}`] : [],
    );
  const cheaper = pick('cost.greater');
  const costlier = pick('cost.less');
  const same = pick('cost.equivalent');
  const ran = c.tests.filter((t) => t.claim.id === 'cost.greater').length;
  const parts = [
    `**Does a middle path pay?** On training compute against ${p.reference.architecture}, under protocol v${p.version} (${ran} comparisons, Holm per family): `,
    cheaper.length
      ? `fewer executed FLOPs to the target for ${cheaper.join(', ')}`
      : 'no architecture reaches the target in significantly fewer executed FLOPs',
    costlier.length ? `; more for ${costlier.join(', ')}` : '',
    same.length ? `; the same within [${sig(1 / p.margins.multiplier, 3)}, ${p.margins.multiplier}]× by TOST for ${same.join(', ')}` : '',
    `; every other comparison is inconclusive at the MDE its table prints. The placebo passes on ${placeboOk.length} of ${c.tasks.length} tasks${placeboOk.length < c.tasks.length ? `; where it fails, that task's multipliers are not read as verdicts` : ''}. `,
    chosen,
  ];
  return parts.join('');
}

export function renderConfirmatory(p: Protocol, c: ConfirmatoryReading): string {
  const recorded = c.tasks.reduce((s, t) => s + t.recordedRuns, 0);
  const planned = c.tasks.reduce((s, t) => s + t.plannedRuns, 0);
  const head = [
    `## Confirmatory findings: protocol v${p.version}`,
    `*Read under protocol v${p.version} (\`results/protocol.json\`, SHA-256 \`${protocolHash(p)}\`): ${recorded} confirmatory records of the ${planned} runs it plans, tier ${p.tier}. ` +
      `Reference ${p.reference.architecture} (the routed scaffold with one expert), ${p.reference.second} as a second, labelled column. ` +
      `Each task's target is set when the findings are read, by the primary rule from the reference's target-setting seeds only; no compared or placebo run sets it. ` +
      `Multipliers are seed-paired (the same comparison seed on both sides): the geometric mean of the reference's cost ÷ the architecture's, with a 95% t-interval on the logs; > 1 is cheaper. ` +
      `Every verdict is a claim of the protocol, Holm-corrected within its family (named beside each p) at α = ${p.power.alpha}; a directional p is the two-sided p where the effect points the claim's way, 1 otherwise; "equivalent" (no difference) only by TOST against the protocol's margin (${p.margins.multiplier}× on multipliers, each task's quality margin); every "inconclusive" prints its minimum detectable effect. ` +
      `Seconds count only from records whose machine load per core was at most ${p.seconds.maxLoadPerCore} at the start and the end of training. ` +
      `FLOPs and quality are what the verdicts read; the confirmatory records' hardware class is never mixed with the exploratory set's.*`,
    confirmatoryAnswer(p, c),
    ...c.tasks.map((t) => taskSection(p, t, c)),
    `### The literature's directions (confirmatory)\n\n${literatureSection(c, p)}`,
    `### Sensitivity to the target rule\n\nEach headline multiplier (× ${p.reference.architecture} on executed FLOPs) under the primary rule and each sensitivity rule of the protocol; verdicts read the primary rule only.\n\n${sensitivitySection(c, p)}`,
    `### Families\n\n${familiesSection(c, p)}`,
  ];
  return head.join('\n\n');
}
