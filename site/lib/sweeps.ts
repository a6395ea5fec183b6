/** The sweep plans committed under results/sweeps/, and the store's records of their task and tiers (every hardware class). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../harness/results/record.ts';
import type { Facets, Store } from '../../harness/store/types.ts';
import { parseSweepPlan, type SweepPlan } from '../../harness/sweeps/plan.ts';
import { repoRoot } from './store.ts';

/** Every valid plan file, by name; a file that does not parse is listed with why. */
export function sweepPlans(): { plans: SweepPlan[]; errors: Array<{ file: string; message: string }> } {
  const dir = join(/* turbopackIgnore: true */ repoRoot(), 'results', 'sweeps');
  const plans: SweepPlan[] = [];
  const errors: Array<{ file: string; message: string }> = [];
  if (!existsSync(/* turbopackIgnore: true */ dir)) return { plans, errors };
  for (const file of readdirSync(/* turbopackIgnore: true */ dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      plans.push(parseSweepPlan(JSON.parse(readFileSync(/* turbopackIgnore: true */ join(dir, file), 'utf8')), file));
    } catch (e) {
      errors.push({ file, message: (e as Error).message });
    }
  }
  return { plans, errors };
}

/** The records a plan could hold: its task at its tiers (the study picks its cells out of them). */
export async function sweepRecords(store: Store, facets: Facets, plan: SweepPlan): Promise<RunRecord[]> {
  const tiers = new Set<string>(plan.tiers);
  const out: RunRecord[] = [];
  for (const s of facets.slices.filter((x) => x.task === plan.task && tiers.has(x.tier)))
    out.push(...(await store.records({ task: s.task, tier: s.tier, hardwareClass: s.hardwareClass })));
  return out;
}
