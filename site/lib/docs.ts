/**
 * The documentation pages under docs/ (moved out of the README), rendered for /docs/[slug]
 * from the same files GitHub shows. Links are rewritten for the site: another page's
 * `x.md#a` → `/docs/x#a`, a record file → its run page; a link to a source file (which the
 * site does not serve) keeps its text and loses its link. Raw HTML is off: a page's HTML
 * comments (the findings markers) are dropped first, everything else is escaped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { repoRoot } from './store.ts';
import { runHref } from './view.ts';

/** The order the index and the README list them in. */
export const DOC_ORDER = [
  'running',
  'submitting',
  'trust',
  'methods',
  'protocol',
  'findings',
  'site',
  'tasks',
  'operations',
  'benchmarks',
] as const;

const docsDir = () => join(/* turbopackIgnore: true */ repoRoot(), 'docs');

export function docSlugs(): string[] {
  const dir = docsDir();
  if (!existsSync(/* turbopackIgnore: true */ dir)) return [];
  const found = readdirSync(/* turbopackIgnore: true */ dir)
    .filter((f) => /^[a-z0-9-]+\.md$/.test(f))
    .map((f) => f.slice(0, -3));
  const rank = (s: string) => {
    const i = (DOC_ORDER as readonly string[]).indexOf(s);
    return i < 0 ? DOC_ORDER.length : i;
  };
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
export function headingId(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/** Where a link in a docs page points on the site, or null for no link. */
export function siteHref(href: string): string | null {
  if (/^(https?:|mailto:)/.test(href) || href.startsWith('#') || href.startsWith('/')) return href;
  const doc = /^(?:\.\/)?([a-z0-9-]+)\.md(#.*)?$/.exec(href);
  if (doc) return `/docs/${doc[1]}${doc[2] ?? ''}`;
  const run = /(?:^|\/)results\/runs\/([a-z0-9][a-z0-9.-]*)\.json$/.exec(href);
  if (run?.[1]) return runHref(run[1]);
  return null;
}

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
md.core.ruler.push('middlepath-site', (state) => {
  for (const [i, token] of state.tokens.entries()) {
    if (token.type === 'heading_open') {
      const text = state.tokens[i + 1]?.content ?? '';
      token.attrSet('id', headingId(text));
    }
    if (token.type !== 'inline' || !token.children) continue;
    const unlinked: boolean[] = [];
    for (const child of token.children) {
      if (child.type === 'link_open') {
        const href = siteHref(String(child.attrGet('href') ?? ''));
        unlinked.push(href === null);
        if (href === null) {
          child.tag = 'span';
          child.attrs = null;
        } else child.attrSet('href', href);
      } else if (child.type === 'link_close' && unlinked.pop()) child.tag = 'span';
    }
  }
  return true;
});

export interface Doc {
  slug: string;
  title: string;
  html: string;
}

export function readDoc(slug: string): Doc | null {
  if (!/^[a-z0-9-]+$/.test(slug)) return null;
  const path = join(/* turbopackIgnore: true */ docsDir(), `${slug}.md`);
  if (!existsSync(/* turbopackIgnore: true */ path)) return null;
  const source = readFileSync(/* turbopackIgnore: true */ path, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const title = /^#{1,6}\s+(.+)$/m.exec(source)?.[1]?.trim() ?? slug;
  return { slug, title, html: md.render(source) };
}
