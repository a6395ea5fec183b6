/** The store's runs on the scaling ladder's tiers, every hardware class (the study uses quality and FLOPs, never seconds). */
import type { RunRecord } from '../../harness/results/record.ts';
import type { Facets, Store } from '../../harness/store/types.ts';
import { LADDER_RUNGS } from '../../harness/tasks/ladder.ts';

/** Runs on the rungs below cpu; the cpu tier's own runs are fetched by whoever needs them too. */
export async function rungRecords(store: Store, facets: Facets): Promise<RunRecord[]> {
  const rungs = new Set<string>(LADDER_RUNGS.map((l) => l.tier));
  const out: RunRecord[] = [];
  for (const s of facets.slices.filter((x) => rungs.has(x.tier)))
    out.push(...(await store.records({ task: s.task, tier: s.tier, hardwareClass: s.hardwareClass })));
  return out;
}
