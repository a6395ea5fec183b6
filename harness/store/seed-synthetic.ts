/**
 * Seed synthetic run records, for the site and the store benchmark.
 *
 *   npx tsx harness/store/seed-synthetic.ts --out .middlepath/synthetic --count 500
 *
 * Synthetic records say harnessVersion 'synthetic'; this script refuses to write them
 * under results/, which holds only real runs.
 */
import { resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { writeRecord } from '../results/files.ts';
import { syntheticRecords } from './synthetic.ts';

const RESULTS_DIR = resolve('results');

function refuseResults(dir: string): void {
  const abs = resolve(dir);
  if (abs === RESULTS_DIR || abs.startsWith(RESULTS_DIR + sep)) {
    throw new Error(`refusing to write synthetic records under ${RESULTS_DIR}: that folder holds only real runs`);
  }
}

export function seedSyntheticFiles(outDir: string, count: number, seed = 1): number {
  refuseResults(outDir);
  const records = syntheticRecords({ count, seed });
  for (const r of records) writeRecord(outDir, r);
  return records.length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: '.middlepath/synthetic' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--count must be a whole number, got ${values.count}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const n = seedSyntheticFiles(values.out, count, seed);
  console.log(`wrote ${n} synthetic records to ${resolve(values.out, 'runs')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
