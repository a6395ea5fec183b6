/**
 * The front page's answer to "what does it cost to reach the target": per task the curves
 * and a cost-to-target table (rank, seeds that reached it, the seed-paired multiplier vs
 * dense with its interval, drawn on a log axis where below 1× sits like any other value),
 * and across tasks the performance profile with its score. Everything from lib/curves.ts.
 */
import * as Plot from '@observablehq/plot';
import Link from 'next/link';
import type { RunRecord, TierName } from '../../harness/results/record.ts';
import type { Multiplier } from '../../harness/stats/multiplier.ts';
import type { CostAxis } from '../../harness/store/types.ts';
import {
  CURVE_AXIS,
  type Profile,
  performanceProfile,
  qualityScale,
  rho,
  TAU_MAX,
  type TargetRow,
  type TargetTable,
  targetTable,
  taskCurves,
} from '../lib/curves.ts';
import { multiplier, secondsIn, si, sig, timeUnit } from '../lib/format.ts';
import { dodge, fromPx, toPx } from '../lib/labels.ts';
import { plotToReact } from '../lib/plot-ssr.tsx';
import { archHref, COST_LABEL } from '../lib/view.ts';
import { logDomain } from './BoardChart.tsx';
import { archColors, CurvesChart, LABEL_GAP } from './CurvesChart.tsx';

const PROFILE_MARGIN = { top: 32, bottom: 36 };

/**
 * The key a shown multiplier carries (data-mult): one figure per key on a page. A view that
 * names its hardware class (/compare shows one slice per class) keys by it too: two classes
 * hold different runs (the exploratory set and protocol v1's confirmatory set, say).
 */
export const multKey = (tier: string, task: string, arch: string, cost: CostAxis, hardwareClass?: string): string =>
  `${tier}/${task}/${arch}/${cost}${hardwareClass ? `@${hardwareClass}` : ''}`;

/** One formatter for a whole table: FLOPs with SI prefixes, times all in one unit, joules in J. */
function tableFormat(cost: CostAxis, values: readonly number[]): (x: number) => string {
  if (cost === 'wallSeconds') return secondsIn(timeUnit(Math.max(0, ...values)));
  if (cost === 'energyJoules') return (x) => si(x, 'J');
  return (x) => si(x, 'FLOP');
}

function costValues(rows: readonly TargetRow[]): number[] {
  return rows.flatMap((r) =>
    r.summary.kind === 'estimate' ? [r.summary.value] : r.summary.kind === 'counts' && r.summary.boundAtMost ? [r.summary.boundAtMost] : [],
  );
}

function CostCell({ row, fmt }: { row: TargetRow; fmt: (x: number) => string }) {
  const s = row.summary;
  switch (s.kind) {
    case 'estimate':
      return (
        <span className="iv" data-kind="estimate">
          <span className="mean">{fmt(s.value)}</span>
          {s.lo !== null && s.hi !== null && <span className="ci">{`${fmt(s.lo)} – ${fmt(s.hi)}`}</span>}
        </span>
      );
    case 'counts':
      return (
        <span data-kind="counts" title="some seeds did not reach the target, or only by their first evaluation: no mean is given">
          {s.reached} of {s.n} seeds reached
          {s.bounds > 0 && s.boundAtMost !== null && (
            <span className="ci">
              {s.bounds} at the first evaluation: bound ≤ {fmt(s.boundAtMost)}
            </span>
          )}
        </span>
      );
    case 'not measured':
      return (
        <span className="muted" data-kind="not-measured">
          not measured: {s.reason}
        </span>
      );
  }
}

/**
 * The seed-paired, fixed-target multiplier vs dense: the one multiplier of the site (front page,
 * board table, /compare). `k` (tier/task/architecture/cost axis) marks it for the browser test
 * that fails when one multiplier is shown with two different figures.
 */
