/**
 * The redesigned front page and /findings in Chromium, against `next start` over a store of
 * the committed cpu-suite records (results/runs): real curves, real targets. The figures on
 * the page are checked against lib/curves.ts and the findings code run here on the same
 * records; the charts are checked on their rendered SVG (how many lines, how far apart),
 * so an empty chart or points stacked on one x fail, and screenshots are kept in artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readValidRecords } from '../harness/results/files.ts';
import type { RunRecord } from '../harness/results/record.ts';
import { openStore } from '../harness/store/index.ts';
import type { LeaderboardRow, Store } from '../harness/store/types.ts';
import { boardFor } from './lib/board.ts';
import { significance } from './lib/compare.ts';
import { CURVE_AXIS, performanceProfile, targetTable } from './lib/curves.ts';
import { findingsFromStore } from './lib/findings.ts';
import { multiplier } from './lib/format.ts';
import { rungRecords } from './lib/ladder.ts';
import { resolveView, runHref, tasksIn, type View } from './lib/view.ts';
import { ensureBuilt, type SiteServer, serveSite } from './serve.ts';
import { launchChromium } from './test/browser.ts';
import { fillStore, freePort } from './test/fixture.ts';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const RESULTS = join(import.meta.dirname, '..', 'results');

let site: SiteServer;
let browser: Browser;
let store: Store;
let home: View;
let records: RunRecord[];
let tasks: string[];
const consoleErrors: string[] = [];

async function open(path: string, width = 1366): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${path}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${path}: uncaught ${e.message}`));
  const res = await page.goto(site.url + path);
  expect(res?.status(), `GET ${path}`).toBe(200);
  return page;
}

/** Each curve chart's lines as pixel points, by task, from the SVG path data. */
function curveLines(page: Page): Promise<{ task: string; declared: number; lines: [number, number][][] }[]> {
  return page.$$eval('figure.curves-chart', (figs) =>
    figs.map((f) => ({
      task: (f as HTMLElement).dataset.task ?? '',
      declared: Number((f as HTMLElement).dataset.curves),
      lines: Array.from(f.querySelectorAll('g.arch-curve path')).map((p) => {
        const nums = (p.getAttribute('d') ?? '').match(/-?\d+(\.\d+)?/g)?.map(Number) ?? [];
        const pts: [number, number][] = [];
        for (let i = 0; i + 1 < nums.length; i += 2) pts.push([nums[i] as number, nums[i + 1] as number]);
        return pts;
      }),
    })),
  );
}

/** The charts are drawn, one line per architecture, spread along x and not all on one path. */
async function expectCurvesDrawn(page: Page, minSpreadPx: number): Promise<void> {
  const charts = await curveLines(page);
  expect(charts.map((c) => c.task).sort()).toEqual([...tasks].sort());
  for (const c of charts) {
    expect(c.lines.length, `${c.task}: lines`).toBe(c.declared);
    expect(c.lines.length, `${c.task}: lines`).toBeGreaterThanOrEqual(2);
    for (const line of c.lines) {
      const xs = line.map(([x]) => Math.round(x));
      expect(new Set(xs).size, `${c.task}: distinct x on a line`).toBeGreaterThanOrEqual(3);
      expect(Math.max(...xs) - Math.min(...xs), `${c.task}: x spread of a line`).toBeGreaterThan(minSpreadPx);
    }
    // lines that are the same path would be one line drawn n times
    expect(new Set(c.lines.map((l) => JSON.stringify(l))).size, `${c.task}: distinct lines`).toBe(c.lines.length);
  }
}

beforeAll(async () => {
  await ensureBuilt();
  records = readValidRecords(RESULTS);
  if (records.length === 0) throw new Error('no records in results/runs');
  const sqlitePath = await fillStore(records);
  site = await serveSite({ port: await freePort(), sqlitePath });
  store = await openStore({ sqlitePath, readonly: true });
  const facets = await store.facets();
  const v = resolveView(facets, {});
  if (!v) throw new Error('the store is empty');
  home = v.view;
  tasks = tasksIn(facets, home.tier, home.hw);
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await store?.close();
});

