/**
 * Layout in a real browser, on the real built site over the committed records (results/): every
 * kind of page at 390 px (a phone) and 1366 px (a laptop). It fails when
 * - the page scrolls sideways (something is wider than the viewport; the culprit is named),
 * - two text boxes of one chart overlap (labels, tick labels, captions inside the SVG),
 * - one multiplier (tier/task/architecture/cost axis, marked data-mult) is shown with two
 *   different figures anywhere on the site.
 * Screenshots go to artifacts/layout/ (gitignored); the HTML weight of each page is printed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readValidRecords } from '../harness/results/files.ts';
import { openStore } from '../harness/store/index.ts';
import { ingestDir } from '../harness/store/ingest.ts';
import { docSlugs } from './lib/docs.ts';
import { ensureBuilt, type SiteServer, serveSite } from './serve.ts';
import { launchChromium } from './test/browser.ts';
import { freePort, tempSqlitePath } from './test/fixture.ts';

const ROOT = join(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'artifacts', 'layout');
const WIDTHS = [390, 1366] as const;

let site: SiteServer;
let browser: Browser;
let pages: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  const sqlitePath = tempSqlitePath('middlepath-layout-');
  const store = await openStore({ sqlitePath });
  await ingestDir(store, join(ROOT, 'results')).finally(() => store.close());
  site = await serveSite({ port: await freePort(), sqlitePath });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });

  // one page of every route, and a run page of every task (charlm's is the heaviest)
  const records = readValidRecords(join(ROOT, 'results'));
  const runOf = (task: string, arch: string) =>
    records.find((r) => r.task.tier === 'cpu' && r.task.id === task && r.architecture.name === arch && r.status === 'completed');
  const runs = ['superposition', 'parity', 'mnist', 'charlm'].flatMap((t) => {
    const r = runOf(t, 'hash') ?? runOf(t, 'dense');
    return r ? [`/runs/${r.id}`] : [];
  });
  const archs = [...new Set(records.map((r) => r.architecture.name))].sort();
  pages = [
    '/',
    '/findings',
    '/scaling',
    '/laws',
    '/methods',
    '/submissions',
    '/compare',
    '/compare?a=dense&b=switch-top1',
    ...archs.map((a) => `/archs/${a}`),
    ...runs,
    ...docSlugs().map((s) => `/docs/${s}`),
  ];
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

interface PageReport {
  overflow: { scrollWidth: number; culprits: string[] } | null;
  overlaps: string[];
  multipliers: [string, string][];
}

/** Measured in the page: sideways overflow, overlapping text in each SVG, and every data-mult figure. */
function inspect(page: Page): Promise<PageReport> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const sw = document.documentElement.scrollWidth;
    let overflow: PageReport['overflow'] = null;
    if (sw > vw + 1) {
      // the outermost elements that reach past the viewport and are not inside a scrolling box
      const scrolls = (el: Element) => {
        const s = getComputedStyle(el);
        return (
          (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') &&
          el !== document.body &&
          el !== document.documentElement
        );
      };
      const culprits: string[] = [];
      const walk = (el: Element) => {
        if (scrolls(el)) return;
        const r = el.getBoundingClientRect();
        if (r.right > vw + 1 && r.width > 0) {
          const inner = [...el.children].some((c) => c.getBoundingClientRect().right > vw + 1 && !scrolls(c));
          if (!inner)
            culprits.push(
              `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} (right ${Math.round(r.right)} px): ${(el.textContent ?? '').trim().slice(0, 60)}`,
            );
        }
        for (const c of el.children) walk(c);
      };
      walk(document.body);
      overflow = { scrollWidth: sw, culprits: culprits.slice(0, 5) };
    }

    const overlaps: string[] = [];
    for (const svg of document.querySelectorAll('svg')) {
      const texts = [...svg.querySelectorAll('text')]
        .map((t) => ({ t, r: t.getBoundingClientRect(), s: (t.textContent ?? '').trim() }))
        .filter((x) => x.s !== '' && x.r.width > 0 && x.r.height > 0 && getComputedStyle(x.t).visibility !== 'hidden');
      for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i] as (typeof texts)[number];
          const b = texts[j] as (typeof texts)[number];
          // a <text> holding <tspan>s is measured once, by itself
          if (a.t.contains(b.t) || b.t.contains(a.t)) continue;
          const ix = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
          const iy = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
          // more than a pixel's graze both ways: the two texts cover each other
          if (ix > 1 && iy > 1)
            overlaps.push(`"${a.s.slice(0, 30)}" × "${b.s.slice(0, 30)}" in ${svg.getAttribute('aria-label')?.slice(0, 60) ?? 'a chart'}`);
        }
      }
    }

    const multipliers: [string, string][] = [...document.querySelectorAll('[data-mult]')].map((el) => [
      el.getAttribute('data-mult') ?? '',
      (el.querySelector('.mean')?.textContent ?? el.textContent ?? '').trim(),
    ]);
    return { overflow, overlaps, multipliers };
  });
}

describe('every page at a phone’s and a laptop’s width', () => {
  test('no sideways scroll, no overlapping chart text, one figure per multiplier', async () => {
    const failures: string[] = [];
    const seen = new Map<string, { figure: string; where: string }>();
    for (const path of pages) {
      const res = await fetch(site.url + path);
      const html = await res.text();
      expect(res.status, path).toBe(200);
      console.log(`page weight ${path}: ${(Buffer.byteLength(html) / 1024).toFixed(0)} KB of HTML`);
      for (const width of WIDTHS) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        try {
          await page.goto(site.url + path, { waitUntil: 'load' });
          const report = await inspect(page);
          const name = `${path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'home'}-${width}`;
          await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
          if (report.overflow)
            failures.push(
              `${path} at ${width} px scrolls sideways to ${report.overflow.scrollWidth} px: ${report.overflow.culprits.join(' | ')}`,
            );
          for (const o of report.overlaps) failures.push(`${path} at ${width} px: overlapping text ${o}`);
          for (const [key, figure] of report.multipliers) {
            const prev = seen.get(key);
            if (prev && prev.figure !== figure)
              failures.push(`multiplier ${key} reads ${figure} on ${path} but ${prev.figure} on ${prev.where}`);
            else if (!prev) seen.set(key, { figure, where: path });
          }
        } finally {
          await page.close();
        }
      }
    }
    console.log(`${pages.length} pages × ${WIDTHS.length} widths; ${seen.size} multipliers marked; screenshots in ${ARTIFACTS}`);
    expect(seen.size, 'the front page and the board mark their multipliers').toBeGreaterThan(0);
    expect(failures, failures.join('\n')).toEqual([]);
  }, 1_800_000);
});
