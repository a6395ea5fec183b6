/** The charts of one run, each a server-rendered Plot SVG. */
import * as Plot from '@observablehq/plot';
import type { ReactNode } from 'react';
import type { Legibility, RoutingLayerStats, RunRecord } from '../../harness/results/record.ts';

type Ablation = NonNullable<Legibility['ablation']>;

import { TASK_INFOS } from '../../harness/tiers.ts';
import { qualityScale } from '../lib/curves.ts';
import { flops, linearTimeTicks, roundTime, seconds, sig } from '../lib/format.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';

const W = 560;
const H = 300;
const base = { className: 'mp-plot', width: W, height: H, marginLeft: 60, marginRight: 20, marginBottom: 42, style: { fontSize: '11px' } };

/** Ticks for a time axis from 0: round values ("2 min"), the origin written "0" with no unit to disagree with the rest. */
function timeAxis(max: number) {
  return { ticks: linearTimeTicks(max), tickFormat: (x: number) => (x === 0 ? '0' : roundTime(x)) };
}

/** Quality against executed FLOPs or training seconds: one dot per evaluation point; accuracy in %. */
export function CurveChart({ record, against }: { record: RunRecord; against: 'flops' | 'seconds' }) {
  const m = record.task.metric;
  const scale = qualityScale(m);
  const unit = scale.unit ? ` ${scale.unit}` : '';
  const pts = record.curve.map((c) => ({
    x: against === 'flops' ? c.flops : c.seconds,
    quality: c.quality * scale.factor,
    title: `step ${c.step}\n${flops(c.flops)} executed, ${seconds(c.seconds)}\n${m.name}: ${sig(c.quality * scale.factor, 4)}${unit}\neval loss ${sig(c.evalLoss, 4)}`,
  }));
  const maxX = Math.max(0, ...pts.map((p) => p.x));
  const x =
    against === 'flops'
      ? { label: 'executed training FLOPs →', tickFormat: (v: number) => flops(v), ticks: 5, grid: true }
      : { label: 'training time →', ...timeAxis(maxX), domain: [0, maxX], grid: true };
  return plotToReact({
    ...base,
    x,
    y: {
      label: `↑ ${m.name}${scale.unit ? ` (${scale.unit})` : ''}${m.higherIsBetter ? '' : ' (lower is better)'}`,
      reverse: !m.higherIsBetter,
      grid: true,
    },
    marks: [
      ...(against === 'flops' && record.training.budgetFlops > 0
        ? [Plot.ruleX([record.training.budgetFlops], { stroke: '#999', strokeDasharray: '4,3' })]
        : []),
      Plot.line(pts, { x: 'x', y: 'quality', stroke: '#2f55b8', strokeWidth: 2 }),
      Plot.dot(pts, { x: 'x', y: 'quality', r: 3.5, fill: '#2f55b8', title: 'title', className: `curve-dot curve-${against}` }),
    ],
  });
}

const LOSS_SERIES = [
  { name: 'training loss', color: '#ff725c', className: 'loss-train' },
  { name: 'evaluation loss', color: '#2f55b8', className: 'loss-eval' },
] as const;

/**
 * Training loss (mean since the previous evaluation) and held-out loss at each evaluation
 * point, against executed FLOPs: the record's curve carries both at every point.
 */
