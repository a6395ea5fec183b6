/** One task's ladder: loss against executed FLOPs on log–log axes, every run a dot, each fit a line. */
import * as Plot from '@observablehq/plot';
import type { TaskScaling } from '../../harness/findings/scaling.ts';
import { flops, sig } from '../lib/format.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';

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
  return plotToReact({
    className: 'mp-plot',
    width: 640,
    height: 340,
    marginLeft: 64,
    marginRight: 110,
    marginBottom: 42,
    style: { fontSize: '11px' },
    x: { type: 'log', label: 'executed training FLOPs →', tickFormat: (v: number) => flops(v), grid: true },
    y: { type: 'log', label: `↑ ${loss} (log; lower is better)`, grid: true },
    marks: [
      Plot.line(fitLines(study), { x: 'compute', y: 'loss', z: 'arch', stroke: (d: { arch: string }) => color(d.arch), strokeWidth: 1.6 }),
      Plot.dot(dots, {
        x: 'compute',
        y: 'loss',
        r: 2.8,
        fill: (d: { arch: string }) => color(d.arch),
        fillOpacity: 0.75,
        title: 'title',
        className: 'scaling-dot',
      }),
      Plot.text(
        fitLines(study).filter((_, i, all) => all[i + 1]?.arch !== all[i]?.arch),
        { x: 'compute', y: 'loss', text: 'arch', dx: 6, textAnchor: 'start', fill: (d: { arch: string }) => color(d.arch) },
      ),
    ],
  });
}
