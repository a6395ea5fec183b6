/**
 * The run page's cost-to-target, as text: the figure against the target in force now, from
 * the one module that computes it (harness/stats/cost-to-target.ts, as the board and the CLI
 * do), and a figure a version-1 record stored when it ran, labelled as history.
 */
import type { CostReading, CostToTarget, RunRecord } from '../../harness/results/record.ts';
import { costToTargetOfRun } from '../../harness/stats/cost-to-target.ts';
import { qualityScale } from './curves.ts';
import { flops, joules, seconds, sig } from './format.ts';

/** One axis of cost-to-target, in that axis's unit. */
export function reading(c: CostReading, unit: (x: number) => string): string {
  switch (c.status) {
    case 'reached':
      return unit(c.cost);
    case 'bound':
      return `≤ ${unit(c.cost)} (on target at the first evaluation)`;
    case 'not reached':
      return `not reached (${unit(c.spent)} spent)`;
    case 'not measured':
      return `not measured: ${c.reason}`;
  }
}

export interface RunCostText {
  label: string;
  /** every axis against the target in force, or why there is no figure */
  figure: string;
  /** the stored figure against the target then in force; null when the record stored none or stored this one */
  history: string | null;
}

export function runCostText(r: RunRecord): RunCostText {
  const { now, why, whenRun } = costToTargetOfRun(r);
  const m = r.task.metric;
  // the target as the board states it (accuracy in %)
  const scale = qualityScale(m);
  const unit = scale.unit ? (scale.unit === '%' ? '%' : ` ${scale.unit}`) : '';
  const against = (target: number) => `${m.higherIsBetter ? '≥' : '≤'} ${sig(target * scale.factor, 4)}${unit}`;
  const all = (c: CostToTarget) =>
    `${reading(c.executedFlops, flops)} executed; ${reading(c.modelFlops, flops)} model; ${reading(c.seconds, seconds)}; ${reading(c.joules, joules)}`;
  const history =
    whenRun && whenRun.target !== now?.target
      ? `when run, against the target then in force (${against(whenRun.target)}): ${all(whenRun)}`
      : null;
  return now
    ? { label: `cost to target (${against(now.target)}, the target in force, reached for good)`, figure: all(now), history }
    : { label: 'cost to target', figure: `— (${why})`, history };
}
