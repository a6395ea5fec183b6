import Link from 'next/link';
import { Answer } from '../components/Answer.tsx';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { Leaderboard } from '../components/Leaderboard.tsx';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import type { SearchParams } from '../lib/params.ts';
import { getStore } from '../lib/store.ts';
import { provenanceFilter, resolveView } from '../lib/view.ts';

export default async function Home({ searchParams }: { searchParams: SearchParams }) {
  await live();
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const facets = await st.store.facets();
  // A static export has no query string: `/` is the default view, the others live under /board/.
  const raw = isExport ? {} : await searchParams;
  const resolved = resolveView(facets, raw);
  if (!resolved) return <EmptyStore where={st.where} />;
  const { view, notes } = resolved;
  const filter = { task: view.task, tier: view.tier, hardwareClass: view.hw, provenance: provenanceFilter(view.prov) };
  const [rows, records] = await Promise.all([st.store.leaderboard(filter), st.store.records(filter)]);
  return (
    <>
      <Answer store={st.store} facets={facets} />
      <h2 className="board-title">What does it cost to reach the target?</h2>
      <p className="lede">
        Every architecture trained to the same FLOP budget on the same task, its held-out quality evaluated along the way. The curves show
        quality against cost, the tables the cost at which each architecture reaches the task’s target and its multiplier against dense, and
        the profile how often each is near the cheapest across tasks. The verdicts on what the literature predicts are on{' '}
        <Link href="/findings">the findings page</Link>. Click a name for the architecture’s runs.
      </p>
      <Leaderboard facets={facets} view={view} rows={rows} records={records} notes={notes} />
    </>
  );
}
