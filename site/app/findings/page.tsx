/**
 * The README's "What we found", on a page: the same code as `npm run findings`
 * (harness/findings/section.ts) over the store's cpu-tier records, read under the protocol
 * (confirmatory, then exploratory on each task's busiest class), each seed's figure linking to its run page instead of its record file.
 * The markdown is rendered with raw HTML off, so nothing in a record can become markup.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import Link from 'next/link';
import { FINDINGS_TIER } from '../../../harness/findings/summarize.ts';
import { EmptyStore } from '../../components/EmptyStore.tsx';
import { findingsFromStore } from '../../lib/findings.ts';
import { live } from '../../lib/live.ts';
import { getStore } from '../../lib/store.ts';
import { runHref } from '../../lib/view.ts';

export const metadata: Metadata = { title: 'findings' };

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

export default async function FindingsPage() {
  await live();
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  let found: Awaited<ReturnType<typeof findingsFromStore>>;
  try {
    found = await findingsFromStore(st.store, runHref);
  } catch (e) {
    // a record run under another protocol: the findings refuse to mix protocols, and say which
    return (
      <article className="findings">
        <h1>What we found</h1>
        <p className="lede">The findings are not shown: {(e as Error).message}</p>
      </article>
    );
  }
  const { section, classes, records } = found;
  return (
    <article className="findings" data-records={records}>
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
