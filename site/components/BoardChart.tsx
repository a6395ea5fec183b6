/**
 * The leaderboard scatter: every architecture at (cost, capability), mean with its 95%
 * interval on both axes, coloured by family, the Pareto frontier as a dashed step line.
 * Rendered on the server as SVG; each dot links to its architecture and carries its
 * figures in an SVG <title> (the hover text without JavaScript).
 */
import * as Plot from '@observablehq/plot';
import type { QualityMetric } from '../../harness/results/record.ts';
import type { CostAxis } from '../../harness/store/types.ts';
import type { Board, BoardPoint } from '../lib/board.ts';
import { higherIsBetter } from '../lib/board.ts';
import { qualityFormat, qualityScale } from '../lib/curves.ts';
import { archColor, FAMILY_LABEL } from '../lib/family.ts';
import { interval, joules, multiplier, seconds, si, sig } from '../lib/format.ts';
import { placeLabels } from '../lib/labels.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';
import { archHref, type CapAxis, COST_LABEL, metricLabel } from '../lib/view.ts';

export function costFormat(cost: CostAxis): (x: number) => string {
  if (cost === 'wallSeconds') return seconds;
  if (cost === 'energyJoules') return joules;
  return (x) => si(x, 'FLOP');
}

export function capFormat(cap: CapAxis): (x: number) => string {
  return cap === 'multiplier' ? multiplier : (x) => sig(x, 4);
}

/** The y values as shown: accuracy in % (clipped to [0, 100]), everything else as recorded. */
function shownY(i: { mean: number; lo: number; hi: number }, cap: CapAxis, metric: QualityMetric | undefined) {
  if (cap !== 'quality') return i;
  const { factor, clip } = qualityScale(metric);
  const c = (v: number) => Math.min(clip[1] * factor, Math.max(clip[0] * factor, v * factor));
  return { mean: i.mean * factor, lo: c(i.lo), hi: c(i.hi) };
}

export function capLabel(cap: CapAxis, metric: QualityMetric | undefined): string {
  return cap === 'multiplier' ? 'compute multiplier vs dense' : metricLabel(metric);
}

function titleOf(p: BoardPoint, cost: CostAxis, cap: CapAxis, metric: QualityMetric | undefined): string {
  const r = p.row;
  const lines = [
    `${p.name} (${FAMILY_LABEL[p.family]})`,
    `${COST_LABEL[cost]}: ${interval(p.x, costFormat(cost))}`,
    `${capLabel(cap, metric)}: ${interval(p.y, cap === 'quality' ? qualityFormat(metric) : capFormat(cap))}`,
  ];
  if (cap === 'multiplier' && r.quality) lines.push(`${metricLabel(metric)}: ${interval(r.quality, qualityFormat(metric))}`);
  lines.push(`params: ${si(r.paramsTotal)} total, ${si(r.paramsActive)} active`);
  lines.push(`seeds: ${r.seeds}${r.failedRuns ? ` (+${r.failedRuns} failed)` : ''}`);
  if (p.frontier) lines.push('on the Pareto frontier');
  return lines.join('\n');
}

/** A log-axis domain around [lo, hi] with some room; runs at one budget sit close together. */
export function logDomain(lo: number, hi: number, include?: number): [number, number] {
  let a = Math.min(lo, include ?? lo);
  let b = Math.max(hi, include ?? hi);
  if (!(a > 0)) a = b > 0 ? b / 10 : 1;
  if (!(b > 0)) b = a * 10;
  const f = Math.max(1.12, (b / a) ** 0.08);
  return [a / f, b * f];
}

