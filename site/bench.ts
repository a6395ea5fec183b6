/**
 * Site benchmark: 10,000 synthetic runs in a temp SQLite store, `next start` over it, and
 * the leaderboard page fetched repeatedly. Prints the server render time (request to last
 * byte on localhost, median of the repeats after the first) and the HTML size, for the
 * default view ('all tasks'), one task and the cpu tier (targets: cost-to-target tables and
 * the profile), with the number of curves drawn; exits 1 past 300 ms or 500 KB, or when no
 * curve is drawn.
 *
 *   npx tsx site/bench.ts [--count 10000] [--repeat 15]
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../harness/store/index.ts';
import { syntheticRecord } from '../test/support/synthetic.ts';
import { resolveView, tasksIn } from './lib/view.ts';
import { serveSite } from './serve.ts';
import { freePort, tempSqlitePath } from './test/fixture.ts';

const LIMIT_MS = 300;
const LIMIT_BYTES = 500 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function fetchTimed(url: string): Promise<{ ms: number; bytes: number; status: number; html: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.arrayBuffer(); // the last byte: the page is rendered and sent
  return { ms: performance.now() - t0, bytes: body.byteLength, status: res.status, html: new TextDecoder().decode(body) };
}

/** The curves the page draws: charts and lines (each chart states its line count), and cost-to-target tables. */
function drawn(html: string): { charts: number; lines: number; tables: number } {
  const counts = [...html.matchAll(/class="curves-chart"[^>]*data-curves="(\d+)"/g)].map((m) => Number(m[1]));
  return { charts: counts.length, lines: counts.reduce((a, b) => a + b, 0), tables: (html.match(/<table class="ctt"/g) ?? []).length };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '10000' }, repeat: { type: 'string', default: '15' } } });
  const count = Number(values.count);
  const repeat = Number(values.repeat);
  const path = tempSqlitePath('middlepath-site-bench-');
  try {
    let t = performance.now();
    const store = await openStore({ sqlitePath: path });
    for (let i = 0; i < count; i++) await store.ingest(syntheticRecord(i, 1));
    const facets = await store.facets();
    await store.close();
    console.log(`seeded ${count} synthetic runs in ${((performance.now() - t) / 1000).toFixed(1)} s (${path})`);

    const home = resolveView(facets, {});
    if (!home) throw new Error('the seeded store is empty');
    const task = tasksIn(facets, home.view.tier, home.view.hw)[0] ?? 'all';
    const pages = [
      { name: `/ (default: all tasks, ${home.view.tier}, ${home.view.hw})`, path: '/' },
      { name: `/?task=${task}`, path: `/?${new URLSearchParams({ task, tier: home.view.tier, hw: home.view.hw })}` },
    ];
    // a tier with targets: cost-to-target tables and the performance profile are drawn too
    const cpu = resolveView(facets, { tier: 'cpu' });
    if (cpu && cpu.view.tier === 'cpu' && home.view.tier !== 'cpu') {
      pages.push({ name: `/?tier=cpu (all tasks, ${cpu.view.hw})`, path: `/?${new URLSearchParams({ tier: 'cpu', hw: cpu.view.hw })}` });
    }

    t = performance.now();
    const site = await serveSite({ port: await freePort(), sqlitePath: path });
    console.log(`site up at ${site.url} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    let failed = false;
    try {
      for (const p of pages) {
        const first = await fetchTimed(site.url + p.path); // cold: the store aggregates, the server warms up
        if (first.status !== 200) throw new Error(`${p.path} answered ${first.status}`);
        const times: number[] = [];
        let bytes = first.bytes;
        for (let i = 0; i < repeat; i++) {
          const r = await fetchTimed(site.url + p.path);
          times.push(r.ms);
          bytes = r.bytes;
        }
        const med = median(times);
        const d = drawn(first.html);
        const ok = med <= LIMIT_MS && bytes <= LIMIT_BYTES && d.lines > 0;
        failed ||= !ok;
        console.log(
          `${p.name}: render median ${med.toFixed(1)} ms (max ${Math.max(...times).toFixed(1)}, first ${first.ms.toFixed(1)}) over ${repeat} requests; HTML ${(bytes / 1024).toFixed(1)} KB; ${d.lines} curves in ${d.charts} charts, ${d.tables} cost-to-target tables — ${ok ? 'within' : 'OVER'} ${LIMIT_MS} ms / ${LIMIT_BYTES / 1024} KB${d.lines > 0 ? '' : ' (NO CURVES DRAWN)'}`,
        );
      }
    } finally {
      await site.close();
    }
    return failed ? 1 : 0;
  } finally {
    rmSync(dirname(path), { recursive: true, force: true });
  }
}

process.exitCode = await main();
