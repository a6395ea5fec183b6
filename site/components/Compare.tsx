/** Two architectures side by side on every task, one table per (tier, hardware class). */
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { RunRecord, TierName } from '../../harness/results/record.ts';
import type { CompareRow, Interval, LeaderboardRow, Store } from '../../harness/store/types.ts';
import { significance, type Verdict } from '../lib/compare.ts';
import { type ArchCurve, CURVE_AXIS, curveFrontier, meanCurveOf, type TaskCurves, targetTable, taskCurves } from '../lib/curves.ts';
import { flopCount, joules, seconds, si, sig } from '../lib/format.ts';
import { archHref, metricLabel, TIER_ORDER } from '../lib/view.ts';
import { IntervalCell } from './BoardTable.tsx';
import { MultiplierCell, multKey } from './CostViews.tsx';
import { archColors, CurvesChart } from './CurvesChart.tsx';

type Slice = { tier: TierName; hardwareClass: string };

/** Every (tier, hardware class) where either architecture has a run, tiers in order. */
export async function compareSlices(store: Store, a: string, b: string): Promise<Slice[]> {
  const seen = new Map<string, Slice>();
  for (const name of [a, b]) {
    const d = await store.architecture(name);
    for (const r of d?.runs ?? []) seen.set(`${r.tier}\u0000${r.hardwareClass}`, { tier: r.tier, hardwareClass: r.hardwareClass });
  }
  return [...seen.values()].sort(
    (x, y) => TIER_ORDER.indexOf(x.tier) - TIER_ORDER.indexOf(y.tier) || x.hardwareClass.localeCompare(y.hardwareClass),
  );
}

function Pair(props: {
  a: Interval | null | undefined;
  b: Interval | null | undefined;
  fmt: (x: number) => string;
  /** the test behind the emphasis; null: no test applies (nothing is bold) */
  verdict: Verdict | null;
  missing?: ReactNode;
}) {
  const win = props.verdict?.side ?? null;
  const title = props.verdict
    ? `${props.verdict.test}${props.verdict.p === null ? '' : `: p = ${sig(props.verdict.p, 2)}`}${win ? '' : ' (not significant at 5%: neither is bold)'}`
    : 'no test on this figure: neither is bold';
  const cell = (i: Interval | null | undefined, side: 'a' | 'b') => (
    <td
      className={`num${win === side ? ' better' : ''}`}
      data-side={side}
      data-value={i ? String(i.mean) : ''}
      data-p={props.verdict?.p ?? ''}
      title={title}
    >
      {i ? <IntervalCell i={i} fmt={props.fmt} /> : (props.missing ?? '—')}
    </td>
  );
  return (
    <>
      {cell(props.a, 'a')}
      {cell(props.b, 'b')}
    </>
  );
}

