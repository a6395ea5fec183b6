/**
 * The tiers and budgets, per task, rendered from harness/tiers.ts — the constants the
 * harness itself runs with, so this table cannot drift from what a run is held to.
 */
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
      <p className="note">
        Tasks:{' '}
        {TASK_INFOS.map((t) => `${t.spec.id} — ${t.metric.name} (${t.metric.higherIsBetter ? 'higher' : 'lower'} is better)`).join('; ')}.
      </p>
    </>
  );
}
