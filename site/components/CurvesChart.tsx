/**
 * One task's quality against cost: a line per architecture (mean over seeds, its 95% band
 * shaded), the task's target as a horizontal rule, and the frontier of the curves as a
 * dashed staircase. Server-rendered SVG; each line's end carries the architecture's name
 * (placed clear of the others, with a leader to its line) and a hover title.
 */
import * as Plot from '@observablehq/plot';
import type { CostAxis } from '../../harness/store/types.ts';
import { qualityScale, type TaskCurves } from '../lib/curves.ts';
import { archColor } from '../lib/family.ts';
import { logTicks, roundTime, sig, timeTicks } from '../lib/format.ts';
import { dodge, fromPx, toPx } from '../lib/labels.ts';

/** Pixels between two line-end labels (12 px text). */
export const LABEL_GAP = 14;

import { plotToReact } from '../lib/plot-ssr.tsx';
import { archHref, COST_LABEL, metricLabel } from '../lib/view.ts';
import { costFormat, linearDomain, logDomain } from './BoardChart.tsx';

/** Each architecture's fixed colour (lib/family.ts): the same on every chart of every page. */
export function archColors(names: readonly string[]): Map<string, string> {
  return new Map([...new Set(names)].map((n) => [n, archColor(n)]));
}

/** Ticks for the cost axis, every one labelled: round times on the time axis, 1-2-5 steps on the others. */
export function costTicks(cost: CostAxis, domain: [number, number]): { ticks: number[]; format: (x: number) => string } {
  if (cost === 'wallSeconds') return { ticks: timeTicks(domain), format: roundTime };
  return { ticks: logTicks(domain), format: costFormat(cost) };
}

