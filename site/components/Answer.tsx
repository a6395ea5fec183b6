/**
 * The front page's first screen: does a middle path pay, so far? The answer from the confirmatory
 * records only (harness/findings/confirmatory.ts, as the README's), then, labelled exploratory, one
 * chart computed from the unstamped cpu-tier records on each task's busiest hardware class by the
 * same code as /findings and the cost-to-target tables (findings' hardware-class choice,
 * lib/curves.ts targetTable → harness/findings/analysis.ts multiplierOf). No figure is typed in.
 */
import * as Plot from '@observablehq/plot';
import Link from 'next/link';
import { confirmatoryAnswer, readConfirmatory } from '../../harness/findings/confirmatory.ts';
import { splitBySet } from '../../harness/findings/sets.ts';
import { FINDINGS_TIER, hardwareClassByTask, sliceCounts, taskOrder } from '../../harness/findings/summarize.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import type { Facets, Store } from '../../harness/store/types.ts';
import { CURVE_AXIS, targetTable } from '../lib/curves.ts';
import { archColor } from '../lib/family.ts';
import { multiplier } from '../lib/format.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';
import { PROTOCOL } from '../lib/protocol.ts';
import { logDomain } from './BoardChart.tsx';
import { multKey } from './CostViews.tsx';

interface Reading {
  task: string;
  arch: string;
  value: number;
  lo: number;
  hi: number;
  /** 'estimate' with an interval, or a bound (≥ / ≤) */
  bound: '' | '≥' | '≤';
}

/** Every non-dense architecture's seed-paired FLOP multiplier per task, where it has a figure. */
export function answerReadings(records: readonly RunRecord[], tasks: readonly string[]): { readings: Reading[]; pairs: number } {
  const readings: Reading[] = [];
  let pairs = 0;
  for (const task of tasks) {
    const table = targetTable(records, task, FINDINGS_TIER, CURVE_AXIS.executedFlops);
    for (const row of table?.rows ?? []) {
      const m = row.multiplier;
      if (m === null) continue; // dense itself
      pairs++;
      if (m.kind === 'estimate')
        readings.push({ task, arch: row.name, value: m.value, lo: m.lo ?? m.value, hi: m.hi ?? m.value, bound: '' });
      else if (m.kind === 'bound')
        readings.push({ task, arch: row.name, value: m.value, lo: m.value, hi: m.value, bound: m.direction === 'at least' ? '≥' : '≤' });
    }
  }
  return { readings, pairs };
}

const named = (rs: readonly Reading[]) => rs.map((r) => `${r.arch} on ${r.task} (${multiplier(r.value)})`).join(', ');

