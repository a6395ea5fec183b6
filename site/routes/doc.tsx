import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { docSlugs, readDoc } from '../lib/docs.ts';
import { segment } from '../lib/params.ts';

type Params = { slug: string };

export async function generateStaticParams(): Promise<Params[]> {
  return docSlugs().map((slug) => ({ slug }));
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const doc = readDoc(segment((await params).slug));
  return { title: doc?.title ?? 'docs' };
}

export default async function DocPage({ params }: { params: Promise<Params> }) {
  const doc = readDoc(segment((await params).slug));
  if (!doc) notFound();
  return (
    <article className="doc">
      <nav aria-label="documentation" className="doc-nav">
        {docSlugs().map((s) =>
          s === doc.slug ? (
            <strong key={s}>{s}</strong>
          ) : (
            <Link key={s} href={`/docs/${s}`} prefetch={false}>
              {s}
            </Link>
          ),
        )}
      </nav>
      {/* markdown-it with html: false: the committed docs' text, escaped; links rewritten for the site (lib/docs.ts) */}
      <div className="findings-body doc-body" dangerouslySetInnerHTML={{ __html: doc.html }} />
    </article>
  );
}
