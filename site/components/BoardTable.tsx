/**
 * The leaderboard table, rendered on the server. Column headers are links that re-sort on
 * the server (no JavaScript needed); TableSorter re-sorts in place when JavaScript runs.
 * Every figure cell carries its raw value in data-value, which sorting and tests read.
 */
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { QualityMetric } from '../../harness/results/record.ts';
import type { Multiplier } from '../../harness/stats/multiplier.ts';
import type { Interval, LeaderboardRow } from '../../harness/store/types.ts';
import { tableSeconds } from '../lib/board.ts';
import { qualityFormat } from '../lib/curves.ts';
import { FAMILY_COLOR, FAMILY_LABEL, FAMILY_SHORT } from '../lib/family.ts';
import { count, flopCount, intervalParts, joules, percent, seconds, sig } from '../lib/format.ts';
import { archHref, COST_LABEL, metricLabel, type SortDir, type SortKey, type View } from '../lib/view.ts';
import { MultiplierCell } from './CostViews.tsx';
import { ProvenanceMarks } from './Provenance.tsx';
import { TableSorter } from './TableSorter.tsx';

interface Column {
  key: SortKey;
  label: string;
  title?: string;
  numeric: boolean;
  value(r: LeaderboardRow): number | string | null;
  cell(r: LeaderboardRow): ReactNode;
  /** the default direction when first sorting by this column */
  dir: SortDir;
}

/** The mean, and its 95% interval in small type beneath; exact figures on hover. */
export function IntervalCell({ i, fmt }: { i: Interval; fmt: (x: number) => string }) {
  const { mean, ci } = intervalParts(i, fmt);
  return (
    <span className="iv" title={i.n > 1 ? `mean ${i.mean}\n95% interval ${i.lo} … ${i.hi}\nn = ${i.n}` : `one run: ${i.mean}`}>
      <span className="mean">{mean}</span>
      {ci !== null && <span className="ci">{ci}</span>}
    </span>
  );
}

const iv = (i: Interval | null, fmt: (x: number) => string): ReactNode => (i ? <IntervalCell i={i} fmt={fmt} /> : '—');

const frac = (x: number | null): ReactNode => percent(x);

/** An architecture's fixed-target multiplier (undefined: not in the table) and its data-mult key. */
export type TargetMultiplier = (arch: string) => { m: Multiplier | null | undefined; k: string };

