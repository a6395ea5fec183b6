/**
 * The GET handlers behind the site's downloads, shared by the live and export route files
 * (which differ only in their segment config, see next.config's pageExtensions).
 */
import { leaderboardCsv, leaderboardJson } from '../../harness/store/export.ts';
import { segment } from './params.ts';
import { getStore } from './store.ts';
import { allBoardParams, hwFromSlug, resolveView } from './view.ts';

const notFound = (what: string) =>
  new Response(`not found: ${what}\n`, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });

export async function recordJson(id: string): Promise<Response> {
  const st = await getStore();
  if (!st.ok) return notFound('the store is empty');
  const r = await st.store.run(segment(id));
  if (!r) return notFound(`run ${id}`);
  return new Response(`${JSON.stringify(r, null, 2)}\n`, {
    headers: { 'content-type': 'application/json; charset=utf-8', 'content-disposition': `attachment; filename="${r.id}.json"` },
  });
}

export async function recordParams(): Promise<{ id: string }[]> {
  const st = await getStore();
  const runs = st.ok ? await st.store.runs() : [];
  return runs.length ? runs.map((r) => ({ id: r.id })) : [{ id: 'none' }];
}

type DataParams = { task: string; tier: string; hw: string };

export async function leaderboardDownload(p: DataParams, ext: 'csv' | 'json'): Promise<Response> {
  const st = await getStore();
  if (!st.ok) return notFound('the store is empty');
  const facets = await st.store.facets();
  const hw = hwFromSlug(facets, segment(p.hw));
  if (!hw) return notFound(`hardware class ${p.hw}`);
  const resolved = resolveView(facets, { task: segment(p.task), tier: p.tier, hw });
  if (!resolved || resolved.notes.length) return notFound(`leaderboard ${p.task}/${p.tier}/${p.hw}`);
  const { view } = resolved;
  const filter = { task: view.task, tier: view.tier, hardwareClass: view.hw };
  const rows = await st.store.leaderboard(filter);
  const name = `middlepath-${view.task}-${view.tier}-${p.hw}`;
  return ext === 'csv'
    ? new Response(leaderboardCsv(rows), {
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` },
      })
    : new Response(leaderboardJson(filter, rows), {
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-disposition': `attachment; filename="${name}.json"` },
      });
}

export async function dataParams(): Promise<DataParams[]> {
  const st = await getStore();
  if (!st.ok) return [{ task: 'none', tier: 'smoke', hw: 'none' }];
  const seen = new Map<string, DataParams>();
  for (const p of allBoardParams(await st.store.facets()))
    seen.set(`${p.task}/${p.tier}/${p.hw}`, { task: p.task, tier: p.tier, hw: p.hw });
  return seen.size ? [...seen.values()] : [{ task: 'none', tier: 'smoke', hw: 'none' }];
}
