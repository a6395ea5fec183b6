/**
 * Store benchmark: 10,000 synthetic runs in a temp SQLite store, then the leaderboard
 * query timed (median of 20, cold and warm) for one task and for 'all tasks' on the
 * busiest slice.
 *
 *   npx tsx harness/store/bench.ts [--count 10000] [--repeat 20]
 *
 * Page render time is the site's benchmark; this is the store's share of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticRecord } from '../../test/support/synthetic.ts';
import { openStore } from './index.ts';
import type { LeaderboardFilter, LeaderboardRow, Store } from './types.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Timing {
  median: number;
  max: number;
  rows: number;
  bytes: number;
}

function summarise(ms: number[], rows: LeaderboardRow[]): Timing {
  return { median: median(ms), max: Math.max(...ms), rows: rows.length, bytes: Buffer.byteLength(JSON.stringify(rows)) };
}

/**
 * Cold: a fresh read-only store each time, so the aggregation runs (the first request
 * after the store changed). Warm: one store asked again, answered from its cache after
 * the one indexed version check (every later request until the next ingest).
 */
async function time(path: string, filter: LeaderboardFilter, repeat: number): Promise<{ cold: Timing; warm: Timing }> {
  const cold: number[] = [];
  let rows: LeaderboardRow[] = [];
  for (let i = 0; i <= repeat; i++) {
    const store = await openStore({ sqlitePath: path, readonly: true });
    const t0 = performance.now();
    rows = await store.leaderboard(filter);
    if (i > 0) cold.push(performance.now() - t0); // the first warms the JIT
    await store.close();
  }
  const store: Store = await openStore({ sqlitePath: path, readonly: true });
  await store.leaderboard(filter);
  const warm: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    rows = await store.leaderboard(filter);
    warm.push(performance.now() - t0);
  }
  await store.close();
  return { cold: summarise(cold, rows), warm: summarise(warm, rows) };
}

const line = (label: string, t: { cold: Timing; warm: Timing }, repeat: number) =>
  `${label} cold median ${t.cold.median.toFixed(1)} ms (max ${t.cold.max.toFixed(1)}), warm median ${t.warm.median.toFixed(2)} ms, over ${repeat}; ${t.cold.rows} rows, ${(t.cold.bytes / 1024).toFixed(1)} KB as JSON`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '10000' }, repeat: { type: 'string', default: '20' } } });
  const count = Number(values.count);
  const repeat = Number(values.repeat);
  const dir = mkdtempSync(join(tmpdir(), 'middlepath-bench-'));
  try {
    const path = join(dir, 'store.sqlite');
    const store = await openStore({ sqlitePath: path });
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await store.ingest(syntheticRecord(i));
    const ingestS = (performance.now() - t0) / 1000;
    const facets = await store.facets();
    const busiest = [...facets.slices].sort((a, b) => b.runs - a.runs)[0];
    if (!busiest) throw new Error('no runs were stored');
    const filter = { task: busiest.task, tier: busiest.tier, hardwareClass: busiest.hardwareClass };
    await store.close();
    const one = await time(path, filter, repeat);
    const all = await time(path, { ...filter, task: 'all' }, repeat);
    const reader = await openStore({ sqlitePath: path, readonly: true });
    const t1 = performance.now();
    await reader.facets();
    const facetsMs = performance.now() - t1;
    await reader.close();
    console.log(`store: SQLite, ${count} synthetic runs (generated and ingested in ${ingestS.toFixed(1)} s)`);
    console.log(`slice: ${busiest.task} · ${busiest.tier} · ${busiest.hardwareClass} (${busiest.runs} runs)`);
    console.log(line('leaderboard(task): ', one, repeat));
    console.log(line("leaderboard('all'):", all, repeat));
    console.log(`facets (cold): ${facetsMs.toFixed(1)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
