/**
 * The leaderboard for one view: the choices, the scatter and the table. Shared by `/`
 * (live, query parameters) and /board/… (static export, path segments).
 */

import { PROVENANCE_TEXT } from '../../harness/results/provenance.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import type { Facets, LeaderboardRow } from '../../harness/store/types.ts';
import { COST_AXES } from '../../harness/store/types.ts';
import { boardFor } from '../lib/board.ts';
import { CURVE_AXIS, targetTable } from '../lib/curves.ts';
import { FAMILY_LABEL } from '../lib/family.ts';
import { isExport } from '../lib/mode.ts';
import {
  COST_LABEL,
  downloadHref,
  FAMILY_CHOICES,
  hardwareIn,
  metricLabel,
  provChoices,
  shows,
  tasksIn,
  tiersWithRuns,
  type View,
  viewHref,
  withChange,
} from '../lib/view.ts';
import { BoardChart } from './BoardChart.tsx';
import { BoardTable } from './BoardTable.tsx';
import { CostViews, multKey } from './CostViews.tsx';
import { type Choice, ChoiceGroup } from './Filters.tsx';

export function Leaderboard(props: {
  facets: Facets;
  view: View;
  /** the store's leaderboard rows for the view's slice (before the family and hide filters) */
  rows: LeaderboardRow[];
  /** the completed runs' records of the slice, for the curves and cost to target */
  records: readonly RunRecord[];
  notes: string[];
}) {
  const { facets, view } = props;
  const rows = props.rows.filter((r) => shows(view, r.architecture, r.family));
  const records = props.records.filter((r) => shows(view, r.architecture.name, r.architecture.family));
  const metric = view.task === 'all' ? undefined : facets.metrics[view.task];
  const href = (change: Partial<View>) => viewHref(facets, withChange(facets, view, change));
  const tasks = tasksIn(facets, view.tier, view.hw);
  const energyMeasured = rows.some((r) => r.energyJoules !== null);
  const energyWhy = rows.find((r) => r.energyNote)?.energyNote ?? 'no run in this slice measured energy';

  const taskChoices: Choice[] = [
    {
      id: 'all',
      label: 'all tasks',
      title: 'every task: curves, cost to target and the performance profile',
      href: href({ task: 'all' }),
      current: view.task === 'all',
    },
    ...tasks.map((t) => ({ id: t, label: t, title: metricLabel(facets.metrics[t]), href: href({ task: t }), current: view.task === t })),
  ];
  const tierChoices: Choice[] = tiersWithRuns(facets).map((t) => ({ id: t, label: t, href: href({ tier: t }), current: view.tier === t }));
  const hwChoices: Choice[] = hardwareIn(facets, view.tier).map((h) => ({
    id: h,
    label: h,
    href: href({ hw: h }),
    current: view.hw === h,
  }));
  const costChoices: Choice[] = COST_AXES.map((c) => ({
    id: c,
    label: COST_LABEL[c],
    href: c === 'energyJoules' && !energyMeasured ? null : href({ cost: c }),
    title: c === 'energyJoules' && !energyMeasured ? `not measured: ${energyWhy}` : undefined,
    current: view.cost === c,
  }));
  const famChoices: Choice[] = FAMILY_CHOICES.filter((f) => f === 'all' || props.rows.some((r) => r.family === f)).map((f) => ({
    id: f,
    label: f === 'all' ? 'every family' : FAMILY_LABEL[f],
    href: isExport ? null : href({ fam: f }),
    current: view.fam === f,
  }));
  // each name toggles: a shown one hides, a hidden one shows again
  const archChoices: Choice[] = props.rows
    .filter((r) => view.fam === 'all' || r.family === view.fam)
    .map((r) => {
      const hidden = view.hide.includes(r.architecture);
      return {
        id: r.architecture,
        label: r.architecture,
        title: hidden ? 'hidden: click to show' : 'shown: click to hide',
        href: isExport
          ? null
          : href({ hide: hidden ? view.hide.filter((h) => h !== r.architecture) : [...view.hide, r.architecture].sort() }),
        current: !hidden,
      };
    });

  // a static export has one view per path, and is built from the published records anyway
  const provOptions = isExport ? [] : provChoices(facets);
  const provChoiceList: Choice[] = provOptions.map((p) => ({
    id: p,
    label: p === 'all' ? 'all runs' : p,
    title: p === 'all' ? 'every run in the store' : p === 'published' ? 'baselines and verified submissions only' : PROVENANCE_TEXT[p],
    href: href({ prov: p }),
    current: view.prov === p,
  }));

  // The chart at the budget plots quality (one task only: tasks have different metrics). The old
  // "multiplier vs dense's final quality" is retired: the one multiplier is the fixed-target,
  // seed-paired one of the cost-to-target tables, which the table's compute × column repeats.
  const board = boardFor(rows, view.task, view.cost, 'quality', metric);
  const caption = `Task ${view.task}, tier ${view.tier}, on ${view.hw}: ${metricLabel(metric)} at the FLOP budget against ${COST_LABEL[view.cost]}. Dots: mean over seeds; bars: 95% interval; dashed line: the Pareto frontier.`;
  const table = view.task === 'all' ? null : targetTable(records, view.task, view.tier, CURVE_AXIS.executedFlops);
  // no target in this tier (or no runs): no multiplier to show, so no compute × column
  const target =
    table && table.target !== null
      ? (arch: string) => {
          const row = table.rows.find((r) => r.name === arch);
          return { m: row ? row.multiplier : undefined, k: multKey(view.tier, view.task, arch, 'executedFlops') };
        }
      : undefined;
  const viewKey = JSON.stringify(view);

  return (
    <>
      <section className="choices" aria-label="what to show">
        <ChoiceGroup name="task" legend="task" choices={taskChoices} />
        <ChoiceGroup name="tier" legend="tier" choices={tierChoices} />
        <ChoiceGroup name="hw" legend="hardware" choices={hwChoices} />
        <ChoiceGroup name="cost" legend="cost axis" choices={costChoices} />
        {provChoiceList.length > 1 && <ChoiceGroup name="prov" legend="provenance" choices={provChoiceList} />}
        {!isExport && famChoices.length > 2 && <ChoiceGroup name="fam" legend="family" choices={famChoices} />}
        {!isExport && archChoices.length > 1 && <ChoiceGroup name="arch" legend="architectures shown" choices={archChoices} />}
      </section>
      {props.notes.length > 0 && <p className="note">Showing the nearest available view: {props.notes.join('; ')}.</p>}
      {rows.length === 0 ? (
        <p className="note">No completed runs in this view.</p>
      ) : (
        <>
          <CostViews records={records} tasks={view.task === 'all' ? tasks : [view.task]} tier={view.tier} cost={view.cost} />
          {view.task !== 'all' && (
            <>
              <h2 id="at-budget">At the FLOP budget</h2>
              <BoardChart key={`chart-${viewKey}`} board={board} cost={view.cost} cap="quality" metric={metric} caption={caption} />
            </>
          )}
          <div className="table-head">
            <h2>
              {rows.length} architecture{rows.length === 1 ? '' : 's'}
            </h2>
            <p className="downloads">
              Download this table: <a href={downloadHref(facets, view, 'csv')}>CSV</a> ·{' '}
              <a href={downloadHref(facets, view, 'json')}>JSON</a>
            </p>
          </div>
          <BoardTable
            key={`table-${viewKey}`}
            rows={rows}
            view={view}
            metric={metric}
            frontier={new Set(board.points.filter((p) => p.frontier).map((p) => p.name))}
            sortHref={(key, dir) => viewHref(facets, { ...view, sort: key, dir })}
            target={target}
          />
        </>
      )}
    </>
  );
}