export function LossChart({ record }: { record: RunRecord }) {
  const train = record.curve.flatMap((c) =>
    c.trainLoss === null || !Number.isFinite(c.trainLoss) ? [] : [{ x: c.flops, loss: c.trainLoss, step: c.step }],
  );
  const evals = record.curve.flatMap((c) => (Number.isFinite(c.evalLoss) ? [{ x: c.flops, loss: c.evalLoss, step: c.step }] : []));
  if (train.length + evals.length === 0) return null;
  const [t, e] = LOSS_SERIES;
  const chart = plotToReact({
    ...base,
    x: { label: 'executed training FLOPs →', tickFormat: (v: number) => flops(v), ticks: 5, grid: true },
    y: { label: '↑ task loss (lower is better)', grid: true },
    marks: [
      Plot.line(train, { x: 'x', y: 'loss', stroke: t.color, strokeWidth: 1.5 }),
      Plot.dot(train, {
        x: 'x',
        y: 'loss',
        r: 2.5,
        fill: t.color,
        title: (d: { step: number; loss: number }) => `step ${d.step}: training loss ${sig(d.loss, 4)}`,
        className: t.className,
      }),
      Plot.line(evals, { x: 'x', y: 'loss', stroke: e.color, strokeWidth: 2 }),
      Plot.dot(evals, {
        x: 'x',
        y: 'loss',
        r: 3,
        fill: e.color,
        title: (d: { step: number; loss: number }) => `step ${d.step}: evaluation loss ${sig(d.loss, 4)}`,
        className: e.className,
      }),
    ],
  });
  return <WithLegend series={LOSS_SERIES} chart={chart} />;
}

export function PowerChart({ record }: { record: RunRecord }) {
  const energy = record.energy;
  return plotToReact({
    ...base,
    x: { label: 'seconds into training →', grid: true },
    y: { label: '↑ watts', grid: true, zero: true },
    marks: [
      ...(energy.measured ? [Plot.ruleY([energy.idleWatts], { stroke: '#999', strokeDasharray: '4,3' })] : []),
      Plot.line(record.powerTrace, { x: 't', y: 'watts', stroke: '#ff725c', strokeWidth: 1.5 }),
      Plot.dot(record.powerTrace, {
        x: 't',
        y: 'watts',
        r: 1.5,
        fill: '#ff725c',
        title: (d: { t: number; watts: number }) => `${sig(d.t)} s: ${sig(d.watts)} W`,
      }),
    ],
  });
}

export function RoutingLoadChart({ layer }: { layer: RoutingLayerStats }) {
  const data = layer.load.map((share, expert) => ({ expert: String(expert), share }));
  return plotToReact({
    ...base,
    height: 220,
    x: { label: 'expert', type: 'band' },
    y: { label: '↑ share of routed examples', grid: true, tickFormat: '.0%' },
    marks: [
      Plot.barY(data, {
        x: 'expert',
        y: 'share',
        fill: '#ff725c',
        title: (d: { expert: string; share: number }) => `expert ${d.expert}: ${(d.share * 100).toFixed(1)}%`,
      }),
      Plot.ruleY([1 / Math.max(1, layer.experts)], { stroke: '#333', strokeDasharray: '4,3' }),
    ],
  });
}

interface Cell {
  row: string;
  expert: string;
  fill: number;
  title: string;
}

/** What a task's labels are (subtask, digit, character), from its spec; 'label' for a task not in the suite. */
export function groupName(task: string): string {
  return TASK_INFOS.find((t) => t.spec.id === task)?.spec.groups.name ?? 'label';
}

const range = (n: number) => Array.from({ length: n }, (_, i) => String(i));

/** Experts across, labels (groups) down, both in numeric order: one shaded cell each, with the colour legend. */
function expertGrid(
  cells: Cell[],
  experts: number,
  rows: number,
  group: string,
  legend: string,
  scheme: 'blues' | 'oranges',
  className: string,
) {
  const height = Math.min(560, 60 + rows * 22);
  // every k-th label, so that labels 14 px tall never overlap however many rows or experts there are
  const every = (n: number, px: number) => range(n).filter((_, i) => i % Math.max(1, Math.ceil((14 * n) / px)) === 0);
  return plotToReact({
    ...base,
    height,
    marginLeft: 60,
    x: { label: 'expert', type: 'band', domain: range(experts), ticks: every(experts, 560 / 2) },
    y: { label: group, type: 'band', domain: range(rows), ticks: every(rows, height - 60) },
    color: {
      scheme,
      legend: true,
      label: legend,
      type: 'quantize',
      n: 5,
      domain: [0, Math.max(1e-9, ...cells.map((c) => c.fill))],
      tickFormat: (v: number) => sig(v, 2),
    },
    marks: [Plot.cell(cells, { x: 'expert', y: 'row', fill: 'fill', inset: 0.5, title: 'title', className })],
  });
}