export function linearDomain(lo: number, hi: number): [number, number] {
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.abs(hi) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

export function BoardChart(props: { board: Board; cost: CostAxis; cap: CapAxis; metric: QualityMetric | undefined; caption: string }) {
  const { board, cost, cap, metric } = props;
  const pts = board.points.map((p) => ({
    name: p.name,
    family: p.family,
    x: p.x.mean,
    xlo: p.x.lo,
    xhi: p.x.hi,
    y: shownY(p.y, cap, metric).mean,
    ylo: shownY(p.y, cap, metric).lo,
    yhi: shownY(p.y, cap, metric).hi,
    frontier: p.frontier,
    title: titleOf(p, cost, cap, metric),
    href: archHref(p.name),
    color: archColor(p.name),
  }));
  const frontier = pts.filter((p) => p.frontier).sort((a, b) => a.x - b.x);
  const higher = higherIsBetter(cap, metric);
  const costFmt = costFormat(cost);
  const min = (xs: number[]) => Math.min(...xs);
  const max = (xs: number[]) => Math.max(...xs);
  const yLog = cap === 'multiplier';
  const frame = { width: 1160, height: 500, marginLeft: 70, marginRight: 150, marginBottom: 48, marginTop: 34 };
  const xDomain = logDomain(min(pts.map((p) => p.xlo)), max(pts.map((p) => p.xhi)));
  const yDomain = yLog
    ? logDomain(min(pts.map((p) => p.ylo)), max(pts.map((p) => p.yhi)), 1)
    : linearDomain(min(pts.map((p) => p.ylo)), max(pts.map((p) => p.yhi)));
  const bottom = frame.height - frame.marginBottom;
  const labelY = placeLabels(
    pts.map((p) => ({ key: p.name, x: p.x, y: p.y, text: p.name })),
    { type: 'log', domain: xDomain, range: [frame.marginLeft, frame.width - frame.marginRight] },
    { type: yLog ? 'log' : 'linear', domain: yDomain, range: higher ? [bottom, frame.marginTop] : [frame.marginTop, bottom] },
  );
  const labels = pts.map((p) => ({ name: p.name, x: p.x, y: labelY.get(p.name) ?? p.y, dotY: p.y }));
  const svg = plotToReact({
    className: 'mp-plot',
    ariaLabel: props.caption,
    ...frame,
    style: 'font-size: 13px',
    x: {
      type: 'log',
      domain: xDomain,
      label: `${COST_LABEL[cost]} (log scale) →`,
      labelAnchor: 'right',
      grid: true,
      tickFormat: (d: number) => costFmt(d),
      ticks: 7,
    },
    y: {
      type: yLog ? 'log' : 'linear',
      domain: yDomain,
      label: `↑ ${capLabel(cap, metric)}${higher ? '' : ' — lower is better, drawn upwards'}`,
      reverse: !higher,
      grid: true,
      ...(yLog ? { tickFormat: (d: number) => multiplier(d), ticks: 7 } : { ticks: 7 }),
    },
    marks: [
      ...(cap === 'multiplier' ? [Plot.ruleY([1], { stroke: '#4269d0', strokeOpacity: 0.5, strokeDasharray: '2,3' })] : []),
      Plot.line(frontier, {
        x: 'x',
        y: 'y',
        curve: 'step-after',
        stroke: '#555',
        strokeWidth: 1.5,
        strokeDasharray: '6,4',
        className: 'frontier',
      }),
      Plot.ruleX(pts, { x: 'x', y1: 'ylo', y2: 'yhi', stroke: 'color', strokeOpacity: 0.55, strokeWidth: 2 }),
      Plot.ruleY(pts, { y: 'y', x1: 'xlo', x2: 'xhi', stroke: 'color', strokeOpacity: 0.55, strokeWidth: 2 }),
      Plot.dot(pts, {
        x: 'x',
        y: 'y',
        r: 6,
        fill: 'color',
        stroke: (d: { frontier: boolean }) => (d.frontier ? '#222' : 'white'),
        strokeWidth: 1.5,
        title: 'title',
        href: 'href',
        ariaLabel: 'name',
        className: 'arch-dot',
      }),
      // a leader from each dot to its label: a label moved clear of a neighbour still points at its own dot
      Plot.link(labels, { x1: 'x', y1: 'dotY', x2: 'x', y2: 'y', dx: 7, stroke: '#999', ariaLabel: 'name', className: 'label-leader' }),
      Plot.text(labels, {
        x: 'x',
        y: 'y',
        text: 'name',
        ariaLabel: 'name',
        dx: 9,
        textAnchor: 'start',
        fill: '#333',
        stroke: 'white',
        strokeWidth: 3,
        paintOrder: 'stroke',
        className: 'arch-label',
      }),
    ],
  });
  return (
    <figure className="board-chart" data-cost={cost} data-cap={cap} data-points={pts.length}>
      <ul className="legend" aria-label="legend">
        {frontier.length > 0 && (
          <li>
            <span className="swatch frontier-swatch" aria-hidden="true" />
            Pareto frontier
          </li>
        )}
      </ul>
      {pts.length > 0 ? svg : <p className="muted">Nothing to plot on these axes.</p>}
      <figcaption>{props.caption}</figcaption>
      {board.offChart.length > 0 && (
        <p className="muted small off-chart">Not plotted: {board.offChart.map((o) => `${o.name} (${o.why})`).join('; ')}.</p>
      )}
    </figure>
  );
}