export async function Answer({ store, facets }: { store: Store; facets: Facets }) {
  const all: RunRecord[] = [];
  for (const s of facets.slices.filter((x) => x.tier === FINDINGS_TIER))
    all.push(...(await store.records({ task: s.task, tier: s.tier, hardwareClass: s.hardwareClass })));
  // the answer is the confirmatory set's (read under the protocol); the chart below is the exploratory set's, labelled so
  const sets = splitBySet(all, PROTOCOL);
  const verdict = confirmatoryAnswer(PROTOCOL, readConfirmatory(PROTOCOL, sets.confirmatory)).replace(
    /^\*\*Does a middle path pay\?\*\* /,
    '',
  );
  const classes = hardwareClassByTask(sliceCounts(sets.exploratory));
  const records = sets.exploratory.filter((r) => r.hardwareClass === classes[r.task.id]);
  const tasks = taskOrder(records).filter((t) => records.some((r) => r.task.id === t));
  if (tasks.length === 0) return null;
  const { readings, pairs } = answerReadings(records, tasks);
  const cheaper = readings.filter((r) => r.bound === '' && r.lo > 1);
  const dearer = readings.filter((r) => r.bound === '' && r.hi < 1);
  const rest = pairs - cheaper.length - dearer.length;
  const rows = readings;
  const archs = [...new Set(rows.map((r) => r.arch))].sort();
  const domain = logDomain(Math.min(...rows.map((r) => r.lo)), Math.max(...rows.map((r) => r.hi)), 1);
  // one panel per task (fy), an architecture per row: narrow enough to stay legible on a phone
  const chart =
    rows.length === 0
      ? null
      : plotToReact({
          className: 'mp-plot',
          ariaLabel: 'seed-paired multiplier vs dense on executed FLOPs to each task’s target, per task and architecture',
          width: 480,
          height: 44 + (15 * archs.length + 10) * tasks.length,
          marginLeft: 112,
          marginRight: 92,
          marginTop: 8,
          marginBottom: 36,
          style: 'font-size: 11px',
          x: { type: 'log', domain, label: 'FLOPs to target: × dense (> 1×: cheaper) →', tickFormat: multiplier, ticks: 4, grid: true },
          y: { domain: archs, label: null },
          fy: { domain: tasks, label: null },
          facet: { marginRight: 92 },
          marks: [
            Plot.frame({ stroke: '#e3e5ea' }),
            Plot.ruleX([1], { stroke: '#4269d0', strokeDasharray: '3,3' }),
            Plot.ruleY(rows, { fy: 'task', y: 'arch', x1: 'lo', x2: 'hi', stroke: (d: Reading) => archColor(d.arch), strokeWidth: 2 }),
            Plot.dot(rows, {
              fy: 'task',
              x: 'value',
              y: 'arch',
              r: 3.5,
              fill: (d: Reading) => (d.bound ? 'white' : archColor(d.arch)),
              stroke: (d: Reading) => archColor(d.arch),
              strokeWidth: 1.5,
              title: (d: Reading) =>
                `${d.arch} on ${d.task}: ${d.bound ? `${d.bound} ` : ''}${multiplier(d.value)}${d.bound ? ' (bound)' : ` [${multiplier(d.lo)}, ${multiplier(d.hi)}]`}`,
              className: 'answer-dot',
            }),
          ],
        });
  return (
    <section className="answer" aria-label="the answer so far">
      <h1>Does a middle path pay, so far?</h1>
      <p className="lede" data-answer="confirmatory">
        {verdict}
      </p>
      <p className="lede">
        Exploratory (runs seen while the rules were chosen; against dense, not the like-for-like dense-block; no correction for the many
        comparisons): at the {FINDINGS_TIER} tier, across {tasks.length} tasks,{' '}
        {cheaper.length === 0 ? (
          <>no architecture reaches dense’s quality target in fewer executed FLOPs with a 95% interval above 1×.</>
        ) : (
          <>
            {cheaper.length} of {pairs} architecture–task pairs reach dense’s quality target in fewer executed FLOPs with a 95% interval
            above 1×: <span data-answer="cheaper">{named(cheaper)}</span>.
          </>
        )}{' '}
        {dearer.length} need more FLOPs than dense (interval below 1×), and for the other {rest} the interval spans 1× or not every seed
        reached the target.{' '}
        <span className="muted">
          Read with the tests and caveats on <Link href="/findings">the findings</Link> (Holm-corrected verdicts, seconds as well as FLOPs),
          how the gaps move with compute on <Link href="/scaling">the scaling ladder</Link>, and how each figure is measured on{' '}
          <Link href="/methods">methods</Link>.
        </span>
      </p>
      {chart && (
        <figure className="answer-chart" data-points={rows.length}>
          {chart}
        </figure>
      )}
      <ul className="answer-figures visually-hidden">
        {readings.map((r) => (
          // keyed apart: these read the exploratory set against dense; a board or /compare on the confirmatory set's class shows other runs
          <li
            key={`${r.task}/${r.arch}`}
            data-mult={r.bound ? undefined : `exploratory/${multKey(FINDINGS_TIER, r.task, r.arch, 'executedFlops')}`}
          >
            {r.bound ? `${r.bound} ${multiplier(r.value)}` : multiplier(r.value)}
          </li>
        ))}
      </ul>
    </section>
  );
}
