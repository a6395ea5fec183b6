/** A comparison at a path, so a static export can prerender every pair. */
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ComparePairs } from '../components/Compare.tsx';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import { segment } from '../lib/params.ts';
import { getStore } from '../lib/store.ts';

type Params = { a: string; b: string };

export async function generateStaticParams(): Promise<Params[]> {
  if (!isExport) return [];
  const st = await getStore();
  const names = st.ok ? (await st.store.architectures()).map((x) => x.name) : [];
  const pairs = names.flatMap((a, i) => names.slice(i + 1).map((b) => ({ a, b })));
  return pairs.length ? pairs : [{ a: 'none', b: 'none' }];
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const p = await params;
  return { title: `${segment(p.a)} vs ${segment(p.b)}` };
}

export default async function ComparePairPage({ params }: { params: Promise<Params> }) {
  await live();
  const p = await params;
  const a = segment(p.a);
  const b = segment(p.b);
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const names = new Set((await st.store.architectures()).map((x) => x.name));
  if (!names.has(a) || !names.has(b)) notFound();
  return (
    <>
      <p className="muted small">
        <Link href="/compare">compare</Link>
      </p>
      <h1>
        {a} vs {b}
      </h1>
      <ComparePairs store={st.store} a={a} b={b} />
    </>
  );
}