export function MultiplierCell({ m, k }: { m: Multiplier | null; k?: string }) {
  if (m === null)
    return (
      <span className="muted" data-mult={k} data-kind="baseline">
        1× (baseline)
      </span>
    );
  switch (m.kind) {
    case 'estimate':
      return (
        <span className="iv" data-kind="estimate" data-value={m.value} data-mult={k}>
          <span className="mean">{multiplier(m.value)}</span>
          {m.lo !== null && m.hi !== null && <span className="ci">{`${multiplier(m.lo)} – ${multiplier(m.hi)}`}</span>}
        </span>
      );
    case 'bound':
      return (
        <span
          data-kind="bound"
          data-value={m.value}
          data-mult={k}
          title="a bound, not an estimate: some seeds reached the target only by their first evaluation, or not at all"
        >
          {m.direction === 'at least' ? '≥' : '≤'} {multiplier(m.value)} <span className="bound-mark">bound</span>
          <span className="ci">
            {m.archReached} of {m.n} reached (dense {m.denseReached})
          </span>
        </span>
      );
    case 'censored':
      return (
        <span data-kind="censored" className="muted" data-mult={k}>
          {m.archReached} of {m.n} reached (dense {m.denseReached}): no figure
        </span>
      );
    case 'not measured':
      return (
        <span className="muted" data-mult={k}>
          not measured: {m.reason}
        </span>
      );
    case 'no pairs':
      return (
        <span className="muted" data-mult={k}>
          no seed shared with dense
        </span>
      );
  }
}

/** The multipliers on a log axis: estimates with their interval, bounds as open arrows; 1× is dense. */
function MultiplierChart({ table, colors }: { table: TargetTable; colors: ReadonlyMap<string, string> }) {
  const pts = table.rows.flatMap((r) => {
    const m = r.multiplier;
    if (m === null) return [{ name: r.name, v: 1, lo: 1, hi: 1, bound: '' }];
    if (m.kind === 'estimate') return [{ name: r.name, v: m.value, lo: m.lo ?? m.value, hi: m.hi ?? m.value, bound: '' }];
    if (m.kind === 'bound') return [{ name: r.name, v: m.value, lo: m.value, hi: m.value, bound: m.direction === 'at least' ? '≥' : '≤' }];
    return [];
  });
  if (pts.length < 2) return null;
  const domain = logDomain(Math.min(...pts.map((p) => p.lo)), Math.max(...pts.map((p) => p.hi)), 1);
  const names = pts.map((p) => p.name);
  return (
    <figure className="multiplier-chart" data-points={pts.length}>
      {plotToReact({
        className: 'mp-plot',
        ariaLabel: `${table.task}: multiplier vs dense`,
        width: 520,
        height: 50 + 22 * pts.length,
        marginLeft: 150,
        marginRight: 20,
        marginTop: 6,
        marginBottom: 44,
        style: 'font-size: 12px',
        x: {
          type: 'log',
          domain,
          label: 'compute multiplier vs dense (log; > 1×: cheaper than dense) →',
          tickFormat: (x: number) => multiplier(x),
          ticks: 5,
          grid: true,
        },
        y: { domain: names, label: null },
        marks: [
          Plot.ruleX([1], { stroke: '#4269d0', strokeDasharray: '3,3' }),
          Plot.ruleY(pts, { y: 'name', x1: 'lo', x2: 'hi', stroke: (d: { name: string }) => colors.get(d.name), strokeWidth: 2 }),
          Plot.dot(pts, {
            x: 'v',
            y: 'name',
            r: 5,
            fill: (d: { name: string; bound: string }) => (d.bound ? 'white' : colors.get(d.name)),
            stroke: (d: { name: string }) => colors.get(d.name),
            strokeWidth: 2,
            title: (d: { name: string; v: number; bound: string }) =>
              `${d.name}: ${d.bound ? `${d.bound} ` : ''}${multiplier(d.v)}${d.bound ? ' (bound)' : ''}`,
            className: 'multiplier-dot',
          }),
          Plot.text(
            pts.filter((p) => p.bound),
            { x: 'v', y: 'name', text: (d: { bound: string }) => (d.bound === '≥' ? '→' : '←'), dx: 0, dy: -9, fill: '#555' },
          ),
        ],
      })}
    </figure>
  );
}

