/**
 * How a task's quality target is set from the dense baseline's runs: the worst quality any
 * dense seed shows over the last three quarters of its budget, so every dense seed reaches
 * the target by a quarter of its training and stays there. A target at the seeds' plateau
 * makes cost-to-target a reading of which basin a seed settles in, not of how fast it learns:
 * on the tuned cpu-tier dense seeds the dense-vs-dense placebo read 0.69× [0.21, 2.31] on
 * superposition with targets held from half the budget, 0.81× [0.37, 1.79] held from a
 * quarter (mnist 1.04× and 0.95×); the rule was chosen on that placebo alone. Rounded to 3
 * significant digits in the easier direction. `npm run targets` prints the suggestion beside
 * the constants; the constants themselves are fixed in harness/tasks/*.info.ts.
 */
import { toleranceFactor } from '../math/distributions.ts';
import type { RunRecord } from '../results/record.ts';
import { TASK_INFOS } from '../tiers.ts';

/** Share of the budget after which every dense seed must hold the target. */
export const HOLD_FROM = 0.25;

/** x rounded to 3 significant digits, down when higher is better (easier), up otherwise. */
export function roundEasier(x: number, higherIsBetter: boolean): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const scale = 10 ** (Math.floor(Math.log10(Math.abs(x))) - 2);
  const steps = higherIsBetter ? Math.floor(x / scale + 1e-9) : Math.ceil(x / scale - 1e-9);
  return Number((steps * scale).toPrecision(3));
}

/** The worst quality of one curve from `from` × its final executed FLOPs on. */
function heldFrom(curve: RunRecord['curve'], higherIsBetter: boolean, from: number): number | null {
  const end = curve.at(-1)?.flops;
  if (end === undefined) return null;
  const qs = curve.filter((p) => p.flops >= from * end).map((p) => p.quality);
  if (qs.length === 0 || qs.some((q) => !Number.isFinite(q))) return null;
  return higherIsBetter ? Math.min(...qs) : Math.max(...qs);
}

/** The completed runs' held qualities from `holdFrom` on; null where a curve has none finite. */
function heldQualities(
  runs: readonly RunRecord[],
  holdFrom: number,
): { done: RunRecord[]; higherIsBetter: boolean; values: number[] } | null {
  const done = runs.filter((r) => r.status === 'completed');
  const higherIsBetter = done[0]?.task.metric.higherIsBetter ?? true;
  const held = done.map((r) => heldFrom(r.curve, higherIsBetter, holdFrom));
  return held.some((v) => v === null) ? null : { done, higherIsBetter, values: held as number[] };
}

export interface SuggestedTarget {
  value: number;
  /** the unrounded worst held quality */
  raw: number;
  seeds: number[];
}

/**
 * The target these runs suggest: the worst quality any of them holds from `holdFrom` × its
 * budget on (1: its final quality). The protocol's target rules read it with their own
 * holdFrom on the reference's target-setting seeds only (harness/findings/confirmatory.ts).
 * Null without a completed run with a finite curve.
 */
export function suggestTarget(dense: readonly RunRecord[], holdFrom = HOLD_FROM): SuggestedTarget | null {
  const h = heldQualities(dense, holdFrom);
  if (!h || h.values.length === 0) return null;
  const { done, higherIsBetter, values } = h;
  const raw = higherIsBetter ? Math.min(...values) : Math.max(...values);
  return { value: roundEasier(raw, higherIsBetter), raw, seeds: done.map((r) => r.task.seed).sort((a, b) => a - b) };
}

/**
 * The tolerance rule (protocol v2): the bound, easier than the runs' held qualities, that
 * covers `coverage` of the reference's seeds with probability `confidence` under a normal
 * model of log distance from perfect (log q where lower is better, log(1 − q) where higher is
 * better, which keeps an accuracy bound below 1 and a loss bound above 0). Needs at least two
 * completed runs with finite held qualities inside that range; null otherwise.
 */
export function suggestToleranceTarget(
  runs: readonly RunRecord[],
  holdFrom: number,
  coverage: number,
  confidence: number,
): (SuggestedTarget & { k: number }) | null {
  const h = heldQualities(runs, holdFrom);
  if (!h || h.values.length < 2) return null;
  const { done, higherIsBetter } = h;
  const gaps = h.values.map((q) => (higherIsBetter ? 1 - q : q));
  if (gaps.some((g) => !(g > 0))) return null;
  const logs = gaps.map(Math.log);
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (logs.length - 1));
  const k = toleranceFactor(logs.length, coverage, confidence);
  const gap = Math.exp(mean + k * sd);
  const raw = higherIsBetter ? 1 - gap : gap;
  return { value: roundEasier(raw, higherIsBetter), raw, k, seeds: done.map((r) => r.task.seed).sort((a, b) => a - b) };
}

/** Per task and tier with dense runs: the suggestion and the constant in force. */
export function suggestTargets(records: readonly RunRecord[]): string[] {
  const lines: string[] = [];
  for (const info of TASK_INFOS) {
    for (const [tier, settings] of Object.entries(info.tiers)) {
      const dense = records.filter((r) => r.task.id === info.spec.id && r.task.tier === tier && r.architecture.name === 'dense');
      const s = suggestTarget(dense);
      const current = settings.target.value === null ? `none (${settings.target.reason})` : String(settings.target.value);
      lines.push(
        s
          ? `${info.spec.id} ${tier}: suggested ${s.value} (worst held from ${HOLD_FROM * 100}% of the budget: ${s.raw.toPrecision(5)}, dense seeds ${s.seeds.join(' ')}); in force: ${current}`
          : `${info.spec.id} ${tier}: no completed dense runs; in force: ${current}`,
      );
    }
  }
  return lines;
}
