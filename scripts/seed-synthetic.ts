/**
 * Seed synthetic run records, for developing the site and benchmarking the store.
 *
 *   npx tsx scripts/seed-synthetic.ts --count 10000            # → .middlepath/synthetic.sqlite
 *   npx tsx scripts/seed-synthetic.ts --sqlite /tmp/s.sqlite --count 500
 *   npx tsx scripts/seed-synthetic.ts --url postgres://…/db --count 500
 *   npx tsx scripts/seed-synthetic.ts --out .middlepath/synthetic-files --count 50   # record files
 *
 * Kept apart from real results: the default target is its own SQLite file (point the site
 * at it with MIDDLEPATH_SQLITE=.middlepath/synthetic.sqlite), DATABASE_URL is never read
 * implicitly, nothing is written under results/, and every record says harnessVersion
 * 'synthetic'.
 */
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeRecord } from '../harness/results/files.ts';
import { DEFAULT_SQLITE_PATH, openStore } from '../harness/store/index.ts';
import { syntheticRecord } from '../test/support/synthetic.ts';

export const DEFAULT_SYNTHETIC_SQLITE = '.middlepath/synthetic.sqlite';

function refuseReal(path: string): void {
  const abs = resolve(path);
  const results = resolve('results');
  if (abs === results || abs.startsWith(results + sep)) {
    throw new Error(`refusing to write synthetic records under ${results}: that folder holds only real runs`);
  }
  if (abs === resolve(DEFAULT_SQLITE_PATH)) {
    throw new Error(`refusing to seed the default store ${abs}: it indexes real runs; use --sqlite elsewhere`);
  }
}

export function seedSyntheticFiles(outDir: string, count: number, seed = 1): number {
  refuseReal(outDir);
  for (let i = 0; i < count; i++) writeRecord(outDir, syntheticRecord(i, seed));
  return count;
}

export async function seedSyntheticStore(target: { url?: string; sqlitePath?: string }, count: number, seed = 1) {
  if (target.sqlitePath) refuseReal(target.sqlitePath);
  const store = await openStore(target.url ? { url: target.url } : { sqlitePath: target.sqlitePath ?? DEFAULT_SYNTHETIC_SQLITE });
  const tally = { inserted: 0, replaced: 0, unchanged: 0 };
  try {
    for (let i = 0; i < count; i++) tally[await store.ingest(syntheticRecord(i, seed))]++;
  } finally {
    await store.close();
  }
  return tally;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      sqlite: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--count must be a whole number, got ${values.count}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  if (values.out !== undefined) {
    seedSyntheticFiles(values.out, count, seed);
    console.log(`wrote ${count} synthetic records to ${resolve(values.out, 'runs')}`);
    return;
  }
  const sqlitePath = values.url ? undefined : resolve(values.sqlite ?? DEFAULT_SYNTHETIC_SQLITE);
  const t0 = performance.now();
  const tally = await seedSyntheticStore({ url: values.url, sqlitePath }, count, seed);
  const where = values.url ? 'the Postgres store' : sqlitePath;
  console.log(
    `${count} synthetic records → ${where}: ${tally.inserted} inserted, ${tally.replaced} replaced, ${tally.unchanged} unchanged (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  if (sqlitePath) console.log(`view them with MIDDLEPATH_SQLITE=${sqlitePath}`);
}

// Run as a script (directly, through tsx, or through bin/run-ts.js), not when imported.
const self = fileURLToPath(import.meta.url);
if (process.argv.slice(1, 3).some((a) => resolve(a) === self)) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