export function columnsFor(
  task: string,
  metric: QualityMetric | undefined,
  time: (s: number) => string = seconds,
  /** one task's cost-to-target multipliers; without them (all tasks) there is no compute × column */
  target?: TargetMultiplier,
): Column[] {
  const higher = metric?.higherIsBetter ?? true;
  const cols: Column[] = [
    {
      key: 'architecture',
      label: 'architecture',
      numeric: false,
      dir: 'asc',
      value: (r) => r.architecture,
      cell: (r) => (
        <>
          <Link href={archHref(r.architecture)} prefetch={false} title={r.description}>
            {r.architecture}
          </Link>
          <ProvenanceMarks provenance={r.provenance} />
        </>
      ),
    },
    {
      key: 'family',
      label: 'family',
      numeric: false,
      dir: 'asc',
      value: (r) => r.family,
      cell: (r) => (
        <span
          className="badge"
          style={{ borderColor: FAMILY_COLOR[r.family], color: FAMILY_COLOR[r.family] }}
          title={FAMILY_LABEL[r.family]}
        >
          {FAMILY_SHORT[r.family]}
        </span>
      ),
    },
  ];
  if (task !== 'all') {
    cols.push({
      key: 'quality',
      label: metricLabel(metric),
      title: `held-out ${metric?.name ?? 'quality'} at the FLOP budget, mean and 95% interval over seeds (${higher ? 'higher' : 'lower'} is better)`,
      numeric: true,
      dir: higher ? 'desc' : 'asc',
      value: (r) => r.quality?.mean ?? null,
      cell: (r) => iv(r.quality, qualityFormat(metric)),
    });
  }
  cols.push(
    ...(target
      ? [
          {
            key: 'multiplier' as const,
            label: 'compute ×',
            title:
              'seed-paired multiplier vs dense on executed FLOPs to the task’s fixed target, as in the cost-to-target table above (> 1: cheaper than dense)',
            numeric: true,
            dir: 'desc' as const,
            value: (r: LeaderboardRow) => {
              const m = target(r.architecture).m;
              if (m === undefined) return null;
              if (m === null) return 1;
              return m.kind === 'estimate' || m.kind === 'bound' ? m.value : null;
            },
            cell: (r: LeaderboardRow) => {
              const { m, k } = target(r.architecture);
              return m === undefined ? <span className="muted">no runs</span> : <MultiplierCell m={m} k={k} />;
            },
          },
        ]
      : []),
    {
      key: 'executedFlops',
      label: 'executed FLOPs',
      title: 'training FLOPs counted at run time from the kernels that ran (backward passes included)',
      numeric: true,
      dir: 'asc',
      value: (r) => r.executedFlops.mean,
      cell: (r) => iv(r.executedFlops, flopCount),
    },
    {
      key: 'modelFlops',
      label: 'model FLOPs',
      title: 'analytic training FLOPs: 6 × active parameters per example or token, plus attention and router',
      numeric: true,
      dir: 'asc',
      value: (r) => r.modelFlops.mean,
      cell: (r) => iv(r.modelFlops, flopCount),
    },
    {
      key: 'wallSeconds',
      label: 'time',
      title: 'training wall time, device-synced, evaluation excluded',
      numeric: true,
      dir: 'asc',
      value: (r) => r.wallSeconds.mean,
      cell: (r) => iv(r.wallSeconds, time),
    },
    {
      key: 'energyJoules',
      label: 'energy',
      title: 'gross training energy from a hardware counter; “not measured” where none could be read',
      numeric: true,
      dir: 'asc',
      value: (r) => r.energyJoules?.mean ?? null,
      cell: (r) =>
        r.energyJoules ? (
          iv(r.energyJoules, joules)
        ) : (
          <span className="not-measured" title={r.energyNote ?? 'not measured'}>
            not measured
          </span>
        ),
    },
    {
      key: 'paramsTotal',
      label: 'params',
      title: 'total parameters; beneath, the parameters used per example (active)',
      numeric: true,
      dir: 'asc',
      value: (r) => r.paramsTotal,
      cell: (r) => (
        <span className="iv">
          <span className="mean">{count(r.paramsTotal)}</span>
          <span className="ci" data-active={r.paramsActive}>
            {count(r.paramsActive)} active
          </span>
        </span>
      ),
    },
    {
      key: 'nmi',
      label: 'NMI',
      title: 'normalised mutual information between expert choice and the task’s label (0–1; higher: experts specialise by label)',
      numeric: true,
      dir: 'desc',
      value: (r) => r.legibility.nmi,
      cell: (r) => (r.legibility.nmi == null ? '—' : sig(r.legibility.nmi, 2)),
    },
    {
      key: 'effectiveExperts',
      label: 'eff. exp.',
      title: 'effective number of experts, exp(entropy of the load)',
      numeric: true,
      dir: 'desc',
      value: (r) => r.legibility.effectiveExperts,
      cell: (r) => (r.legibility.effectiveExperts == null ? '—' : sig(r.legibility.effectiveExperts, 3)),
    },
    {
      key: 'activationSparsity',
      label: 'sparsity',
      title: 'share of hidden activations that are zero',
      numeric: true,
      dir: 'desc',
      value: (r) => r.legibility.activationSparsity,
      cell: (r) => frac(r.legibility.activationSparsity),
    },
    {
      key: 'updateDensity',
      label: 'upd. dens.',
      title: 'share of parameters whose value changed in a sampled step (measured on Δθ)',
      numeric: true,
      dir: 'asc',
      value: (r) => r.legibility.updateDensity,
      cell: (r) => frac(r.legibility.updateDensity),
    },
    {
      key: 'seeds',
      label: 'seeds',
      title:
        task === 'all'
          ? 'completed seeds (the fewest on any one task); failed runs in brackets'
          : 'completed seeds; failed runs in brackets',
      numeric: true,
      dir: 'desc',
      value: (r) => r.seeds,
      cell: (r) => (
        <>
          {r.seeds}
          {r.failedRuns > 0 && (
            <span className="muted" title={`${r.failedRuns} run(s) did not complete and are not counted`}>
              {' '}
              (+{r.failedRuns} failed)
            </span>
          )}
        </>
      ),
    },
  );
  return cols;
}