export function CompareTable(props: { a: string; b: string; slice: Slice; rows: CompareRow[]; records: readonly RunRecord[] }) {
  const { a, b } = props;
  const colors = archColors([a, b]);
  const curves = props.rows.flatMap((r) => {
    const tc = taskCurves(
      props.records.filter((x) => x.architecture.name === a || x.architecture.name === b),
      r.task,
      props.slice.tier,
      'executedFlops',
    );
    return tc && tc.curves.length > 0 ? [tc] : [];
  });
  return (
    <section className="compare-slice" data-tier={props.slice.tier} data-hw={props.slice.hardwareClass}>
      <h2>
        Tier {props.slice.tier} on {props.slice.hardwareClass}
      </h2>
      <div className="table-wrap">
        <table className="compare">
          <thead>
            <tr>
              <th scope="col" rowSpan={2}>
                task
              </th>
              <th scope="colgroup" colSpan={2}>
                quality at budget
              </th>
              <th scope="colgroup" colSpan={2}>
                compute ×
              </th>
              <th scope="colgroup" colSpan={2}>
                executed FLOPs
              </th>
              <th scope="colgroup" colSpan={2}>
                time
              </th>
              <th scope="colgroup" colSpan={2}>
                energy
              </th>
              <th scope="colgroup" colSpan={2}>
                params
              </th>
            </tr>
            <tr>
              {Array.from({ length: 6 }, (_, i) => (
                <FragmentPair key={i} a={a} b={b} />
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => {
              const higher = r.metric.higherIsBetter;
              const ra = props.records.filter((x) => x.architecture.name === a && x.task.id === r.task);
              const rb = props.records.filter((x) => x.architecture.name === b && x.task.id === r.task);
              const test = (pick: (x: RunRecord) => number | null, hi: boolean) => significance(ra, rb, pick, hi);
              return (
                <tr key={r.task} data-task={r.task}>
                  <th scope="row" title={metricLabel(r.metric)}>
                    {r.task}
                    <div className="muted small">{metricLabel(r.metric)}</div>
                  </th>
                  <Pair
                    a={r.a?.quality}
                    b={r.b?.quality}
                    fmt={r.metric.name === 'accuracy' ? (x) => `${sig(100 * x, 4)}%` : (x) => sig(x, 4)}
                    verdict={test((x) => x.final?.quality ?? null, higher)}
                    missing="no run"
                  />
                  {[a, b].map((name, i) => {
                    // the fixed-target, seed-paired multiplier of the front page's tables (not tested between a and b)
                    const row = targetTable(props.records, r.task, props.slice.tier, CURVE_AXIS.executedFlops)?.rows.find(
                      (x) => x.name === name,
                    );
                    return (
                      <td key={name} className="num" data-side={i === 0 ? 'a' : 'b'} data-col="multiplier">
                        {row ? (
                          <MultiplierCell
                            m={row.multiplier}
                            k={multKey(props.slice.tier, r.task, name, 'executedFlops', props.slice.hardwareClass)}
                          />
                        ) : (
                          '—'
                        )}
                      </td>
                    );
                  })}
                  <Pair a={r.a?.executedFlops} b={r.b?.executedFlops} fmt={flopCount} verdict={test((x) => x.flops.executed, false)} />
                  <Pair a={r.a?.wallSeconds} b={r.b?.wallSeconds} fmt={seconds} verdict={test((x) => x.training.wallSeconds, false)} />
                  <Pair
                    a={r.a?.energyJoules}
                    b={r.b?.energyJoules}
                    fmt={joules}
                    verdict={test((x) => (x.energy.measured ? x.energy.grossJoules : null), false)}
                    missing={<span className="muted">not measured</span>}
                  />
                  <Params row={r.a} />
                  <Params row={r.b} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {curves.length > 0 && (
        <div className="curves-grid compare-curves">
          {curves.map((tc) => (
            <CurvesChart key={tc.task} curves={tc} cost="executedFlops" colors={colors} />
          ))}
        </div>
      )}
    </section>
  );
}

/** Two runs' curves on one chart (same task), each run its own line. */
export function RunPairChart({ a, b }: { a: RunRecord; b: RunRecord }) {
  if (a.task.id !== b.task.id)
    return (
      <p className="note">
        The two runs are on different tasks ({a.task.id}, {b.task.id}): their curves do not share an axis.
      </p>
    );
  const label = (r: RunRecord, other: RunRecord) =>
    r.architecture.name === other.architecture.name
      ? `${r.architecture.name} s${r.task.seed} (${r.id.slice(-4)})`
      : `${r.architecture.name} s${r.task.seed}`;
  const curves: ArchCurve[] = [];
  for (const [r, o] of [
    [a, b],
    [b, a],
  ] as const) {
    const pts = meanCurveOf([r], 'executedFlops', 200);
    if (typeof pts !== 'string') curves.push({ name: label(r, o), family: r.architecture.family, seeds: 1, points: pts });
  }
  const tc: TaskCurves = {
    task: a.task.id,
    metric: a.task.metric,
    target: null,
    targetNote: 'two runs, not a leaderboard view',
    curves,
    off: [],
    frontier: curveFrontier(curves, a.task.metric.higherIsBetter),
  };
  return <CurvesChart curves={tc} cost="executedFlops" colors={archColors(curves.map((c) => c.name))} />;
}

function Params({ row }: { row: LeaderboardRow | null }) {
  return (
    <td className="num">
      {row ? (
        <span className="iv">
          <span className="mean">{si(row.paramsTotal)}</span>
          <span className="ci">{si(row.paramsActive)} active</span>
        </span>
      ) : (
        '—'
      )}
    </td>
  );
}

function FragmentPair({ a, b }: { a: string; b: string }) {
  return (
    <>
      <th scope="col" className="num">
        <Link href={archHref(a)} prefetch={false}>
          {a}
        </Link>
      </th>
      <th scope="col" className="num">
        <Link href={archHref(b)} prefetch={false}>
          {b}
        </Link>
      </th>
    </>
  );
}

export async function ComparePairs(props: { store: Store; a: string; b: string }) {
  const slices = await compareSlices(props.store, props.a, props.b);
  if (slices.length === 0) return <p className="note">Neither architecture has any runs.</p>;
  const tables = await Promise.all(
    slices.map(async (slice) => ({
      slice,
      rows: await props.store.compare(props.a, props.b, slice),
      records: await props.store.records({ task: 'all', tier: slice.tier, hardwareClass: slice.hardwareClass }),
    })),
  );
  return (
    <>
      <p className="muted small">
        Means with 95% intervals over seeds. A figure is bold only where it is better by a significant difference (p &lt; 0.05: the paired
        t-test on the seeds both ran, else Welch’s); hover a cell for its test. The multiplier is not tested between two architectures:
        never bold.
      </p>
      {tables.map((t) => (
        <CompareTable
          key={`${t.slice.tier}/${t.slice.hardwareClass}`}
          a={props.a}
          b={props.b}
          slice={t.slice}
          rows={t.rows}
          records={t.records}
        />
      ))}
    </>
  );
}