const sliceRecords = async (task = 'all') => store.records({ task, tier: home.tier, hardwareClass: home.hw });
/** The compare page's section for the front page's slice. */
const homeSection = () => `section.compare-slice[data-tier="${home.tier}"][data-hw="${home.hw.replace(/"/g, '\\"')}"]`;

describe('the front page', () => {
  test('at 1366 px: a curve chart per task, every line drawn and spread; screenshot kept', async () => {
    const page = await open('/');
    await expectCurvesDrawn(page, 150);
    // the target is drawn where the task has one
    for (const task of tasks) {
      const has = await page.$(`figure.curves-chart[data-task="${task}"] g.target-rule line`);
      const t = targetTable(await sliceRecords(), task, home.tier, 'executedFlops');
      expect(has !== null, `${task} target rule`).toBe(t?.target !== null);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'front-1366.png'), fullPage: true });
    await page.close();
  });

  test('at 390 px: the same charts, no horizontal overflow, the nav inside the screen; screenshot kept', async () => {
    const page = await open('/', 390);
    await expectCurvesDrawn(page, 60);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const navRight = await page.$eval('.site-header nav', (n) =>
      Math.max(...Array.from(n.children).map((c) => c.getBoundingClientRect().right)),
    );
    expect(navRight).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'front-390.png'), fullPage: true });
    await page.close();
  });

  test('each curve label sits on a leader that starts at its own line’s end', async () => {
    const page = await open('/');
    const pairs = await page.$$eval('figure.curves-chart', (figs) =>
      figs.flatMap((f) => {
        const ends = new Map(
          Array.from(f.querySelectorAll('g.curve-end circle, g.curve-end a')).flatMap((el) => {
            const c = el.tagName === 'circle' ? el : el.querySelector('circle');
            const name = el.getAttribute('aria-label') ?? c?.getAttribute('aria-label');
            return c && name ? [[name, Number(c.getAttribute('cy'))] as const] : [];
          }),
        );
        return Array.from(f.querySelectorAll('g.label-leader path')).map((p) => {
          const nums = (p.getAttribute('d') ?? '').match(/-?\d+(\.\d+)?/g)?.map(Number) ?? [];
          const name = p.getAttribute('aria-label') ?? '';
          return { name, leaderY1: nums[1] ?? Number.NaN, endY: ends.get(name) ?? Number.NaN };
        });
      }),
    );
    expect(pairs.length).toBeGreaterThan(0);
    for (const p of pairs) expect(Math.abs(p.leaderY1 - p.endY), p.name).toBeLessThan(1);
    await page.close();
  });

  test('cost-to-target tables: rank, seeds reached and the seed-paired multiplier, as lib/curves computes them', async () => {
    const page = await open('/');
    const recs = await sliceRecords();
    for (const task of tasks) {
      const t = targetTable(recs, task, home.tier, CURVE_AXIS[home.cost]);
      if (!t) throw new Error(`no table for ${task}`);
      const rows = await page.$$eval(`table.ctt[data-task="${task}"] tbody tr`, (trs) =>
        trs.map((tr) => ({
          arch: (tr as HTMLElement).dataset.arch ?? '',
          rank: tr.querySelector('[data-col="rank"]')?.textContent ?? '',
          reached: (tr.querySelector('[data-col="reached"]') as HTMLElement | null)?.dataset.value ?? '',
          multiplier: tr.querySelector('[data-col="multiplier"] .mean')?.textContent ?? null,
          multiplierText: tr.querySelector('[data-col="multiplier"]')?.textContent ?? '',
        })),
      );
      if (t.target === null) {
        expect(rows).toEqual([]);
        continue;
      }
      expect(rows.map((r) => r.arch)).toEqual(t.rows.map((r) => r.name));
      for (const [i, r] of t.rows.entries()) {
        const shown = rows[i];
        expect(shown?.rank, `${task} ${r.name} rank`).toBe(r.rank === null ? '—' : String(r.rank));
        expect(shown?.reached).toBe(`${r.reached}/${r.n}`);
        if (r.multiplier?.kind === 'estimate') expect(shown?.multiplier).toBe(multiplier(r.multiplier.value));
        if (r.multiplier?.kind === 'bound') expect(shown?.multiplierText).toContain('bound');
      }
      // every multiplier with a figure is on the chart, below 1× like any other
      const figures = t.rows.filter((r) => r.multiplier === null || r.multiplier.kind === 'estimate' || r.multiplier.kind === 'bound');
      if (figures.length >= 2) {
        const dots = await page.$$(`section.target-table[data-task="${task}"] .multiplier-chart g.multiplier-dot circle`);
        expect(dots.length, `${task} multiplier dots`).toBe(figures.length);
      }
    }
    await page.close();
  });

  test('the performance profile covers only tasks every shown architecture completed; hiding one changes the set and the URL', async () => {
    const page = await open('/');
    const recs = await sliceRecords();
    const profile = performanceProfile(recs, home.tier, CURVE_AXIS[home.cost]);
    expect(await page.$eval('section.profile', (s) => Number((s as HTMLElement).dataset.tasks))).toBe(profile.tasks.length);
    const scores = await page.$$eval('table.profile-scores tbody tr', (trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.arch, Number((tr.querySelector('[data-col="score"]') as HTMLElement).dataset.value)]),
    );
    expect(scores).toEqual(profile.archs.map((a) => [a.name, a.score]));
    // hide the architecture that ranks last: its rows go from every table, and the URL says so
    const last = profile.archs.at(-1)?.name ?? '';
    await Promise.all([page.waitForURL(/hide=/), page.click(`[data-group="arch"] [data-choice=${JSON.stringify(last)}]`)]);
    await page.waitForFunction((n) => !document.querySelector(`table.profile-scores tr[data-arch=${JSON.stringify(n)}]`), last);
    expect(new URL(page.url()).searchParams.getAll('hide')).toEqual([last]);
    expect(await page.$$(`table.ctt tr[data-arch=${JSON.stringify(last)}]`)).toHaveLength(0);
    const after = performanceProfile(
      recs.filter((r) => r.architecture.name !== last),
      home.tier,
      CURVE_AXIS[home.cost],
    );
    expect(await page.$eval('section.profile', (s) => Number((s as HTMLElement).dataset.tasks))).toBe(after.tasks.length);
    // the view survives a reload from its URL
    await page.reload();
    expect(await page.$$(`table.ctt tr[data-arch=${JSON.stringify(last)}]`)).toHaveLength(0);
    await page.close();
  });

  test('the family filter leaves only that family in every table', async () => {
    const page = await open('/?fam=moe');
    const recs = await sliceRecords();
    const moe = new Set(recs.filter((r) => r.architecture.family === 'moe').map((r) => r.architecture.name));
    const shown = await page.$$eval('table.ctt tbody tr, table.board tbody tr', (trs) =>
      trs.map((t) => (t as HTMLElement).dataset.arch ?? ''),
    );
    expect(shown.length).toBeGreaterThan(0);
    for (const a of shown) expect(moe.has(a), a).toBe(true);
    await page.close();
  });

  test('on the cost axis chosen, the table marks the chart’s frontier, and a tie at one budget is decided by quality', async () => {
    const task = tasks.includes('parity') ? 'parity' : (tasks[0] ?? '');
    for (const cost of ['executedFlops', 'wallSeconds'] as const) {
      const page = await open(`/?${new URLSearchParams({ task, tier: home.tier, hw: home.hw, cost, cap: 'quality' })}`);
      const rows: LeaderboardRow[] = await store.leaderboard({ task, tier: home.tier, hardwareClass: home.hw });
      const board = boardFor(rows, task, cost, 'quality', rows[0] ? (await store.facets()).metrics[task] : undefined);
      const expected = board.points
        .filter((p) => p.frontier)
        .map((p) => p.name)
        .sort();
      const marked = await page.$$eval('table.board tbody tr.pareto', (trs) =>
        trs.map((t) => (t as HTMLElement).dataset.arch ?? '').sort(),
      );
      expect(marked, cost).toEqual(expected);
      if (cost === 'executedFlops') {
        // every run stops at the one budget: the frontier is the best quality, not the cheapest rounding
        const best = [...board.points].sort((a, b) => b.y.mean - a.y.mean)[0]?.name;
        expect(marked).toEqual([best]);
      }
      await page.close();
    }
  });

  test('bad query values are named on the page', async () => {
    const page = await open('/?cost=zzz&cap=qq&fam=zz');
    const note = await page.textContent('p.note');
    expect(note).toContain('unknown cost axis “zzz”');
    expect(note).toContain('unknown capability axis “qq”');
    expect(note).toContain('unknown family “zz”');
    await page.close();
  });
});

