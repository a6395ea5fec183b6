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
  const rows = await st.store.leaderboard({
    task: view.task,
    tier: view.tier,
    hardwareClass: view.hw,
    provenance: provenanceFilter(view.prov),
  });
  return (
    <>
      <h1>Capability per unit of training cost</h1>
      <p className="lede">
        Every architecture trained to the same FLOP budget on the same task; up and to the left is better. Choose a task, tier and hardware
        class, and the axes; click a point or a name for the architecture’s runs.
      </p>
      <Leaderboard facets={facets} view={view} rows={rows} notes={notes} />
    </>
  );
}
