/** One task's ladder: loss against executed FLOPs on log–log axes, every run a dot, each fit a line. */
import * as Plot from '@observablehq/plot';
import type { TaskScaling } from '../../harness/findings/scaling.ts';
import { flops, logTicks, sig } from '../lib/format.ts';
import { dodge, fromPx, toPx } from '../lib/labels.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';
import { logDomain } from './BoardChart.tsx';
import { LABEL_GAP } from './CurvesChart.tsx';

/** Points along each architecture's fitted curve, across the compute its rungs span. */
function fitLines(t: TaskScaling) {
  return t.archs.flatMap((a) => {
    const f = a.fit;
    const xs = a.rungs.flatMap((r) => r.points.map((p) => p.compute));
    if (!f || xs.length === 0) return [];
    const lo = Math.log(Math.min(...xs));
    const hi = Math.log(Math.max(...xs));
    return Array.from({ length: 24 }, (_, i) => {
      const compute = Math.exp(lo + ((hi - lo) * i) / 23);
      return { arch: a.arch, compute, loss: f.a * compute ** -f.alpha + f.floor };
    });
  });
}

export function ScalingChart({ study, colors }: { study: TaskScaling; colors: ReadonlyMap<string, string> }) {
  const loss = study.metric.higherIsBetter ? `error rate (1 − ${study.metric.name})` : study.metric.name;
  const dots = study.archs.flatMap((a) =>
    a.rungs.flatMap((r) =>
      r.points.map((p) => ({
        arch: a.arch,
        compute: p.compute,
        loss: p.loss,
        title: `${a.arch} · seed ${p.seed} · ${r.tier}\n${flops(p.compute)} executed\nloss ${sig(p.loss, 4)}`,
      })),
    ),
  );
  const color = (arch: string) => colors.get(arch) ?? '#888';
  const frame = {
    width: 640,
    height: Math.max(340, 32 + 42 + LABEL_GAP * (study.archs.length + 1)),
    marginLeft: 64,
    marginRight: 110,
    marginBottom: 42,
    marginTop: 32,
  };
  // the axes span the runs, not the fitted curves (whose floor may sit orders of magnitude below: an axis down to 1e-15 said nothing)
  const xDomain = logDomain(Math.min(...dots.map((d) => d.compute)), Math.max(...dots.map((d) => d.compute)));
  const yDomain = logDomain(Math.min(...dots.map((d) => d.loss)), Math.max(...dots.map((d) => d.loss)));
  // ticks thinned to fit: FLOP counts take ~60 px at 11 px text
  const xTicks = logTicks(xDomain, Math.max(2, Math.floor((frame.width - frame.marginLeft - frame.marginRight) / 80)));
  const yTicks = logTicks(yDomain, 6);
  const fits = fitLines(study);
  const bottom = frame.height - frame.marginBottom;
  const yAxis = { type: 'log' as const, domain: yDomain, range: [bottom, frame.marginTop] as [number, number] };
  const ends = fits.filter((_, i, all) => all[i + 1]?.arch !== all[i]?.arch);
  const placed = dodge(
    ends.map((e) => toPx(yAxis, Math.min(Math.max(e.loss, yDomain[0]), yDomain[1]))),
    LABEL_GAP,
    frame.marginTop,
    bottom,
  );
  const labels = ends.map((e, i) => ({ ...e, lx: xDomain[1], ly: fromPx(yAxis, placed[i] ?? 0) }));
  return plotToReact({
    className: 'mp-plot',
    ...frame,
    style: { fontSize: '11px' },
    x: { type: 'log', domain: xDomain, label: 'executed training FLOPs →', ticks: xTicks, tickFormat: (v: number) => flops(v), grid: true },
    // error rates and losses are plain decimals: no SI prefixes ("200m")
    y: {
      type: 'log',
      domain: yDomain,
      label: `↑ ${loss} (log; lower is better)`,
      ticks: yTicks,
      tickFormat: (v: number) => sig(v, 3),
      grid: true,
    },
    marks: [
      Plot.line(fits, { x: 'compute', y: 'loss', z: 'arch', stroke: (d: { arch: string }) => color(d.arch), strokeWidth: 1.6, clip: true }),
      Plot.dot(dots, {
        x: 'compute',
        y: 'loss',
        r: 2.8,
        fill: (d: { arch: string }) => color(d.arch),
        fillOpacity: 0.75,
        title: 'title',
        className: 'scaling-dot',
      }),
      Plot.text(labels, {
        x: 'lx',
        y: 'ly',
        text: 'arch',
        dx: 6,
        textAnchor: 'start',
        fill: (d: { arch: string }) => color(d.arch),
        className: 'scaling-label',
      }),
    ],
  });
}