describe('a run page', () => {
  /** A completed routed run on parity, whose routing is recorded per subtask. */
  async function routedRun(): Promise<RunRecord> {
    const rec = (await sliceRecords('parity')).find(
      (r) => r.architecture.family === 'moe' && (r.final?.legibility.routing.length ?? 0) > 0,
    );
    if (!rec) throw new Error('no routed parity run in results/runs');
    return rec;
  }

  test('draws training and evaluation loss from the record’s curve, one dot per recorded value', async () => {
    const r = await routedRun();
    const page = await open(runHref(r.id));
    const train = r.curve.filter((c) => c.trainLoss !== null && Number.isFinite(c.trainLoss)).length;
    expect(train).toBeGreaterThan(0);
    expect(await page.$$('.losses svg .loss-train circle')).toHaveLength(train);
    expect(await page.$$('.losses svg .loss-eval circle')).toHaveLength(r.curve.filter((c) => Number.isFinite(c.evalLoss)).length);
    expect(await page.textContent('.site-footer')).not.toContain('mean over seeds');
    await page.close();
  });

  test('the time axis starts at 0 and is labelled in round values; accuracy is in %', async () => {
    const r = await routedRun();
    const page = await open(runHref(r.id));
    const panel = page.locator('section.panel', { has: page.locator('h2', { hasText: 'Quality against time' }) });
    const ticks = await panel.locator('g[aria-label="x-axis tick label"] text').allTextContents();
    expect(ticks[0]).toBe('0');
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks.slice(1)) expect(t).toMatch(/^\d+ (ms|s|min|h)$/);
    const units = new Set(ticks.slice(1).map((t) => t.split(' ')[1]));
    expect(units.size, ticks.join(', ')).toBeLessThanOrEqual(2); // e.g. "30 s … 2 min" at a unit change, never a fraction
    const yLabel = await panel.locator('g[aria-label="y-axis label"] text').textContent();
    expect(yLabel).toContain('(%)');
    const yTicks = (await panel.locator('g[aria-label="y-axis tick label"] text').allTextContents()).map(Number);
    expect(Math.max(...yTicks)).toBeGreaterThan(1); // percent, not a fraction
    await page.close();
  });

  test('routing heat map: labels in numeric order, the axis named for the task’s groups, a colour legend', async () => {
    const r = await routedRun();
    const page = await open(runHref(r.id));
    const routing = page.locator('section.routing').first();
    const svg = routing.locator('svg.mp-plot', { has: page.locator('.routing-cell') });
    const yTicks = await svg.locator('g[aria-label="y-axis tick label"] text').allTextContents();
    const xTicks = await svg.locator('g[aria-label="x-axis tick label"] text').allTextContents();
    const numeric = (xs: string[]) => xs.map(Number);
    expect(numeric(yTicks)).toEqual([...numeric(yTicks)].sort((a, b) => a - b));
    expect(numeric(xTicks)).toEqual([...numeric(xTicks)].sort((a, b) => a - b));
    expect(yTicks.length).toBe(r.final?.legibility.routing[0]?.counts.length);
    expect(await svg.locator('g[aria-label="y-axis label"] text').textContent()).toContain('subtask');
    expect(await routing.locator('svg.mp-plot-ramp').count()).toBeGreaterThan(0);
    await page.close();
  });
});