function compareValues(a: number | string | null, b: number | string | null, dir: SortDir): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1; // missing values last, either direction
  if (b === null) return -1;
  const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return dir === 'asc' ? c : -c;
}

export function sortRows(
  rows: readonly LeaderboardRow[],
  cols: readonly Column[],
  key: SortKey | null,
  dir: SortDir,
  defaultKey: SortKey,
): LeaderboardRow[] {
  const col = cols.find((c) => c.key === (key ?? defaultKey)) ?? cols[0];
  if (!col) return [...rows];
  const d = key ? dir : col.dir;
  return [...rows].sort((a, b) => compareValues(col.value(a), col.value(b), d) || a.architecture.localeCompare(b.architecture));
}

export function BoardTable(props: {
  rows: readonly LeaderboardRow[];
  view: View;
  metric: QualityMetric | undefined;
  /** the architectures on the chart's frontier, for the axes the chart shows */
  frontier: ReadonlySet<string>;
  sortHref(key: SortKey, dir: SortDir): string;
  target?: TargetMultiplier;
}) {
  const { view, metric } = props;
  const cols = columnsFor(view.task, metric, tableSeconds(props.rows), props.target);
  const defaultKey: SortKey = cols.some((c) => c.key === 'multiplier') ? 'multiplier' : view.task !== 'all' ? 'quality' : 'executedFlops';
  const activeKey = view.sort ?? defaultKey;
  const activeDir = view.sort ? view.dir : (cols.find((c) => c.key === defaultKey)?.dir ?? 'desc');
  const rows = sortRows(props.rows, cols, view.sort, view.dir, defaultKey);
  return (
    <div className="table-wrap">
      <table className="board" id="board-table" data-task={view.task}>
        <thead>
          <tr>
            {cols.map((c) => {
              const active = c.key === activeKey;
              const nextDir: SortDir = active ? (activeDir === 'asc' ? 'desc' : 'asc') : c.dir;
              return (
                <th
                  key={c.key}
                  scope="col"
                  className={c.numeric ? 'num' : undefined}
                  data-sort={c.key}
                  data-numeric={c.numeric ? '1' : '0'}
                  data-dir={c.dir}
                  aria-sort={active ? (activeDir === 'asc' ? 'ascending' : 'descending') : 'none'}
                  title={c.title}
                >
                  <a href={props.sortHref(c.key, nextDir)} rel="nofollow">
                    {c.label}
                    <span className="sort-mark" aria-hidden="true">
                      {active ? (activeDir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </span>
                  </a>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.architecture} data-arch={r.architecture} className={props.frontier.has(r.architecture) ? 'pareto' : undefined}>
              {cols.map((c) => {
                const v = c.value(r);
                return (
                  <td key={c.key} data-col={c.key} data-value={v === null ? '' : String(v)} className={c.numeric ? 'num' : undefined}>
                    {c.cell(r)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="table-note muted small">
        Means over seeds with 95% intervals beneath. A bar at the left of a row: on the chart’s Pareto frontier of {COST_LABEL[view.cost]}{' '}
        and {metricLabel(metric)} (costs within 1% count as a tie). Hover a header for how it is measured.
      </p>
      <TableSorter tableId="board-table" />
    </div>
  );
}
