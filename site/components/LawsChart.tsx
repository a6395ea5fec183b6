/**
 * A sweep's laws on log axes: loss against the expert count per router, one colour per active
 * size N, every run a dot and Clark's fitted law a line; the residuals of the cell means; and
 * loss against granularity G with its fitted term.
 */
import * as Plot from '@observablehq/plot';
import type { ClarkFit, GranularityFit } from '../../harness/laws/fit.ts';
import type { Observation } from '../../harness/laws/observations.ts';
import { count, sig } from '../lib/format.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';

const frame = { width: 320, height: 260, marginLeft: 56, marginRight: 16, marginBottom: 40, marginTop: 24, style: { fontSize: '11px' } };

/** Loss against E for one router at one tier: dots per run, the fitted law per N. */
export function ExpertsChart({ fit, observations }: { fit: ClarkFit; observations: readonly Observation[] }) {
  const runs = observations
    .filter((o) => o.tier === fit.tier && o.routers.includes(fit.router))
    .map((o) => ({ ...o, n: `N = ${count(fit.cells.find((c) => c.width === o.width)?.n ?? o.activeParams)} (d=${o.width})` }));
  const es = [...new Set(fit.cells.map((c) => c.experts))].sort((a, b) => a - b);
  const lines = fit.cells
    .filter((c, i, all) => all.findIndex((x) => x.width === c.width) === i)
    .flatMap((c) =>
      es.map((e) => ({
        n: `N = ${count(c.n)} (d=${c.width})`,
        experts: e,
        loss: Math.exp(fit.a.value * Math.log(c.n) + fit.b.value * Math.log(e) + fit.c.value * Math.log(c.n) * Math.log(e) + fit.d.value),
      })),
    );
  return plotToReact({
    className: 'mp-plot',
    ...frame,
    x: { type: 'log', base: 2, label: 'experts E →', ticks: es, tickFormat: (v: number) => String(v) },
    y: { type: 'log', label: '↑ held-out loss (nats)', tickFormat: (v: number) => sig(v, 3), grid: true },
    color: { legend: true, type: 'ordinal' },
    marks: [
      Plot.line(lines, { x: 'experts', y: 'loss', stroke: 'n', strokeWidth: 1.5 }),
      Plot.dot(runs, {
        x: 'experts',
        y: 'loss',
        fill: 'n',
        r: 2.5,
        fillOpacity: 0.7,
        title: (d: Observation) => `${d.arch} E=${d.experts} d=${d.width} seed ${d.seed}\nloss ${sig(d.loss, 4)}`,
      }),
    ],
  });
}

/** Residuals of the cell means (observed − fitted log L) against E, per N. */
export function ResidualsChart({ fit }: { fit: ClarkFit }) {
  const rows = fit.cells.map((c) => ({ ...c, n: `d=${c.width}` }));
  return plotToReact({
    className: 'mp-plot',
    ...frame,
    height: 200,
    x: { type: 'log', base: 2, label: 'experts E →', tickFormat: (v: number) => String(v) },
    y: { label: '↑ residual of mean log L', tickFormat: (v: number) => sig(v, 2), grid: true },
    marks: [Plot.ruleY([0]), Plot.dot(rows, { x: 'experts', y: 'residual', stroke: 'n', r: 3 })],
  });
}

/** Loss against G at one tier, with the fitted term. */
export function GranularityChart({ fit, observations }: { fit: GranularityFit; observations: readonly Observation[] }) {
  const runs = observations.filter((o) => o.tier === fit.tier && o.arch === fit.router && o.experts > 1);
  const line = fit.cells.map((c) => ({ granularity: c.granularity, loss: Math.exp(c.fitted) }));
  return plotToReact({
    className: 'mp-plot',
    ...frame,
    x: { type: 'log', base: 2, label: 'granularity G →', ticks: fit.cells.map((c) => c.granularity), tickFormat: (v: number) => String(v) },
    y: { type: 'log', label: '↑ held-out loss (nats)', tickFormat: (v: number) => sig(v, 3), grid: true },
    marks: [
      Plot.line(line, { x: 'granularity', y: 'loss', strokeWidth: 1.5 }),
      Plot.dot(runs, {
        x: 'granularity',
        y: 'loss',
        r: 2.5,
        fillOpacity: 0.7,
        fill: 'currentColor',
        title: (d: Observation) => `G=${d.granularity} seed ${d.seed}\nloss ${sig(d.loss, 4)}`,
      }),
    ],
  });
}