describe('the compare page', () => {
  const A = 'switch-top1';
  const B = 'dense';

  test('bolds a figure only where the paired test finds a significant difference; every cell says its p', async () => {
    const page = await open(`/compare?${new URLSearchParams({ a: A, b: B })}`);
    const recs = await sliceRecords();
    // one section per (tier, hardware class); the ladder's rungs are tiers of their own
    expect(await page.$$eval('section.compare-slice', (ss) => ss.map((x) => (x as HTMLElement).dataset.tier))).toContain(home.tier);
    const rows = await page.$$eval(`${homeSection()} table.compare tbody tr`, (trs) =>
      trs.map((tr) => ({
        task: (tr as HTMLElement).dataset.task ?? '',
        cells: Array.from(tr.querySelectorAll('td[data-side]')).map((td) => ({
          side: (td as HTMLElement).dataset.side ?? '',
          bold: td.classList.contains('better'),
          p: (td as HTMLElement).dataset.p ?? '',
        })),
      })),
    );
    expect(rows.map((r) => r.task).sort()).toEqual([...tasks].sort());
    for (const row of rows) {
      const ra = recs.filter((r) => r.architecture.name === A && r.task.id === row.task);
      const rb = recs.filter((r) => r.architecture.name === B && r.task.id === row.task);
      const metric = ra[0]?.task.metric;
      // the first pair of cells is quality at budget
      const v = significance(ra, rb, (r) => r.final?.quality ?? null, metric?.higherIsBetter ?? true);
      const [qa, qb] = row.cells;
      expect(qa?.p, row.task).toBe(v.p === null ? '' : String(v.p));
      expect(qa?.bold, row.task).toBe(v.side === 'a');
      expect(qb?.bold, row.task).toBe(v.side === 'b');
      for (const c of row.cells) if (c.bold) expect(Number(c.p)).toBeLessThan(0.05);
      for (const c of row.cells) if (c.p !== '' && Number(c.p) >= 0.05) expect(c.bold).toBe(false);
    }
    // the two architectures' curves, overlaid per task
    const charts = await page.$$eval(`${homeSection()} .compare-curves figure.curves-chart`, (fs) =>
      fs.map((f) => Number((f as HTMLElement).dataset.curves)),
    );
    expect(charts.length).toBe(tasks.length);
    for (const n of charts) expect(n).toBe(2);
    // nothing cut off: the params cells are inside their scrolling box, wholly visible once scrolled to
    const last = page.locator(`${homeSection()} table.compare tbody tr`).first().locator('td').last();
    await last.scrollIntoViewIfNeeded();
    const box = await last.boundingBox();
    expect(box?.width).toBeGreaterThan(30);
    expect(await last.evaluate((td) => td.scrollWidth <= td.clientWidth + 1)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'compare.png'), fullPage: true });
    await page.close();
  });

  test('takes run ids as well as names, and overlays the two runs’ curves', async () => {
    const recs = await sliceRecords('parity');
    const ra = recs.find((r) => r.architecture.name === A);
    const rb = recs.find((r) => r.architecture.name === B);
    if (!ra || !rb) throw new Error('no parity runs to compare');
    const page = await open(`/compare?${new URLSearchParams({ a: ra.id, b: rb.id })}`);
    expect(await page.textContent('.run-pair h2')).toContain(ra.id);
    const lines = await page.$$('.run-pair figure.curves-chart g.arch-curve path');
    expect(lines).toHaveLength(2);
    // and the architectures' tables below
    expect(await page.$$(`${homeSection()} table.compare tbody tr`)).toHaveLength(tasks.length);
    expect(await page.$('p.note')).toBeNull();
    await page.close();
  });
});

