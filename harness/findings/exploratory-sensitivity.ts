/**
 * The exploratory set's headline multipliers under each target rule protocol v1 names (the
 * audit's point 3: the rule in force was chosen after the data were in, and charlm hash read
 * 1.91× under it, 1.44× and 1.63× under the others). Every rule sets its target from the same
 * dense seeds the task's constant came from; the rule in force is that constant itself.
 */
import { type CostPair, pairedMultiplier } from '../stats/multiplier.ts';
import { suggestTarget } from '../stats/targets.ts';
import { bySeed } from './analysis.ts';
import type { TaskFindings } from './collect.ts';
import { readingOf } from './confirmatory.ts';
import { formatPairedMultiplier, formatTarget, tableOf } from './format.ts';

interface Rule {
  id: string;
  /** null: the task's constant (the rule in force) */
  holdFrom: number | null;
  crossing: 'for good' | 'first';
}

const RULES: readonly Rule[] = [
  { id: 'in force (held-25, chosen after seeing the data)', holdFrom: null, crossing: 'for good' },
  { id: 'held-50', holdFrom: 0.5, crossing: 'for good' },
  { id: 'final', holdFrom: 1, crossing: 'for good' },
  { id: 'in force, first crossing', holdFrom: null, crossing: 'first' },
];

/** Per task, every architecture against `reference` (seed-paired, executed FLOPs) under each rule. */
export function exploratorySensitivity(tasks: readonly TaskFindings[], reference = 'dense-block', setter = 'dense'): string {
  const body: string[][] = [];
  const targetsLine: string[] = [];
  for (const t of tasks) {
    const ref = t.archs.find((a) => a.name === reference)?.records ?? [];
    // the constants came from the setter's seeds 0-4 (harness/tasks/*.info.ts); the other rules read the same seeds
    const setters = (t.archs.find((a) => a.name === setter)?.records ?? []).filter((r) => r.task.seed < 5);
    const targets = RULES.map((rule) =>
      rule.holdFrom === null ? (t.constants?.target ?? null) : (suggestTarget(setters, rule.holdFrom)?.value ?? null),
    );
    if (ref.length === 0 || targets.every((x) => x === null)) continue;
    targetsLine.push(
      `${t.task}: ${RULES.slice(0, 3)
        .map((r, i) => `${r.id.split(' (')[0]} ${targets[i] === null ? 'none' : formatTarget(targets[i] as number, t.metric)}`)
        .join(', ')}`,
    );
    for (const a of t.archs) {
      if (a.name === reference) continue;
      const pairs = bySeed(ref, a.records);
      body.push([
        t.task,
        a.name,
        ...RULES.map((rule, i) => {
          const target = targets[i];
          if (target === null || target === undefined) return 'not measured: no target';
          const ps: CostPair[] = pairs.map(([d, x]) => ({
            seed: x.task.seed,
            dense: readingOf(d, target, rule.crossing, 'executedFlops'),
            arch: readingOf(x, target, rule.crossing, 'executedFlops'),
          }));
          return ps.length < 2 ? 'not measured: too few runs' : formatPairedMultiplier(pairedMultiplier(ps), reference);
        }),
      ]);
    }
  }
  if (body.length === 0) return '';
  return [
    '### Sensitivity to the target rule (exploratory)',
    `*Each architecture's cost multiplier against ${reference} (executed FLOPs, seed-paired; > 1 is cheaper) under the rule in force and under the rules it was chosen over, every target set from the same ${setter} seeds 0–4 the task's constant came from. The rule in force was chosen after these records were seen; a figure that moves between columns depends on that choice. Targets: ${targetsLine.join('; ')}.*`,
    tableOf(['task', 'architecture', ...RULES.map((r) => r.id)], body),
  ].join('\n\n');
}
