/**
 * The leaderboard in a real browser: Debian's chromium driven by playwright-core against
 * `next start` over a temp SQLite store (test/fixture.ts fills it; one line there switches
 * from synthetic records to a real suite run). Builds the site first if the build is stale.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { uncountedCompute } from '../harness/measure/uncounted.ts';
import { sealRecord } from '../harness/results/files.ts';
import type { RunRecord } from '../harness/results/record.ts';
import { leaderboardCsv } from '../harness/store/export.ts';
import { openStore } from '../harness/store/index.ts';
import type { Facets, LeaderboardRow, Store } from '../harness/store/types.ts';
import { boardFor, tableSeconds } from './lib/board.ts';
import { qualityFormat } from './lib/curves.ts';
import { flopCount, intervalParts, joules } from './lib/format.ts';
import { resolveView, tasksIn, type View } from './lib/view.ts';
import { ensureBuilt, type SiteServer, serveSite } from './serve.ts';
import { CHROMIUM, launchChromium } from './test/browser.ts';
import { fillStore, freePort, PAYLOAD_DESCRIPTION, PAYLOAD_NAME, payloadRecords, suiteRecords, tempSqlitePath } from './test/fixture.ts';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

let site: SiteServer;
let missingSite: SiteServer;
let emptySite: SiteServer;
let browser: Browser;
let store: Store;
let facets: Facets;
let home: View;
let sqlitePath: string;
let baseRecords: RunRecord[];
const consoleErrors: string[] = [];
const dialogs: string[] = [];

/** A page whose console errors, uncaught exceptions and dialogs are collected. */
async function open(path: string, base = site.url): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${path}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${path}: uncaught ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`${path}: ${r.status()} from ${r.url()}`);
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const res = await page.goto(base + path);
  expect(res?.status(), `GET ${path}`).toBe(200);
  return page;
}

type CellMap = Record<string, Record<string, { value: string; mean: string; text: string }>>;

/** Every table cell by architecture and column: its data-value, its mean's text, its whole text. */
function tableCells(page: Page): Promise<CellMap> {
  return page.$$eval('table.board tbody tr', (trs) => {
    const out: Record<string, Record<string, { value: string; mean: string; text: string }>> = {};
    for (const tr of trs) {
      const arch = (tr as HTMLElement).dataset.arch ?? '';
      out[arch] = {};
      for (const td of Array.from(tr.querySelectorAll('td'))) {
        const col = td.dataset.col ?? '';
        const row = out[arch] as Record<string, { value: string; mean: string; text: string }>;
        row[col] = {
          value: td.dataset.value ?? '',
          mean: td.querySelector('.mean')?.textContent ?? td.textContent ?? '',
          text: td.textContent ?? '',
        };
      }
    }
    return out;
  });
}

function expectRowsMatch(cells: CellMap, rows: readonly LeaderboardRow[], task: string): void {
  expect(Object.keys(cells).sort()).toEqual(rows.map((r) => r.architecture).sort());
  for (const r of rows) {
    const c = cells[r.architecture];
    expect(c, r.architecture).toBeDefined();
    if (!c) continue;
    const check = (col: string, value: number | null | undefined, text?: string) => {
      expect(c[col]?.value, `${r.architecture} ${col}`).toBe(value == null ? '' : String(value));
      if (text !== undefined) expect(c[col]?.mean, `${r.architecture} ${col} text`).toBe(text);
    };
    if (task !== 'all')
      check('quality', r.quality?.mean, r.quality ? intervalParts(r.quality, qualityFormat(facets.metrics[task])).mean : undefined);
    // compute × is the cost-to-target table's multiplier (board.e2e checks those figures; layout.e2e that each reads the same everywhere)
    check('executedFlops', r.executedFlops.mean, flopCount(r.executedFlops.mean));
    check('modelFlops', r.modelFlops.mean, flopCount(r.modelFlops.mean));
    check('wallSeconds', r.wallSeconds.mean, tableSeconds(rows)(r.wallSeconds.mean));
    check('energyJoules', r.energyJoules?.mean, r.energyJoules ? joules(r.energyJoules.mean) : undefined);
    if (!r.energyJoules) expect(c.energyJoules?.text).toBe('not measured');
    check('paramsTotal', r.paramsTotal);
    check('seeds', r.seeds);
    check('nmi', r.legibility.nmi);
    check('updateDensity', r.legibility.updateDensity);
    // intervals are shown, not just means
    if (r.executedFlops.n > 1 && r.executedFlops.lo !== r.executedFlops.hi) {
      expect(c.executedFlops?.text).toContain(intervalParts(r.executedFlops, flopCount).ci ?? '');
    }
  }
}