export function CurvesChart(props: { curves: TaskCurves; cost: CostAxis; colors: ReadonlyMap<string, string>; width?: number }) {
  const { curves: tc, cost, colors } = props;
  const scale = qualityScale(tc.metric);
  const higher = tc.metric.higherIsBetter;
  const q = (v: number) => v * scale.factor;
  const pts = tc.curves.flatMap((c) => c.points.map((p) => ({ name: c.name, x: p.x, y: q(p.y), lo: q(p.lo), hi: q(p.hi) })));
  if (pts.length === 0) {
    return (
      <figure className="curves-chart" data-task={tc.task} data-curves={0}>
        <p className="muted">Nothing to plot on this axis{tc.off[0] ? `: ${tc.off[0].why}` : ''}.</p>
      </figure>
    );
  }
  const target = tc.target === null ? null : q(tc.target);
  const frame = {
    width: props.width ?? 720,
    height: Math.max(340, 24 + 44 + LABEL_GAP * (tc.curves.length + 1)),
    marginLeft: 58,
    marginRight: 130,
    marginBottom: 44,
    marginTop: 24,
  };
  const xs = pts.map((p) => p.x);
  const xDomain = logDomain(Math.min(...xs), Math.max(...xs));
  const ys = [...pts.flatMap((p) => [p.lo, p.hi]), ...(target === null ? [] : [target])];
  let yDomain = linearDomain(Math.min(...ys), Math.max(...ys));
  yDomain = [Math.max(q(scale.clip[0]), yDomain[0]), Math.min(q(scale.clip[1]), yDomain[1])];
  const { ticks, format } = costTicks(cost, xDomain);
  const bottom = frame.height - frame.marginBottom;
  const ends = tc.curves.flatMap((c) => {
    const last = c.points.at(-1);
    return last ? [{ key: c.name, x: last.x, y: q(last.y), text: c.name }] : [];
  });
  // labels in a column right of the plot, each dodged clear of the others, with a leader to its line's end
  const yAxis = {
    type: 'linear' as const,
    domain: yDomain,
    range: (higher ? [bottom, frame.marginTop] : [frame.marginTop, bottom]) as [number, number],
  };
  const ly = dodge(
    ends.map((e) => toPx(yAxis, e.y)),
    LABEL_GAP,
    frame.marginTop,
    bottom,
  ).map((px) => fromPx(yAxis, px));
  const labels = ends.map((e, i) => ({ ...e, lx: xDomain[1], ly: ly[i] ?? e.y, color: colors.get(e.key) ?? '#333' }));
  const unit = scale.unit ? ` ${scale.unit}` : '';
  const fmtQ = (v: number) => `${sig(v, 4)}${unit}`;
  const endDots = tc.curves.flatMap((c) => {
    const last = c.points.at(-1);
    return last
      ? [
          {
            name: c.name,
            x: last.x,
            y: q(last.y),
            color: colors.get(c.name) ?? '#333',
            href: archHref(c.name),
            title: `${c.name}: ${fmtQ(q(last.y))} (${fmtQ(q(last.lo))} – ${fmtQ(q(last.hi))}) at ${format(last.x)}, mean of ${c.seeds} seed${c.seeds === 1 ? '' : 's'}`,
          },
        ]
      : [];
  });
  const svg = plotToReact({
    className: 'mp-plot',
    ariaLabel: `${tc.task}: ${metricLabel(tc.metric)} against ${COST_LABEL[cost]}`,
    ...frame,
    style: 'font-size: 12px',
    x: {
      type: 'log',
      domain: xDomain,
      ticks,
      tickFormat: format,
      label: `${COST_LABEL[cost]} (log scale) →`,
      labelAnchor: 'right',
      grid: true,
    },
    y: {
      domain: yDomain,
      reverse: !higher,
      grid: true,
      ticks: 6,
      tickFormat: (v: number) => sig(v, 4),
      label: `↑ ${tc.metric.name}${unit ? ` (${scale.unit})` : ''}${higher ? '' : ' — lower is better, drawn upwards'}`,
    },
    marks: [
      Plot.areaY(pts, {
        x: 'x',
        y1: 'lo',
        y2: 'hi',
        z: 'name',
        fill: (d: { name: string }) => colors.get(d.name),
        fillOpacity: 0.13,
        className: 'arch-band',
      }),
      ...(target === null
        ? []
        : [
            Plot.ruleY([target], { stroke: '#d62728', strokeDasharray: '5,3', strokeWidth: 1.5, className: 'target-rule' }),
            Plot.text([target], {
              y: (d: number) => d,
              frameAnchor: 'left',
              dx: 4,
              dy: higher ? -7 : 7,
              text: () => `target ${higher ? '≥' : '≤'} ${fmtQ(target)}`,
              fill: '#d62728',
              className: 'target-label',
            }),
          ]),
      Plot.line(
        tc.frontier.map((f) => ({ ...f, y: q(f.y) })),
        { x: 'x', y: 'y', curve: 'step-after', stroke: '#222', strokeWidth: 1.2, strokeDasharray: '2,3', className: 'curve-frontier' },
      ),
      Plot.line(pts, {
        x: 'x',
        y: 'y',
        z: 'name',
        stroke: (d: { name: string }) => colors.get(d.name),
        strokeWidth: 2,
        className: 'arch-curve',
      }),
      Plot.dot(endDots, { x: 'x', y: 'y', r: 3.5, fill: 'color', title: 'title', href: 'href', ariaLabel: 'name', className: 'curve-end' }),
      // a leader from the line's end to its label, so a label moved clear of others still points at its own line
      Plot.link(labels, {
        x1: 'x',
        y1: 'y',
        x2: 'lx',
        y2: 'ly',
        dx: 4,
        stroke: 'color',
        strokeOpacity: 0.6,
        ariaLabel: 'key',
        className: 'label-leader',
      }),
      Plot.text(labels, {
        x: 'lx',
        y: 'ly',
        text: 'text',
        dx: 7,
        textAnchor: 'start',
        fill: 'color',
        stroke: 'white',
        strokeWidth: 3,
        paintOrder: 'stroke',
        className: 'curve-label',
      }),
    ],
  });
  return (
    <figure className="curves-chart" data-task={tc.task} data-cost={cost} data-curves={tc.curves.length}>
      {svg}
      <figcaption className="small">
        {tc.task}: {metricLabel(tc.metric)} on held-out data against {COST_LABEL[cost]}. Lines: mean over seeds at each evaluation; bands:
        95% interval; dotted staircase: the frontier (best reached at or below each cost);{' '}
        {tc.target === null ? `no target (${tc.targetNote}).` : 'red rule: the target (its basis is under the cost-to-target table).'}
        {tc.off.length > 0 && ` Not drawn: ${tc.off.map((o) => `${o.name} (${o.why})`).join('; ')}.`}
      </figcaption>
    </figure>
  );
}
