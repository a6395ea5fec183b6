/**
 * The static export: built from a small store, every page and download is a file, and the
 * figures in them are the store's.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { leaderboardCsv } from '../harness/store/export.ts';
import { openStore } from '../harness/store/index.ts';
import type { Facets, Store } from '../harness/store/types.ts';
import { inlineScriptHashes } from './export-headers.ts';
import { hwSlug, resolveView } from './lib/view.ts';
import { exportSite } from './serve.ts';
import { fillStore, records } from './test/fixture.ts';

let out: string;
let store: Store;
let facets: Facets;

beforeAll(async () => {
  // a few runs of each architecture keep the export quick; the page set is what matters
  const sqlitePath = await fillStore(records().slice(0, 120));
  out = join(mkdtempSync(join(tmpdir(), 'middlepath-export-')), 'site');
  await exportSite(out, { sqlitePath });
  store = await openStore({ sqlitePath, readonly: true });
  facets = await store.facets();
}, 900_000);

afterAll(async () => {
  await store?.close();
  if (out) rmSync(join(out, '..'), { recursive: true, force: true });
});

test('the export holds the leaderboard, every run with its record, every architecture and the downloads', async () => {
  const home = resolveView(facets, {})?.view;
  if (!home) throw new Error('empty fixture');
  const index = readFileSync(join(out, 'index.html'), 'utf8');
  expect(index).toContain('curves-chart'); // the front page's curves (the chart at the budget is on each task's view)
  // choices link to prerendered views, which exist
  const board = `board/${home.task}/${home.tier}/${hwSlug(facets, home.hw)}/wallSeconds/${home.cap}.html`;
  expect(index).toContain(`/${board.replace(/\.html$/, '')}`);
  expect(existsSync(join(out, board))).toBe(true);

  const runs = await store.runs();
  for (const r of runs) {
    expect(existsSync(join(out, 'runs', `${r.id}.html`)), r.id).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, 'runs', r.id, 'record.json'), 'utf8')) as { id: string; contentHash: string };
    expect(rec.id).toBe(r.id);
  }
  for (const a of await store.architectures()) expect(existsSync(join(out, 'archs', `${a.name}.html`)), a.name).toBe(true);

  const csv = readFileSync(join(out, 'data', home.task, home.tier, hwSlug(facets, home.hw), 'leaderboard.csv'), 'utf8');
  expect(csv).toBe(leaderboardCsv(await store.leaderboard({ task: home.task, tier: home.tier, hardwareClass: home.hw })));
  expect(existsSync(join(out, 'methods.html'))).toBe(true);
  expect(existsSync(join(out, '404.html'))).toBe(true);
});

test('the export carries its security headers in _headers, with the hash of every inline script it serves', () => {
  const headers = readFileSync(join(out, '_headers'), 'utf8');
  expect(headers.startsWith('/*\n')).toBe(true);
  const csp = /Content-Security-Policy: (.*)/.exec(headers)?.[1] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(headers).toContain('X-Content-Type-Options: nosniff');
  const pages = ['index.html', 'methods.html', '404.html'];
  let scripts = 0;
  for (const page of pages) {
    for (const h of inlineScriptHashes(readFileSync(join(out, page), 'utf8'))) {
      scripts++;
      expect(csp, `${page}: sha256-${h}`).toContain(`'sha256-${h}'`);
    }
  }
  expect(scripts).toBeGreaterThan(0);
});