const filterOf = (v: View) => ({ task: v.task, tier: v.tier, hardwareClass: v.hw });
const svgOf = (page: Page) => page.$eval('figure.board-chart svg', (s) => s.outerHTML);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium)`);
  await ensureBuilt();
  const base = await suiteRecords();
  const dense = base.find((r) => r.architecture.family === 'dense' && r.status === 'completed')?.architecture.name;
  if (!dense) throw new Error('the fixture has no completed dense run');
  baseRecords = base;
  sqlitePath = await fillStore([...base, ...payloadRecords(base, dense)]);
  const emptyPath = await fillStore([]);
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  [site, missingSite, emptySite] = await Promise.all([
    serveSite({ port: p1, sqlitePath }),
    serveSite({ port: p2, sqlitePath: tempSqlitePath('middlepath-missing-') }),
    serveSite({ port: p3, sqlitePath: emptyPath }),
  ]);
  store = await openStore({ sqlitePath, readonly: true });
  facets = await store.facets();
  const v = resolveView(facets, {});
  if (!v) throw new Error('the fixture store is empty');
  home = v.view;
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.close(), missingSite?.close(), emptySite?.close()]);
  await store?.close();
});

describe('the leaderboard', () => {
  test('shows every architecture in the store, on the chart and in the table', async () => {
    const page = await open('/');
    const rows = await store.leaderboard(filterOf(home));
    const names = (await store.architectures()).map((a) => a.name).sort();
    const shown = await page.$$eval('table.board tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.arch ?? ''));
    expect(shown.sort()).toEqual(names);
    expect(rows.map((r) => r.architecture).sort()).toEqual(names);
    // the chart at the budget plots one task's quality (the old multiplier over all tasks is retired): it is on a task's view
    expect(await page.$('figure.board-chart')).toBeNull();
    const task = tasksIn(facets, home.tier, home.hw)[0] ?? '';
    await page.goto(`${site.url}/?${new URLSearchParams({ task, tier: home.tier, hw: home.hw })}`);
    const taskRows = await store.leaderboard({ ...filterOf(home), task });
    const dots = await page.$$eval('figure.board-chart .arch-dot circle', (cs) => cs.map((c) => c.getAttribute('aria-label') ?? ''));
    const board = boardFor(taskRows, task, home.cost, 'quality', facets.metrics[task]);
    expect(dots.sort()).toEqual(board.points.map((p) => p.name).sort());
    // hover text: each dot carries its figures in an SVG <title>
    const titles = await page.$$eval('figure.board-chart .arch-dot circle title', (ts) => ts.map((t) => t.textContent ?? ''));
    expect(titles.length).toBe(board.points.length);
    for (const p of board.points) expect(titles.some((t) => t.startsWith(`${p.name} (`) && t.includes('seeds:'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'leaderboard.png'), fullPage: true });
    await page.close();
  });

  test('figures on the page equal the store’s leaderboard(), for all tasks and for one task', async () => {
    const page = await open('/');
    expectRowsMatch(await tableCells(page), await store.leaderboard(filterOf(home)), home.task);
    const task = tasksIn(facets, home.tier, home.hw)[0];
    expect(task).toBeDefined();
    const q = new URLSearchParams({ task: task ?? '', tier: home.tier, hw: home.hw });
    await page.goto(`${site.url}/?${q}`);
    expectRowsMatch(await tableCells(page), await store.leaderboard({ ...filterOf(home), task: task ?? '' }), task ?? '');
    await page.close();
  });

  test('switching task and axis changes the plot and the table', async () => {
    const [first, task = ''] = tasksIn(facets, home.tier, home.hw);
    const page = await open(`/?${new URLSearchParams({ task: first ?? '', tier: home.tier, hw: home.hw })}`);
    const svg0 = await svgOf(page);
    await page.goto(`${site.url}/`);
    const head0 = await page.$$eval('table.board th', (ths) => ths.map((t) => t.textContent).join('|'));
    await page.click(`[data-group="task"] [data-choice=${JSON.stringify(task)}]`);
    await page.waitForFunction((t) => document.querySelector<HTMLElement>('table.board')?.dataset.task === t, task);
    expect(page.url()).toContain(`task=${encodeURIComponent(task)}`);
    const svg1 = await svgOf(page);
    const head1 = await page.$$eval('table.board th', (ths) => ths.map((t) => t.textContent).join('|'));
    expect(svg1).not.toBe(svg0);
    expect(head1).not.toBe(head0); // the task's metric column appears
    expect(await page.$('th[data-sort="quality"]')).not.toBeNull();
    expectRowsMatch(await tableCells(page), await store.leaderboard({ ...filterOf(home), task }), task);

    await page.click('[data-group="cost"] [data-choice="wallSeconds"]');
    await page.waitForSelector('figure.board-chart[data-cost="wallSeconds"]');
    const svg2 = await svgOf(page);
    expect(svg2).not.toBe(svg1);
    expect(svg2).toContain('training time');

    // there is one multiplier (the cost-to-target one): no capability-axis choice offers the old one
    expect(await page.$('[data-group="cap"]')).toBeNull();
    await page.close();
  });

  test('a column header sorts the table in place', async () => {
    const page = await open('/');
    await page.click('th[data-sort="wallSeconds"] a');
    await page.waitForSelector('th[data-sort="wallSeconds"][aria-sort="ascending"]');
    const values = await page.$$eval('table.board tbody td[data-col="wallSeconds"]', (tds) =>
      tds.map((t) => Number((t as HTMLElement).dataset.value)),
    );
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(page.url()).toContain('sort=wallSeconds');
    await page.close();
  });

  test('the downloads are the table the store returns', async () => {
    const page = await open('/');
    const href = await page.$eval('.downloads a', (a) => a.getAttribute('href') ?? '');
    expect(href).toMatch(/leaderboard\.csv$/);
    const csv = await (await fetch(site.url + href)).text();
    expect(csv).toBe(leaderboardCsv(await store.leaderboard(filterOf(home))));
    const json = (await (await fetch(site.url + href.replace(/csv$/, 'json'))).json()) as { rows: LeaderboardRow[] };
    expect(json.rows.map((r) => r.architecture)).toEqual((await store.leaderboard(filterOf(home))).map((r) => r.architecture));
    await page.close();
  });

  test('works without JavaScript: server-rendered chart, table and choices', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const task = tasksIn(facets, home.tier, home.hw)[0] ?? '';
    await page.goto(`${site.url}/?${new URLSearchParams({ task, tier: home.tier, hw: home.hw })}`);
    expect(await page.$$('figure.board-chart svg .arch-dot circle')).not.toHaveLength(0);
    await page.goto(`${site.url}/`);
    await Promise.all([page.waitForURL(/task=/), page.click(`[data-group="task"] [data-choice=${JSON.stringify(task)}]`)]);
    expect(await page.$eval('table.board', (t) => (t as HTMLElement).dataset.task)).toBe(task);
    await ctx.close();
  });
});

describe('run and architecture pages', () => {
  test('a run page draws one curve point per evaluation point of its record, and serves the record', async () => {
    const runs = await store.runs();
    // a routed run on a task with labels: it has routing figures and an ablation matrix
    const summary = runs.find((r) => r.status === 'completed' && r.family === 'moe' && r.task === 'parity');
    expect(summary).toBeDefined();
    const record = (await store.run(summary?.id ?? '')) as RunRecord;
    const page = await open(`/runs/${encodeURIComponent(record.id)}`);
    expect(await page.$$('svg .curve-flops circle')).toHaveLength(record.curve.length);
    expect(await page.$$('svg .curve-seconds circle')).toHaveLength(record.curve.length);
    const [layer] = record.final?.legibility.routing ?? [];
    expect(await page.$$('.routing svg .routing-cell rect')).toHaveLength((layer?.experts ?? 0) * (layer?.counts.length ?? 0));
    const ablation = record.final?.legibility.ablation;
    expect(ablation?.matrix.length).toBeGreaterThan(1);
    expect(await page.$$('.ablation svg .ablation-cell rect')).toHaveLength(
      (ablation?.matrix.length ?? 0) * (ablation?.matrix[0]?.length ?? 0),
    );
    // the protocol the run was read under, or that it predates one
    expect(await page.getAttribute('[data-protocol]', 'data-protocol')).toBe(record.protocol?.hash ?? 'none');
    const res = await fetch(`${site.url}/runs/${encodeURIComponent(record.id)}/record.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(record)));
    await page.close();
  });

  test('HTML and script in an architecture name and description are shown as text', async () => {
    const page = await open('/');
    const link = page.locator('table.board tbody tr td[data-col="architecture"] a').filter({ hasText: PAYLOAD_NAME });
    expect(await link.count()).toBe(1);
    expect(await link.textContent()).toBe(PAYLOAD_NAME);
    expect(await page.$('img[src="x"]')).toBeNull();
    await Promise.all([page.waitForURL(/\/archs\//), link.click()]);
    await page.waitForSelector('#arch-name');
    expect(await page.textContent('#arch-name')).toBe(PAYLOAD_NAME);
    expect(await page.textContent('#arch-description')).toBe(PAYLOAD_DESCRIPTION);
    expect(await page.$('img[src="x"]')).toBeNull();
    expect(await page.$('#arch-description b')).toBeNull();
    expect(await page.title()).not.toBe('pwned');
    expect(dialogs).toEqual([]);
    await page.close();
  });

  test('an unknown run id is a 404 page', async () => {
    const res = await fetch(`${site.url}/runs/no.such.run`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Not found');
    const page = await browser.newPage(); // its 404 is expected: not in the console check
    const nav = await page.goto(`${site.url}/runs/no.such.run`);
    expect(nav?.status()).toBe(404);
    expect(await page.$('#not-found')).not.toBeNull();
    await page.close();
  });

  test('a path with a NUL byte, a control character or a malformed escape is a 400, not a 500', async () => {
    for (const path of ['/runs/a%00b', '/archs/%01', '/runs/%E0%A4%A']) {
      const res = await fetch(`${site.url}${path}`);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test('compare and methods pages render', async () => {
    const [a, b] = (await store.architectures()).map((x) => x.name);
    const page = await open(`/compare?${new URLSearchParams({ a: a ?? '', b: b ?? '' })}`);
    expect(await page.$$('table.compare')).not.toHaveLength(0);
    await page.goto(`${site.url}/methods`);
    expect(await page.textContent('h1')).toBe('Methods');
    // targets, margins and test-set errors come from the task constants
    expect(await page.textContent('#target-table')).toMatch(/mnist.*≥ [\d.]+%.*± 0\.50 pp.*2,000 digits/s);
    await page.close();
  });
});

describe('an empty store', () => {
  test('a store file that does not exist yet shows the help page', async () => {
    const page = await open('/', missingSite.url);
    expect(await page.textContent('#empty-store')).toContain('npx middlepath run');
    await page.close();
  });

  test('a store with no runs shows the help page', async () => {
    const page = await open('/', emptySite.url);
    const text = await page.textContent('#empty-store');
    expect(text).toContain('No runs yet');
    expect(text).toContain('npx middlepath run');
    await page.close();
  });
});

describe('provenance', () => {
  test('local runs are marked as such, published ones are not, and the board can show the published suite alone', async () => {
    // the fixture's dense runs become the published baselines; everything else stays local
    const dense = baseRecords.find((x) => x.architecture.name === 'dense' && x.status === 'completed');
    if (!dense) throw new Error('no dense run in the fixture');
    const writable = await openStore({ sqlitePath });
    try {
      for (const r of baseRecords.filter((x) => x.architecture.name === 'dense')) await writable.ingest(r, { provenance: 'baseline' });
    } finally {
      await writable.close();
    }
    const q = new URLSearchParams({ task: dense.task.id, tier: dense.task.tier, hw: dense.hardwareClass });
    const page = await open(`/?${q}`);
    const marks = await page.$$eval('table.board tbody tr', (trs) =>
      trs.map((tr) => [
        (tr as HTMLElement).dataset.arch ?? '',
        Array.from(tr.querySelectorAll('[data-provenance]')).map((m) => (m as HTMLElement).dataset.provenance),
      ]),
    );
    for (const [arch, m] of marks) expect(m, String(arch)).toEqual(arch === dense.architecture.name ? [] : ['local']);
    await Promise.all([page.waitForURL(/prov=published/), page.click('[data-group="prov"] [data-choice="published"]')]);
    const shown = await page.$$eval('table.board tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.arch));
    expect(shown).toEqual([dense.architecture.name]);
    await page.goto(`${site.url}/runs/${encodeURIComponent(dense.id)}`);
    expect(await page.textContent('#run-provenance')).toContain('a harness baseline in the published suite');
    expect(await page.$('#run-compute-check'), 'a baseline is not checked against itself').toBeNull();
    // a local run of a submitted module in the same slice is timed against those baselines
    // (harness/measure/uncounted.ts); the fixture's runs are all baselines' modules, so one
    // of them is re-sealed as a module from elsewhere
    const twin = baseRecords.find(
      (x) =>
        x.architecture.name !== 'dense' &&
        x.status === 'completed' &&
        x.task.id === dense.task.id &&
        x.task.tier === dense.task.tier &&
        x.hardwareClass === dense.hardwareClass,
    );
    if (!twin) throw new Error('no other run beside the dense baseline in the fixture');
    const rename = (s: string) => s.replace(`.${twin.architecture.name}.`, '.local-twin.');
    const { contentHash: _, ...unsealed } = twin;
    const local = sealRecord({
      ...unsealed,
      id: rename(twin.id),
      key: rename(twin.key),
      architecture: { ...twin.architecture, name: 'local-twin', origin: 'submissions/local-twin.ts' },
    });
    const again = await openStore({ sqlitePath });
    try {
      await again.ingest(local);
    } finally {
      await again.close();
    }
    const like = baseRecords.filter(
      (x) =>
        x.architecture.name === 'dense' &&
        x.status === 'completed' &&
        x.task.id === local.task.id &&
        x.task.tier === local.task.tier &&
        x.hardwareClass === local.hardwareClass,
    );
    const expected = uncountedCompute(local, like)?.kind ?? 'within';
    await page.goto(`${site.url}/runs/${encodeURIComponent(local.id)}`);
    expect(await page.getAttribute('#run-compute-check', 'data-check')).toBe(expected);
    expect(await page.textContent('#run-compute-check')).toMatch(
      expected === 'within' ? new RegExp(`of the ${like.length} baseline run\\(s\\)`) : /⚑/,
    );
    await page.close();
  });
});

describe('security headers', () => {
  test('every kind of response carries the CSP, nosniff and no-framing headers, with a fresh nonce per page', async () => {
    const run = (await store.runs({}))[0];
    const paths = ['/', '/methods', '/compare', '/submissions', '/api/submissions', '/runs/no.such.run'];
    if (run) paths.push(`/runs/${run.id}`, `/runs/${run.id}/record.json`);
    const nonces = new Set<string>();
    for (const path of paths) {
      const res = await fetch(site.url + path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, path).toBeTruthy();
      nonces.add(nonce ?? '');
    }
    expect(nonces.size).toBe(paths.length);
  });

  test('the browser enforces it: the page hydrates, and an injected inline script does not run', async () => {
    // not open(): the refusal below is a console error on purpose
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`uncaught ${e.message}`));
    await page.goto(`${site.url}/`);
    await page.waitForLoadState('networkidle');
    expect(errors).toEqual([]); // Next's own scripts carry the nonce and ran
    const scripts = await page.$$eval('script:not([src])', (ss) => ss.map((s) => (s as HTMLScriptElement).nonce));
    expect(scripts.length).toBeGreaterThan(0);
    for (const n of scripts) expect(n).not.toBe('');
    // as an XSS payload in the markup would: an inline handler, which no nonce can cover
    await page.evaluate(() => {
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:," onerror="window.__injected = true">';
      document.body.appendChild(div);
    });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected ?? false)).toBe(false);
    expect(errors.some((e) => e.includes('Content Security Policy'))).toBe(true);
    await page.close();
  });
});

test('no console errors on any page visited', () => {
  expect(consoleErrors).toEqual([]);
  expect(dialogs).toEqual([]);
});
