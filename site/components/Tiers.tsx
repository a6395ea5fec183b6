/**
 * The tiers and budgets, per task, rendered from harness/tiers.ts — the constants the
 * harness itself runs with, so this table cannot drift from what a run is held to.
 */
import { TARGET_RULE } from '../../harness/tasks/statistics.ts';
import { TASK_INFOS, TIER_NAMES, TIER_PURPOSE } from '../../harness/tiers.ts';

const sci = (n: number) => n.toExponential(0).replace('e+', 'e');
const count = (n: number) => n.toLocaleString('en-US');

export function TierTable() {
  return (
    <>
      <dl className="kv" id="tiers">
        {TIER_NAMES.map((tier) => (
          <div key={tier} style={{ display: 'contents' }}>
            <dt>{tier}</dt>
            <dd>{TIER_PURPOSE[tier]}</dd>
          </div>
        ))}
      </dl>
      <div className="table-wrap">
        <table className="compare" id="tier-table">
          <thead>
            <tr>
              <th>task</th>
              <th>tier</th>
              <th>FLOP budget</th>
              <th>batch</th>
              <th>width × depth</th>
              <th>max params (active)</th>
              <th>peak LR</th>
              <th>eval points (log-spaced from 1% of the budget)</th>
              <th>seeds</th>
              <th>time limit</th>
            </tr>
          </thead>
          <tbody>
            {TASK_INFOS.flatMap((task) =>
              TIER_NAMES.map((tier) => {
                const t = task.tiers[tier];
                return (
                  <tr key={`${task.spec.id}-${tier}`}>
                    <td>{task.spec.id}</td>
                    <td>{tier}</td>
                    <td>{sci(t.budgetFlops)}</td>
                    <td>{t.batchSize}</td>
                    <td>
                      {t.size.width} × {t.size.depth}
                      {t.size.heads ? ` (${t.size.heads} heads)` : ''}
                    </td>
                    <td>
                      {count(t.size.maxParams)} ({count(t.size.maxActiveParams)})
                    </td>
                    <td>{t.learningRate}</td>
                    <td>{t.evalPoints}</td>
                    <td>{t.seeds}</td>
                    <td>{t.timeLimitSeconds} s</td>
                  </tr>
                );
              }),
            )}
          </tbody>
        </table>
      </div>
      <p className="note">
        Tasks:{' '}
        {TASK_INFOS.map((t) => `${t.spec.id} — ${t.metric.name} (${t.metric.higherIsBetter ? 'higher' : 'lower'} is better)`).join('; ')}.
      </p>
    </>
  );
}

/** A figure in a task's metric: accuracy as a percentage, anything else to 3 significant digits with its unit. */
function inMetric(x: number, metric: { name: string; unit: string }, points = false): string {
  if (metric.name === 'accuracy') return points ? `${(100 * x).toFixed(2)} pp` : `${Number((100 * x).toPrecision(4))}%`;
  return `${Number(x.toPrecision(3))}${metric.unit ? ` ${metric.unit}` : ''}`;
}

/**
 * Each task's quality target per tier, its equivalence margin and its test set's size and
 * standard error, from the task constants the harness and the findings use.
 */
export function TargetTable() {
  return (
    <>
      <div className="table-wrap">
        <table className="compare" id="target-table">
          <thead>
            <tr>
              <th>task</th>
              {TIER_NAMES.map((tier) => (
                <th key={tier}>target, {tier}</th>
              ))}
              <th>equivalence margin</th>
              <th>test set</th>
              <th>test-set standard error</th>
            </tr>
          </thead>
          <tbody>
            {TASK_INFOS.map((task) => {
              const s = task.statistics;
              const dir = task.metric.higherIsBetter ? '≥' : '≤';
              return (
                <tr key={task.spec.id}>
                  <td>{task.spec.id}</td>
                  {TIER_NAMES.map((tier) => {
                    const t = task.tiers[tier].target;
                    return (
                      <td key={tier} title={t.value === null ? t.reason : t.basis}>
                        {t.value === null ? `none (${t.reason})` : `${dir} ${inMetric(t.value, task.metric)}`}
                      </td>
                    );
                  })}
                  <td title={s.marginBasis}>± {inMetric(s.equivalenceMargin, task.metric, true)}</td>
                  <td>
                    {count(s.testSet.size)} {s.testSet.unit}
                  </td>
                  <td title={s.testSet.basis}>
                    {s.testSet.standardError === null
                      ? `not measured (${s.testSet.basis})`
                      : inMetric(s.testSet.standardError, task.metric, true)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="note">
        How a target is set (each target’s tooltip names the dense seeds behind it): {TARGET_RULE} Margins and standard errors:{' '}
        {TASK_INFOS.map((t) => `${t.spec.id}: ${t.statistics.marginBasis}; ${t.statistics.testSet.basis}`).join('. ')}.
      </p>
    </>
  );
}