describe('an architecture page', () => {
  test('shows settings and a summary per task above the run list, and nothing past the right edge', async () => {
    const name = 'switch-top1';
    const page = await open(`/archs/${name}`, 1366);
    // every tier and hardware class it ran on, the ladder's rungs included: one row each per task
    const recs = records.filter((r) => r.architecture.name === name && r.status === 'completed');
    const rows = await page.$$eval('#per-task-table tbody tr', (trs) =>
      trs.map((tr) => ({
        task: (tr as HTMLElement).dataset.task ?? '',
        tier: (tr as HTMLElement).dataset.tier ?? '',
        hw: (tr as HTMLElement).dataset.hw ?? '',
        settings: tr.querySelector('[data-col="settings"]')?.textContent ?? '',
        quality: tr.querySelector('[data-col="quality"]')?.textContent ?? '',
      })),
    );
    const keys = [...new Set(recs.map((r) => `${r.task.tier}\u0000${r.hardwareClass}\u0000${r.task.id}`))];
    expect(rows.map((r) => r.task).sort()).toEqual(keys.map((k) => k.split('\u0000')[2]).sort());
    for (const row of rows) {
      // the row's own slice: tiers differ in settings (smoke's charlm is one layer deep)
      const latest = recs
        .filter((r) => r.task.id === row.task && r.task.tier === row.tier && r.hardwareClass === row.hw)
        .sort((x, y) => y.startedAt.localeCompare(x.startedAt))[0];
      expect(latest, `${row.task} · ${row.tier} · ${row.hw}`).toBeDefined();
      for (const [k, v] of Object.entries(latest?.architecture.hyperparameters ?? {}))
        expect(row.settings, row.task).toContain(`${k}=${String(v)}`);
      if (latest?.task.metric.name === 'accuracy') expect(row.quality).toMatch(/%/);
    }
    // the summary comes before the run list
    const order = await page.$$eval('#per-task-table, #runs-table', (ts) => ts.map((t) => t.id));
    expect(order).toEqual(['per-task-table', 'runs-table']);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);
    // one time unit in the run list
    const units = await page.$$eval('#runs-table td[data-col="time"]', (tds) => [
      ...new Set(tds.map((t) => (t.textContent ?? '').split(' ')[1])),
    ]);
    expect(units).toHaveLength(1);
    await page.close();
  });
});