export function TargetTableView({
  table,
  cost,
  colors,
  tier,
}: {
  table: TargetTable;
  cost: CostAxis;
  colors: ReadonlyMap<string, string>;
  tier: TierName;
}) {
  const fmt = tableFormat(cost, costValues(table.rows));
  const scale = qualityScale(table.metric);
  const target =
    table.target === null
      ? null
      : `${table.metric.higherIsBetter ? '≥' : '≤'} ${sig(table.target * scale.factor, 4)}${scale.unit ? (scale.unit === '%' ? '%' : ` ${scale.unit}`) : ''}`;
  return (
    <section className="target-table" data-task={table.task}>
      <h3>
        {table.task}: {target === null ? 'no target in this tier' : `cost to ${table.metric.name} ${target}`}
      </h3>
      {table.target === null ? (
        <p className="note">Cost to target is not measured here: {table.targetNote}.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="ctt" data-task={table.task} data-cost={cost}>
              <thead>
                <tr>
                  <th scope="col">architecture</th>
                  <th scope="col" className="num">
                    rank
                  </th>
                  <th scope="col" className="num">
                    seeds reached
                  </th>
                  <th
                    scope="col"
                    className="num"
                    title="where the curve reaches the target and stays there; geometric mean over seeds with its 95% interval"
                  >
                    {COST_LABEL[cost]} to target
                  </th>
                  <th
                    scope="col"
                    className="num"
                    title="per seed, dense's cost ÷ this architecture's; geometric mean with a t-interval on the logs (harness/stats/multiplier.ts)"
                  >
                    multiplier vs dense
                  </th>
                </tr>
              </thead>
              <tbody>
                {table.rows.map((r) => (
                  <tr key={r.name} data-arch={r.name}>
                    <td data-col="architecture">
                      <span className="swatch" style={{ background: colors.get(r.name) }} aria-hidden="true" />
                      <Link href={archHref(r.name)} prefetch={false}>
                        {r.name}
                      </Link>
                    </td>
                    <td className="num" data-col="rank">
                      {r.rank ?? '—'}
                    </td>
                    <td className="num" data-col="reached" data-value={`${r.reached}/${r.n}`}>
                      {r.reached} of {r.n}
                    </td>
                    <td className="num" data-col="cost">
                      <CostCell row={r} fmt={fmt} />
                    </td>
                    <td className="num" data-col="multiplier">
                      <MultiplierCell m={r.multiplier} k={multKey(tier, table.task, r.name, cost)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {table.multiplierNote ? (
            <p className="note">No multiplier: {table.multiplierNote}.</p>
          ) : (
            <MultiplierChart table={table} colors={colors} />
          )}
          <p className="muted small">Target: {table.targetNote}.</p>
        </>
      )}
    </section>
  );
}

export function ProfileChart({ profile, cost, colors }: { profile: Profile; cost: CostAxis; colors: ReadonlyMap<string, string> }) {
  const taus = Array.from({ length: 61 }, (_, i) => 1 + (i * (TAU_MAX - 1)) / 60);
  const lines = profile.archs.flatMap((a) => taus.map((tau) => ({ name: a.name, tau, rho: rho(a.ratios, tau) })));
  // the line-end labels in one column, dodged: several architectures end at 100%
  const height = Math.max(300, PROFILE_MARGIN.top + PROFILE_MARGIN.bottom + LABEL_GAP * (profile.archs.length + 1));
  const yAxis = {
    type: 'linear' as const,
    domain: [0, 1] as [number, number],
    range: [height - PROFILE_MARGIN.bottom, PROFILE_MARGIN.top] as [number, number],
  };
  const finals = profile.archs.map((a) => ({ name: a.name, rho: rho(a.ratios, TAU_MAX) }));
  const placed = dodge(
    finals.map((f) => toPx(yAxis, f.rho)),
    LABEL_GAP,
    PROFILE_MARGIN.top,
    height - PROFILE_MARGIN.bottom,
  );
  const ends = finals.map((f, i) => ({ ...f, ly: fromPx(yAxis, placed[i] ?? toPx(yAxis, f.rho)) }));
  return (
    <section className="profile" data-tasks={profile.tasks.length}>
      <h2>Across tasks: performance profile</h2>
      {profile.tasks.length === 0 ? (
        <p className="note">
          No task has a target and a completed run of every architecture shown
          {profile.excluded.length ? ` (${profile.excluded.map((e) => `${e.task}: ${e.why}`).join('; ')})` : ''}.
        </p>
      ) : (
        <>
          <figure className="profile-chart" data-archs={profile.archs.length}>
            {plotToReact({
              className: 'mp-plot',
              ariaLabel: 'performance profile',
              width: 720,
              height,
              marginTop: PROFILE_MARGIN.top,
              marginBottom: PROFILE_MARGIN.bottom,
              marginRight: 130,
              style: 'font-size: 12px',
              x: {
                domain: [1, TAU_MAX],
                label: `τ: within this factor of the cheapest ${COST_LABEL[cost]} to target →`,
                ticks: [1, 1.5, 2, 2.5, 3, 3.5, 4],
                tickFormat: (t: number) => `${t}×`,
                grid: true,
              },
              y: {
                domain: [0, 1],
                label: '↑ share of tasks reaching the target',
                tickFormat: (v: number) => `${Math.round(v * 100)}%`,
                grid: true,
              },
              marks: [
                Plot.line(lines, {
                  x: 'tau',
                  y: 'rho',
                  z: 'name',
                  curve: 'step-after',
                  stroke: (d: { name: string }) => colors.get(d.name),
                  strokeWidth: 2,
                  className: 'profile-line',
                }),
                Plot.link(ends, {
                  x1: TAU_MAX,
                  y1: 'rho',
                  x2: TAU_MAX,
                  y2: 'ly',
                  dx: 3,
                  stroke: (d: { name: string }) => colors.get(d.name),
                  strokeOpacity: 0.6,
                  className: 'label-leader',
                }),
                Plot.text(ends, {
                  x: TAU_MAX,
                  y: 'ly',
                  text: 'name',
                  dx: 6,
                  textAnchor: 'start',
                  fill: (d: { name: string }) => colors.get(d.name),
                  className: 'profile-label',
                }),
              ],
            })}
            <figcaption className="small">
              Over the {profile.tasks.length} task{profile.tasks.length === 1 ? '' : 's'} every architecture shown completed (
              {profile.tasks.join(', ')}): the share of them on which an architecture reaches the target within τ × the cheapest
              architecture’s {COST_LABEL[cost]} (every seed must reach it; cost: geometric mean over seeds; a seed on target at its first
              evaluation counts at that cost, a bound).
              {profile.excluded.length > 0 && ` Left out: ${profile.excluded.map((e) => `${e.task} (${e.why})`).join('; ')}.`}
            </figcaption>
          </figure>
          <div className="table-wrap">
            <table className="profile-scores">
              <thead>
                <tr>
                  <th scope="col">architecture</th>
                  <th scope="col" className="num">
                    rank
                  </th>
                  <th
                    scope="col"
                    className="num"
                    title={`area under the profile on [1, ${TAU_MAX}] ÷ ${TAU_MAX - 1}, as AlgoPerf scores: 1 = cheapest on every task`}
                  >
                    score
                  </th>
                  {profile.tasks.map((t) => (
                    <th key={t} scope="col" className="num" title="cost to target ÷ the cheapest">
                      {t}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {profile.archs.map((a, i) => (
                  <tr key={a.name} data-arch={a.name}>
                    <td className="num">{i + 1}</td>
                    <td>
                      <span className="swatch" style={{ background: colors.get(a.name) }} aria-hidden="true" />
                      <Link href={archHref(a.name)} prefetch={false}>
                        {a.name}
                      </Link>
                    </td>
                    <td className="num" data-col="score" data-value={a.score}>
                      {a.score.toFixed(3)}
                    </td>
                    {a.ratios.map((r, k) => (
                      <td key={profile.tasks[k]} className="num" data-value={Number.isFinite(r) ? r : ''}>
                        {Number.isFinite(r) ? multiplier(r) : 'not reached'}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** Every cost view for the records of one view (already filtered to the architectures shown). */
export function CostViews(props: { records: readonly RunRecord[]; tasks: readonly string[]; tier: TierName; cost: CostAxis }) {
  const axis = CURVE_AXIS[props.cost];
  const colors = archColors(props.records.map((r) => r.architecture.name));
  const perTask = props.tasks.flatMap((task) => {
    const curves = taskCurves(props.records, task, props.tier, axis);
    const table = targetTable(props.records, task, props.tier, axis);
    return curves && table ? [{ task, curves, table }] : [];
  });
  if (perTask.length === 0) return <p className="note">No completed runs of the architectures shown in this view.</p>;
  return (
    <>
      <section className="curves" aria-label="quality against cost">
        <h2>Quality against {COST_LABEL[props.cost]}</h2>
        <div className="curves-grid">
          {perTask.map((t) => (
            <CurvesChart key={t.task} curves={t.curves} cost={props.cost} colors={colors} />
          ))}
        </div>
      </section>
      <section className="cost-to-target" aria-label="cost to target">
        <h2>Cost to target</h2>
        {perTask.map((t) => (
          <TargetTableView key={t.task} table={t.table} cost={props.cost} colors={colors} tier={props.tier} />
        ))}
      </section>
      {perTask.length > 1 && (
        <ProfileChart profile={performanceProfile(props.records, props.tier, axis)} cost={props.cost} colors={colors} />
      )}
    </>
  );
}
