/**
 * The README's scaling section, in words and tables, from scalingStudy's figures. Pure.
 */

import { fallsMeasurably, type ScalingFit } from '../stats/scaling-fit.ts';
import { LADDER } from '../tasks/ladder.ts';
import { cell, DASH, formatP, sig } from './format.ts';
import type { ArchScaling, LogEstimate, RungFigures, TaskScaling } from './scaling.ts';

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
  if (!a.trend) return DASH;
  const p = a.trend.pHolm === null ? '' : `, p ${formatP(a.trend.pHolm)}`;
  return `${ratio(a.trend)} per doubling${p}`;
}

function table(t: TaskScaling): string {
  const rungs = LADDER.filter((l) => t.tiers.includes(l.tier));
  const head = [
    'architecture',
    'fit of loss on compute (α: 95% t-interval over seeds)',
    ...rungs.map((r) => `loss ÷ dense at ${SHARE_LABEL[r.tier] ?? r.tier}`),
    ...rungs.map((r) => `compute × at ${SHARE_LABEL[r.tier] ?? r.tier}`),
    'ratio’s trend',
    'verdict',
  ];
  const rows = [...t.archs, ...(t.placebo ? [t.placebo] : [])].map((a) => {
    const at = (tier: string) => a.rungs.find((r) => r.tier === tier);
    return [
      a.arch,
      fitCell(a),
      ...rungs.map((r) => (a.arch === 'dense' ? DASH : ratio(at(r.tier)?.lossRatio ?? null))),
      ...rungs.map((r) => (a.arch === 'dense' ? DASH : multiplierCell(at(r.tier)))),
      trendCell(a),
      a.arch === 'dense' ? 'the reference' : a.verdict,
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

/** One paragraph per task: what moved, what did not, and the placebo beside it. */
function answer(t: TaskScaling): string {
  const compared = t.archs.filter((a) => a.arch !== 'dense');
  const by = (v: string) => compared.filter((a) => a.verdict === v).map((a) => a.arch);
  const gains = by('gains on dense');
  const loses = by('loses ground to dense');
  const flat = by('no trend detected');
  const parts = [
    gains.length ? `gains on dense as compute grows: ${gains.join(', ')}` : 'no architecture gains on dense significantly as compute grows',
    loses.length ? `loses ground: ${loses.join(', ')}` : '',
    flat.length ? `no trend detected (its ratio to dense holds within the interval shown): ${flat.join(', ')}` : '',
  ].filter(Boolean);
  const denseFit = t.archs.find((a) => a.arch === 'dense')?.fit;
  const flatDense =
    denseFit && !fallsMeasurably(denseFit)
      ? ` No compute multipliers: dense’s loss does not fall measurably over these budgets (${fitText(denseFit)}), so no compute of dense’s stands for another architecture’s loss; read the loss ratios.`
      : '';
  const placebo = t.placebo
    ? ` The placebo reads ${t.placebo.verdict}, trend ${trendCell(t.placebo)}.`
    : ' No placebo: dense has no seeds 5–9 on this ladder.';
  return `On ${t.task} over ${t.tiers.length} budgets (${sig(Math.min(...LADDER.filter((l) => t.tiers.includes(l.tier)).map((l) => l.share)), 3)}× to 1× the cpu budget): ${parts.join('; ')}.${flatDense}${placebo}`;
}

const METHOD =
  'Each rung is a separate run with its own full learning-rate schedule at the cpu tier’s model size and tuned learning rate; compute is executed training FLOPs; loss is the metric itself (bpc, weighted MSE) or the error rate 1 − accuracy. ' +
  'Loss ÷ dense: seed-paired geometric mean with a 95% t-interval on the logs (< 1: better than dense at that compute). ' +
  'Compute ×: the compute dense’s own fitted line (same seed) needs to reach the architecture’s loss, over the compute it used (> 1: saves compute); “extrapolated” where dense’s line is read outside the budgets it ran. ' +
  'Trend: per seed, the slope of log(loss ÷ dense) on log₂ compute, as the factor per doubling; t-test over seeds, Holm-adjusted within the task (< 1 and p < 0.05: gains on dense). ' +
  'The placebo is dense’s seeds 5–9 read against seeds 0–4 the same way. ' +
  'Quality and FLOPs do not depend on the CPU (the same backend and kernel reproduce a record bit for bit on another machine), so rungs run on different machine classes are pooled; no figure here uses seconds.';

/** The scaling section: a method paragraph, then per task the answer, the table and the residuals. */
export function scalingSection(study: readonly TaskScaling[], _hrefs: Readonly<Record<string, string>>): string {
  if (study.length === 0)
    return `### Scaling\n\n*No ladder runs are committed yet. Produce them with \`${SCALING_PRODUCE_COMMAND}\`, the same for \`cpu-quarter\` and \`cpu-half\`, and dense's placebo seeds with \`--arch dense --seed 5 6 7 8 9\` on each rung; commit them, then regenerate this section with \`npm run findings\`.*`;
  return ['### Scaling', METHOD, ...study.flatMap((t) => [`#### ${t.task}`, answer(t), table(t), residualsLine(t)])].join('\n\n');
}