describe('the findings page', () => {
  test('is linked from the front page and shows the findings code’s output, each seed linking to its run', async () => {
    const page = await open('/');
    await Promise.all([page.waitForURL(/\/findings$/), page.click('.lede a[href="/findings"]')]);
    const found = await findingsFromStore(store, runHref);
    const section = found.section;
    // each exploratory cpu-tier seed on its task's class is linked; the Scaling section's rung runs are not
    const linked = found.linked.filter((r) => r.status === 'completed').length;
    const html = new MarkdownIt({ html: false }).render(section);
    const [shown, expected] = await page.evaluate((h) => {
      const d = document.createElement('div');
      d.innerHTML = h;
      return [document.querySelector('.findings-body')?.textContent ?? '', d.textContent ?? ''];
    }, html);
    expect(shown.length).toBeGreaterThan(1000);
    expect(shown).toBe(expected);
    const links = await page.$$eval('.findings-body a[href^="/runs/"]', (as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(links.length).toBe(linked);
    const res = await fetch(site.url + (links[0] ?? ''));
    expect(res.status).toBe(200);
    await page.screenshot({ path: join(ARTIFACTS, 'findings.png'), fullPage: false });
    await page.close();
  });
});

describe('the scaling page', () => {
  test('draws a chart per task of the ladder, with a dot per rung run, above the Scaling tables', async () => {
    const rungs = await rungRecords(store, await store.facets());
    const tasks = [...new Set(rungs.map((r) => r.task.id))].sort();
    expect(tasks.length).toBeGreaterThan(0);
    const page = await open('/scaling');
    expect(await page.getAttribute('article.scaling', 'data-tasks')).toBe(String(tasks.length));
    const drawn = await page.$$eval('section.scaling-task', (ss) =>
      ss.map((s) => [(s as HTMLElement).dataset.task ?? '', s.querySelectorAll('svg circle').length] as const),
    );
    expect(drawn.map(([t]) => t).sort()).toEqual(tasks);
    for (const [task, dots] of drawn) {
      const completed = rungs.filter((r) => r.task.id === task && r.status === 'completed').length;
      // the rungs' runs, plus the cpu tier's at the top rung
      expect(dots, task).toBeGreaterThan(completed);
    }
    expect(await page.textContent('.findings-body')).toMatch(/loss ÷ dense-block at ⅛/);
    await page.screenshot({ path: join(ARTIFACTS, 'scaling.png'), fullPage: false });
    await page.close();
  });
});

test('no console errors on any page visited', () => {
  expect(consoleErrors).toEqual([]);
});
