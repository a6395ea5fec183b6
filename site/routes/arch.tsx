import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { RunsTable } from '../components/RunsTable.tsx';
import { FAMILY_COLOR, FAMILY_LABEL } from '../lib/family.ts';
import { date } from '../lib/format.ts';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import { segment } from '../lib/params.ts';
import { getStore } from '../lib/store.ts';
import { compareHref } from '../lib/view.ts';

type Params = { name: string };

/** The most runs an architecture page lists; the rest are counted, and reachable per task from the leaderboard. */
const RUN_LIMIT = 1000;

export async function generateStaticParams(): Promise<Params[]> {
  if (!isExport) return [];
  const st = await getStore();
  const archs = st.ok ? await st.store.architectures() : [];
  return archs.length ? archs.map((a) => ({ name: a.name })) : [{ name: 'none' }];
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  return { title: segment((await params).name) };
}

export default async function ArchPage({ params }: { params: Promise<Params> }) {
  await live();
  const name = segment((await params).name);
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const a = await st.store.architecture(name);
  if (!a) notFound();
  const others = (await st.store.architectures()).filter((o) => o.name !== a.name);
  const dense = others.find((o) => o.family === 'dense');
  const hp = Object.entries(a.hyperparameters);
  const completed = a.runs.filter((r) => r.status === 'completed').length;
  return (
    <article data-arch={a.name}>
      <p className="muted small">
        <Link href="/">leaderboard</Link> › architecture
      </p>
      <h1 id="arch-name">{a.name}</h1>
      <p className="lede" id="arch-description">
        {a.description}
      </p>
      <dl className="kv">
        <dt>family</dt>
        <dd>
          <span className="badge" style={{ borderColor: FAMILY_COLOR[a.family], color: FAMILY_COLOR[a.family] }}>
            {FAMILY_LABEL[a.family]}
          </span>
        </dd>
        <dt>origin</dt>
        <dd>{a.origin}</dd>
        {a.reference && (
          <>
            <dt>reference</dt>
            <dd>{a.reference}</dd>
          </>
        )}
        <dt>hyperparameters</dt>
        <dd>{hp.length ? hp.map(([k, v]) => `${k}=${String(v)}`).join(', ') : '—'}</dd>
        <dt>runs</dt>
        <dd>
          {a.runs.length} ({completed} completed)
        </dd>
        {dense && (
          <>
            <dt>compare</dt>
            <dd>
              <Link href={compareHref(a.name, dense.name)} prefetch={false}>
                side by side with {dense.name}
              </Link>
            </dd>
          </>
        )}
      </dl>
      <h2>Source versions</h2>
      <div className="table-wrap">
        <table id="sources-table">
          <thead>
            <tr>
              <th scope="col">SHA-256 of the module source</th>
              <th scope="col" className="num">
                runs
              </th>
              <th scope="col">first run</th>
              <th scope="col">last run</th>
            </tr>
          </thead>
          <tbody>
            {a.sources.map((s) => (
              <tr key={s.sourceHash}>
                <td>
                  <code>{s.sourceHash}</code>
                </td>
                <td className="num">{s.runs}</td>
                <td>{date(s.firstStartedAt)}</td>
                <td>{date(s.lastStartedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Every run</h2>
      {a.runs.length > RUN_LIMIT && (
        <p className="muted small">
          The {RUN_LIMIT} most recent of {a.runs.length} runs.
        </p>
      )}
      <RunsTable runs={a.runs.slice(0, RUN_LIMIT)} />
    </article>
  );
}
