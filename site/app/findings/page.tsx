/**
 * The README's "What we found", on a page: the same code as `npm run findings`
 * (harness/findings/summarize.ts) over the store's cpu-tier records, each task on its
 * busiest hardware class, each seed's figure linking to its run page instead of its record file.
 * The markdown is rendered with raw HTML off, so nothing in a record can become markup.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import Link from 'next/link';
import { FINDINGS_TIER, hardwareClassByTask, summarizeFindings } from '../../../harness/findings/summarize.ts';
import type { RunRecord } from '../../../harness/results/record.ts';
import type { LeaderboardRow } from '../../../harness/store/types.ts';
import { EmptyStore } from '../../components/EmptyStore.tsx';
import { rungRecords } from '../../lib/ladder.ts';
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
  const hardwareClasses = hardwareClassByTask(facets.slices);
  const records: RunRecord[] = [];
  const leaderboards: Record<string, LeaderboardRow[]> = {};
  for (const [task, hardwareClass] of Object.entries(hardwareClasses)) {
    records.push(...(await st.store.records({ task, tier: FINDINGS_TIER, hardwareClass }, { incomplete: true })));
    leaderboards[task] = await st.store.leaderboard({ task, tier: FINDINGS_TIER, hardwareClass });
  }
  // the Scaling section reads the ladder's rungs too, as `npm run findings` does
  records.push(...(await rungRecords(st.store, facets)));
  const classes = [...new Set(Object.values(hardwareClasses))];
  const recordHrefs = Object.fromEntries(records.map((r) => [r.id, runHref(r.id)]));
  const section = summarizeFindings({ records, hardwareClasses, leaderboards, recordHrefs });
  return (
    <article className="findings" data-records={records.length}>
      <h1>What we found</h1>
      <p className="lede">
        The verdicts of the README, computed here by the same code as <code>npm run findings</code> from this site’s store (tier{' '}
        {FINDINGS_TIER}
        {classes.length ? `, ${classes.join(' and ')}` : ''}). Each seed link (s0, s1, …) opens the run behind a figure. The curves and cost
        to target are on <Link href="/">the leaderboard</Link>.
      </p>
      {/* markdown-it with html: false escapes every character of the source: no record text becomes markup */}
      <div className="findings-body" dangerouslySetInnerHTML={{ __html: md.render(section) }} />
    </article>
  );
}
