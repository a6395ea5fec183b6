/**
 * The README's scaling section, in words and tables, from scalingStudy's figures. Pure.
 */

import { fallsMeasurably, type ScalingFit } from '../stats/scaling-fit.ts';
import { notEstimable } from '../stats/trend.ts';
import { LADDER } from '../tasks/ladder.ts';
import { cell, DASH, formatP, sig } from './format.ts';
import {
  type ArchScaling,
  type LogEstimate,
  PLACEBO_ARCH,
  type RungFigures,
  SCALING_BASELINE,
  type TaskScaling,
  type TrendRules,
} from './scaling.ts';

export const SCALING_PRODUCE_COMMAND = 'npx middlepath run --tier cpu-eighth --seeds 5 --jobs 2';

const SHARE_LABEL: Record<string, string> = { 'cpu-eighth': '⅛', 'cpu-quarter': '¼', 'cpu-half': '½', cpu: '1' };

function ratio(e: LogEstimate | null): string {
  if (!e) return DASH;
  const iv = e.lo === null || e.hi === null ? '' : ` [${sig(e.lo, 3)}, ${sig(e.hi, 3)}]`;
  return `${sig(e.value, 3)}×${iv}`;
}

function multiplierCell(r: RungFigures | undefined): string {
  const m = r?.multiplier;
  if (!r) return DASH;
  if (!m) return r.multiplierNote ?? DASH;
  const wide = notEstimable(m.lo, m.hi);
  if (wide) return wide;
  const notes = [m.extrapolated ? 'extrapolated' : '', m.unreached ? `${m.unreached} seed(s) beyond dense’s floor` : '']
    .filter(Boolean)
    .join(', ');
  return `${ratio(m)}${notes ? ` (${notes})` : ''}`;
}

function fitCell(a: ArchScaling): string {
  return a.fit ? fitText(a.fit) : `no fit: ${a.fitError ?? 'unknown'}`;
}

function fitText(f: ScalingFit): string {
  const d = f.alphaBySeed;
  const iv = d.lo === null || d.hi === null ? '' : ` [${sig(d.lo, 3)}, ${sig(d.hi, 3)}]`;
  const floor = f.model === 'saturating' ? `, L∞ = ${sig(f.floor, 3)}` : '';
  return `${f.model}, α = ${sig(f.alpha, 3)}${iv}${floor}`;
}

function trendCell(a: ArchScaling): string {
  const t = a.trend;
  if (!t) return DASH;
  const tostIv = t.tostLo === null || t.tostHi === null ? '' : `; TOST interval [${sig(t.tostLo, 3)}, ${sig(t.tostHi, 3)}]`;
  const ps = `gains p ${t.holmGains === null ? 'none' : formatP(t.holmGains)}, loses p ${t.holmLoses === null ? 'none' : formatP(t.holmLoses)}, no-trend TOST p ${t.holmNone === null ? 'none' : formatP(t.holmNone)} (Holm)`;
  return `${ratio(t)} per doubling${tostIv}; ${ps}`;
}

function verdictCell(a: ArchScaling): string {
  const t = a.trend;
  if (a.verdict === 'inconclusive' && t) return `inconclusive (MDE ${t.mde === null ? 'not measured' : `${sig(t.mde, 3)}× per doubling`})`;
  return a.verdict;
}