/** counts[group][expert] of top-1 choices, shaded by the share of each group's examples. */
export function ExpertLabelHeatmap({ layer, task }: { layer: RoutingLayerStats; task: string }) {
  const group = groupName(task);
  const cells: Cell[] = [];
  layer.counts.forEach((row, g) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, e) => {
      const share = count / total;
      cells.push({
        row: String(g),
        expert: String(e),
        fill: share,
        title: `${group} ${g} → expert ${e}: ${count} (${(share * 100).toFixed(1)}% of the ${group}’s examples)`,
      });
    });
  });
  return expertGrid(
    cells,
    layer.experts,
    layer.counts.length,
    group,
    `share of the ${group}’s examples sent to the expert`,
    'blues',
    'routing-cell',
  );
}

/** matrix[expert][group]: how much masking the expert costs each group, in the task's metric. */
export function AblationHeatmap({ ablation, task }: { ablation: Ablation; task: string }) {
  const group = groupName(task);
  const cells: Cell[] = [];
  const groups = ablation.matrix[0]?.length ?? 0;
  ablation.matrix.forEach((row, e) => {
    row.forEach((drop, g) => {
      cells.push({
        row: String(g),
        expert: String(e),
        fill: Math.max(0, drop),
        title: `mask expert ${e}: ${group} ${g} loses ${sig(drop, 3)}`,
      });
    });
  });
  return expertGrid(
    cells,
    ablation.matrix.length,
    groups,
    group,
    `what the ${group} loses with the expert masked`,
    'oranges',
    'ablation-cell',
  );
}

/** Update density (and activation sparsity) at each evaluation point. */
export function DensityChart({ record }: { record: RunRecord }) {
  const pts: { flops: number; value: number; series: string }[] = [];
  for (const c of record.curve) {
    const l = c.legibility;
    if (!l) continue;
    if (l.updateDensity != null) pts.push({ flops: c.flops, value: l.updateDensity, series: 'update density' });
    if (l.gradientDensity != null) pts.push({ flops: c.flops, value: l.gradientDensity, series: 'gradient density' });
    if (l.activationSparsity != null) pts.push({ flops: c.flops, value: l.activationSparsity, series: 'activation sparsity' });
  }
  if (pts.length === 0) return null;
  const series = SERIES.filter((x) => pts.some((p) => p.series === x.name));
  const chart = plotToReact({
    ...base,
    x: { label: 'executed training FLOPs →', tickFormat: (x: number) => flops(x), ticks: 5, grid: true },
    y: { label: '↑ share', domain: [0, 1], tickFormat: '.0%', grid: true },
    color: { domain: SERIES.map((x) => x.name), range: SERIES.map((x) => x.color), legend: false },
    marks: [
      Plot.line(pts, { x: 'flops', y: 'value', stroke: 'series', strokeWidth: 2 }),
      Plot.dot(pts, {
        x: 'flops',
        y: 'value',
        fill: 'series',
        r: 2.5,
        title: (d: { series: string; value: number }) => `${d.series}: ${(d.value * 100).toFixed(1)}%`,
      }),
    ],
  });
  return <WithLegend series={series} chart={chart} />;
}

/** A chart with its series named above it, each with its colour. */
function WithLegend({ series, chart }: { series: readonly { name: string; color: string }[]; chart: ReactNode }) {
  return (
    <>
      <ul className="legend">
        {series.map((x) => (
          <li key={x.name}>
            <span className="swatch" style={{ background: x.color }} aria-hidden="true" />
            {x.name}
          </li>
        ))}
      </ul>
      {chart}
    </>
  );
}

const SERIES = [
  { name: 'update density', color: '#2f55b8' },
  { name: 'gradient density', color: '#97bbf5' },
  { name: 'activation sparsity', color: '#3ca951' },
] as const;
