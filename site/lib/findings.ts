/**
 * The findings section from the store, as `npm run findings` builds it from the record files:
 * confirmatory records read under the protocol, the exploratory ones on each task's busiest
 * hardware class of their own set (the sets never mix), each seed linking to its run page.
 */
import { trendRulesOf } from '../../harness/findings/scaling.ts';
import { composeFindings, setsOrRefuse } from '../../harness/findings/section.ts';
import { FINDINGS_TIER, hardwareClassByTask, sliceCounts, summarizeFindings } from '../../harness/findings/summarize.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import type { LeaderboardRow, Store } from '../../harness/store/types.ts';
import { rungRecords } from './ladder.ts';
import { PROTOCOL } from './protocol.ts';

export interface StoreFindings {
  section: string;
  /** the exploratory cpu-tier records the tables link, and their hardware classes */
  linked: RunRecord[];
  classes: string[];
  records: number;
}

export async function findingsFromStore(store: Store, hrefOf: (id: string) => string): Promise<StoreFindings> {
  const facets = await store.facets();
  const cpu: RunRecord[] = [];
  for (const s of facets.slices.filter((x) => x.tier === FINDINGS_TIER))
    cpu.push(...(await store.records({ task: s.task, tier: s.tier, hardwareClass: s.hardwareClass }, { incomplete: true })));
  const rungs = await rungRecords(store, facets);
  const sets = setsOrRefuse([...cpu, ...rungs], PROTOCOL);
  const exploratoryCpu = sets.exploratory.filter((r) => r.task.tier === FINDINGS_TIER);
  const hardwareClasses = hardwareClassByTask(sliceCounts(exploratoryCpu));
  const leaderboards: Record<string, LeaderboardRow[]> = {};
  // the store's leaderboard of a class holds that class's runs; confirmatory runs are on a class of their own
  for (const [task, hardwareClass] of Object.entries(hardwareClasses))
    leaderboards[task] = await store.leaderboard({ task, tier: FINDINGS_TIER, hardwareClass });
  const linked = exploratoryCpu.filter((r) => r.hardwareClass === hardwareClasses[r.task.id]);
  const all = [...cpu, ...rungs];
  const recordHrefs = Object.fromEntries(all.map((r) => [r.id, hrefOf(r.id)]));
  const exploratory = summarizeFindings({
    records: sets.exploratory,
    hardwareClasses,
    leaderboards,
    recordHrefs,
    maxLoadPerCore: PROTOCOL.seconds.maxLoadPerCore,
    trendRules: trendRulesOf(PROTOCOL),
  });
  return {
    section: composeFindings(PROTOCOL, sets.confirmatory, exploratory),
    linked,
    classes: [...new Set(Object.values(hardwareClasses))],
    records: all.length,
  };
}
