/**
 * The leaderboard at a path instead of a query string, so a static export can prerender
 * every view (/board/<task>/<tier>/<hardware slug>/<cost axis>/<capability axis>).
 */
import { notFound } from 'next/navigation';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { Leaderboard } from '../components/Leaderboard.tsx';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import { segment } from '../lib/params.ts';
import { getStore } from '../lib/store.ts';
import { allBoardParams, hwFromSlug, resolveView } from '../lib/view.ts';

type Params = { task: string; tier: string; hw: string; cost: string; cap: string };

export async function generateStaticParams(): Promise<Params[]> {
  if (!isExport) return [];
  const st = await getStore();
  const params = st.ok ? allBoardParams(await st.store.facets()) : [];
  // an export must prerender at least one page per route; this one is a 404
  return params.length > 0 ? params : [{ task: 'none', tier: 'smoke', hw: 'none', cost: 'executedFlops', cap: 'multiplier' }];
}

export default async function BoardPage({ params }: { params: Promise<Params> }) {
  await live();
  const p = await params;
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const facets = await st.store.facets();
  const hw = hwFromSlug(facets, segment(p.hw));
  if (!hw) notFound();
  const resolved = resolveView(facets, { task: segment(p.task), tier: p.tier, hw, cost: p.cost, cap: p.cap });
  if (!resolved || resolved.notes.length > 0) notFound();
  const { view } = resolved;
  const filter = { task: view.task, tier: view.tier, hardwareClass: view.hw };
  const [rows, records] = await Promise.all([st.store.leaderboard(filter), st.store.records(filter)]);
  return (
    <>
      <h1>What does it cost to reach the target?</h1>
      <Leaderboard facets={facets} view={view} rows={rows} records={records} notes={[]} />
    </>
  );
}
