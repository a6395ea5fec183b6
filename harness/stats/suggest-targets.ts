/**
 * Print the quality target each task and tier's dense runs suggest, beside the constant in
 * force (targets.ts says how). Re-set the constants in harness/tasks/*.info.ts by hand from
 * this, once dense's learning rate is tuned: a target is fixed, not re-read at every run.
 *
 *   npm run targets                      # from results/runs
 *   npm run targets -- path/to/records
 */
import { readRecordDir } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { suggestTargets } from './targets.ts';

const dir = process.argv[2] ?? 'results';
const records = readRecordDir(dir).flatMap((p): RunRecord[] => ('record' in p ? [p.record] : []));
for (const line of suggestTargets(records)) console.log(line);
