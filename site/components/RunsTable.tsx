/** A list of runs (architecture page): each links to its run page. */
import Link from 'next/link';
import type { QualityMetric } from '../../harness/results/record.ts';
import type { RunSummary } from '../../harness/store/types.ts';
import { qualityScale } from '../lib/curves.ts';
import { date, flops, joules, secondsIn, sig, timeUnit } from '../lib/format.ts';
import { runHref } from '../lib/view.ts';
import { ProvenanceMark } from './Provenance.tsx';

/** Runs with quality in each task's unit (accuracy in %) and every time in one unit. */
export function RunsTable({ runs, metrics }: { runs: readonly RunSummary[]; metrics: Readonly<Record<string, QualityMetric>> }) {
  const time = secondsIn(timeUnit(Math.max(0, ...runs.map((r) => r.wallSeconds))));
  const quality = (r: RunSummary) => {
    if (r.quality === null) return '—';
    const sc = qualityScale(metrics[r.task]);
    return `${sig(r.quality * sc.factor, 4)}${sc.unit === '%' ? '%' : sc.unit ? ` ${sc.unit}` : ''}`;
  };
  return (
    <div className="table-wrap">
      <table className="runs" id="runs-table">
        <thead>
          <tr>
            <th scope="col">run</th>
            <th scope="col">task</th>
            <th scope="col">tier</th>
            <th scope="col">hardware</th>
            <th scope="col" className="num">
              seed
            </th>
            <th scope="col">status</th>
            <th scope="col">provenance</th>
            <th scope="col" className="num">
              quality
            </th>
            <th scope="col" className="num">
              executed FLOPs
            </th>
            <th scope="col" className="num">
              time
            </th>
            <th scope="col" className="num">
              energy
            </th>
            <th scope="col">started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-run={r.id}>
              <td>
                <Link href={runHref(r.id)} prefetch={false}>
                  {r.id}
                </Link>
              </td>
              <td>{r.task}</td>
              <td>{r.tier}</td>
              <td>{r.hardwareClass}</td>
              <td className="num">{r.seed}</td>
              <td>
                <span className={`status ${r.status}`}>{r.status}</span>
              </td>
              <td>
                <ProvenanceMark provenance={r.provenance} />
              </td>
              <td className="num" data-col="quality">
                {quality(r)}
              </td>
              <td className="num">{flops(r.executedFlops)}</td>
              <td className="num" data-col="time">
                {time(r.wallSeconds)}
              </td>
              <td className="num">{r.energyJoules === null ? <span className="muted">not measured</span> : joules(r.energyJoules)}</td>
              <td>{date(r.startedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
