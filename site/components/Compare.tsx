/** Two architectures side by side on every task, one table per (tier, hardware class). */
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { TierName } from '../../harness/results/record.ts';
import type { CompareRow, Interval, LeaderboardRow, Store } from '../../harness/store/types.ts';
import { flopCount, joules, multiplier, seconds, si, sig } from '../lib/format.ts';
import { archHref, metricLabel, TIER_ORDER } from '../lib/view.ts';
import { IntervalCell } from './BoardTable.tsx';

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

/** Which side is better on a figure, for emphasis: 'a', 'b' or null (a tie or a missing side). */
function better(x: Interval | null | undefined, y: Interval | null | undefined, higher: boolean): 'a' | 'b' | null {
  if (!x || !y || x.mean === y.mean) return null;
  return x.mean > y.mean === higher ? 'a' : 'b';
}

function Pair(props: {
  a: Interval | null | undefined;
  b: Interval | null | undefined;
  fmt: (x: number) => string;
  higher: boolean;
  missing?: ReactNode;
}) {
  const win = better(props.a, props.b, props.higher);
  const cell = (i: Interval | null | undefined, side: 'a' | 'b') => (
    <td className={`num${win === side ? ' better' : ''}`} data-side={side} data-value={i ? String(i.mean) : ''}>
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

export function CompareTable(props: { a: string; b: string; slice: Slice; rows: CompareRow[] }) {
  const { a, b } = props;
  return (
    <section className="compare-slice">
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
              return (
                <tr key={r.task} data-task={r.task}>
                  <th scope="row" title={metricLabel(r.metric)}>
                    {r.task}
                    <div className="muted small">{metricLabel(r.metric)}</div>
                  </th>
                  <Pair a={r.a?.quality} b={r.b?.quality} fmt={(x) => sig(x, 4)} higher={higher} missing="no run" />
                  <Pair a={r.a?.multiplier} b={r.b?.multiplier} fmt={multiplier} higher={true} />
                  <Pair a={r.a?.executedFlops} b={r.b?.executedFlops} fmt={flopCount} higher={false} />
                  <Pair a={r.a?.wallSeconds} b={r.b?.wallSeconds} fmt={seconds} higher={false} />
                  <Pair
                    a={r.a?.energyJoules}
                    b={r.b?.energyJoules}
                    fmt={joules}
                    higher={false}
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
    </section>
  );
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
  const tables = await Promise.all(slices.map(async (slice) => ({ slice, rows: await props.store.compare(props.a, props.b, slice) })));
  return (
    <>
      <p className="muted small">
        Means with 95% intervals over seeds; the better figure of each pair is in bold (a tie or a missing side: neither).
      </p>
      {tables.map((t) => (
        <CompareTable key={`${t.slice.tier}/${t.slice.hardwareClass}`} a={props.a} b={props.b} slice={t.slice} rows={t.rows} />
      ))}
    </>
  );
}