function table(t: TaskScaling): string {
  const rungs = LADDER.filter((l) => t.tiers.includes(l.tier));
  const head = [
    'architecture',
    'fit of loss on compute (α: 95% t-interval over seeds)',
    ...rungs.map((r) => `loss ÷ ${SCALING_BASELINE} at ${SHARE_LABEL[r.tier] ?? r.tier}`),
    ...rungs.map((r) => `compute × at ${SHARE_LABEL[r.tier] ?? r.tier}`),
    'ratio’s trend (rung means; families trend.greater / trend.less / trend.equivalent, Holm across tasks)',
    'verdict',
  ];
  const rows = [...t.archs, ...(t.placebo ? [t.placebo] : [])].map((a) => {
    const at = (tier: string) => a.rungs.find((r) => r.tier === tier);
    return [
      a.arch,
      fitCell(a),
      ...rungs.map((r) => (a.arch === SCALING_BASELINE ? DASH : ratio(at(r.tier)?.lossRatio ?? null))),
      ...rungs.map((r) => (a.arch === SCALING_BASELINE ? DASH : multiplierCell(at(r.tier)))),
      trendCell(a),
      a.arch === SCALING_BASELINE ? 'the reference' : verdictCell(a),
    ];
  });
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function residualsLine(t: TaskScaling): string {
  const parts = t.archs.flatMap((a) =>
    a.fit ? [`${a.arch} ${a.fit.residuals.map((r) => (r.meanLogResidual >= 0 ? '+' : '') + sig(r.meanLogResidual, 2)).join(' / ')}`] : [],
  );
  return `*Mean residual of log L at each rung, smallest first: ${parts.join('; ')}. A run of one sign bends away from the fitted curve.*`;
}

/** One paragraph per task: each verdict as its tests gave it, and the placebo beside it. */
function answer(t: TaskScaling): string {
  const compared = t.archs.filter((a) => a.arch !== SCALING_BASELINE);
  const by = (v: string) => compared.filter((a) => a.verdict === v).map((a) => a.arch);
  const parts: [string, string[]][] = [
    ['gains on dense-block as compute grows', by('gains on dense-block')],
    ['loses ground to dense-block', by('loses ground to dense-block')],
    ['no trend, shown by TOST within the per-doubling margin', by('no trend (TOST)')],
    [
      'a significant trend, but every rung’s difference is under twice the test set’s standard error',
      by('no verdict: below the test-set floor'),
    ],
    ['inconclusive (neither a trend nor its absence shown; MDE in the table)', by('inconclusive')],
    ['bit-identical to dense-block on every rung: shown once, tested in no family', by('identical to dense-block: not tested')],
  ];
  const said = parts.filter(([, xs]) => xs.length).map(([what, xs]) => `${what}: ${xs.join(', ')}`);
  const refFit = t.archs.find((a) => a.arch === SCALING_BASELINE)?.fit;
  const flat =
    refFit && !fallsMeasurably(refFit)
      ? ` No compute multipliers: ${SCALING_BASELINE}’s loss does not fall measurably over these budgets (${fitText(refFit)}); read the loss ratios.`
      : '';
  const placebo = t.placebo
    ? ` The placebo (${PLACEBO_ARCH} against itself) reads ${t.placebo.verdict}, trend ${trendCell(t.placebo)}.`
    : ` No placebo: ${PLACEBO_ARCH} has no seeds 5–9 on this ladder.`;
  return `On ${t.task} over ${t.tiers.length} budgets (${sig(Math.min(...LADDER.filter((l) => t.tiers.includes(l.tier)).map((l) => l.share)), 3)}× to 1× the cpu budget): ${said.join('; ') || 'no architecture compared'}.${flat}${placebo}`;
}

const method = (r: TrendRules) =>
  'Exploratory: these ladders were run before the protocol and seen while its rules were chosen. ' +
  'Each rung is a separate run with its own full learning-rate schedule at the cpu tier’s model size and tuned learning rate; compute is executed training FLOPs; loss is the metric itself (bpc, weighted MSE) or the error rate 1 − accuracy. ' +
  `Loss ÷ ${SCALING_BASELINE}: seed-paired geometric mean with a 95% t-interval on the logs (< 1: better than the like-for-like control at that compute). ` +
  `Compute ×: the compute ${SCALING_BASELINE}’s own fitted line (same seed) needs to reach the architecture’s loss, over the compute it used (> 1: saves compute); “extrapolated” where the line is read outside the budgets it ran; “not estimable” where the interval spans more than two orders of magnitude. ` +
  `Trend: the slope of log(loss ÷ ${SCALING_BASELINE}) on log₂ of the rung’s budget, fitted on the rung means (the same seed shares its initial weights across rungs), its standard error the larger of the seeds’ own slopes’ and the rung means’ residuals’; shown as the factor per doubling. ` +
  `Its tests are the protocol’s trend families applied to this loss ratio, each Holm-corrected across every task together: gains (factor < 1), loses ground (> 1), and “no trend” only by TOST within [${sig(1 / r.perDoubling, 3)}, ${r.perDoubling}]× per doubling, at α = ${r.alpha}; a trend whose rung differences all lie under twice the test set’s standard error gets no verdict; “inconclusive” prints the smallest per-doubling factor the slope’s spread detects (${r.power * 100}% power). ` +
  `The placebo is ${PLACEBO_ARCH}’s seeds 5–9 read against its seeds 0–4 the same way (only ${PLACEBO_ARCH} has ten seeds on the ladder). ` +
  'Quality and FLOPs do not depend on the CPU (the same backend and kernel reproduce a record bit for bit on another machine), so rungs run on different machine classes are pooled; no figure here uses seconds.';

/** The scaling section: a method paragraph, then per task the answer, the table and the residuals. */
export function scalingSection(study: readonly TaskScaling[], rules: TrendRules): string {
  if (study.length === 0)
    return `### Scaling\n\n*No ladder runs are committed yet. Produce them with \`${SCALING_PRODUCE_COMMAND}\`, the same for \`cpu-quarter\` and \`cpu-half\`, and dense's placebo seeds with \`--arch dense --seed 5 6 7 8 9\` on each rung; commit them, then regenerate this section with \`npm run findings\`.*`;
  return ['### Scaling', method(rules), ...study.flatMap((t) => [`#### ${t.task}`, answer(t), table(t), residualsLine(t)])].join('\n\n');
}
