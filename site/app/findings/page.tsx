/**
 * The README's "What we found", on a page: the same code as `npm run findings`
 * (harness/findings/summarize.ts) over the store's cpu-tier records of the busiest
 * hardware class, each seed's figure linking to its run page instead of its record file.
 * The markdown is rendered with raw HTML off, so nothing in a record can become markup.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import Link from 'next/link';
import { FINDINGS_TIER, summarizeFindings, taskOrder } from '../../../harness/findings/summarize.ts';
import type { LeaderboardRow } from '../../../harness/store/types.ts';
import { EmptyStore } from '../../components/EmptyStore.tsx';
import { live } from '../../lib/live.ts';
import { getStore } from '../../lib/store.ts';
import { runHref } from '../../lib/view.ts';

export const metadata: Metadata = { title: 'findings' };

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

export default async function FindingsPage() {
  await live();
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const facets = await st.store.facets();
  // the hardware class with the most cpu-tier runs, ties by name: pickHardwareClass's rule, on the store's counts
  const counts = new Map<string, number>();
  for (const s of facets.slices) if (s.tier === FINDINGS_TIER) counts.set(s.hardwareClass, (counts.get(s.hardwareClass) ?? 0) + s.runs);
  const hardwareClass = [...counts.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]?.[0] ?? null;
  const records = hardwareClass ? await st.store.records({ task: 'all', tier: FINDINGS_TIER, hardwareClass }, { incomplete: true }) : [];
  const leaderboards: Record<string, LeaderboardRow[]> = {};
  if (hardwareClass) {
    for (const task of taskOrder(records)) leaderboards[task] = await st.store.leaderboard({ task, tier: FINDINGS_TIER, hardwareClass });
  }
  const recordHrefs = Object.fromEntries(records.map((r) => [r.id, runHref(r.id)]));
  const section = summarizeFindings({ records, hardwareClass, leaderboards, recordHrefs });
  return (
    <article className="findings" data-records={records.length}>
      <h1>What we found</h1>
      <p className="lede">
        The verdicts of the README, computed here by the same code as <code>npm run findings</code> from this site’s store (tier{' '}
        {FINDINGS_TIER}
        {hardwareClass ? `, ${hardwareClass}` : ''}). Each seed link (s0, s1, …) opens the run behind a figure. The curves and cost to
        target are on <Link href="/">the leaderboard</Link>.
      </p>
      {/* markdown-it with html: false escapes every character of the source: no record text becomes markup */}
      <div className="findings-body" dangerouslySetInnerHTML={{ __html: md.render(section) }} />
    </article>
  );
}
