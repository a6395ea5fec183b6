/**
 * The sweep plans committed under results/sweeps/ and the sweep records beside them
 * (results/sweeps/runs/): read from the files, since sweep cells are never indexed in the
 * store the leaderboard reads (harness/sweeps/where.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readValidRecords } from '../../harness/results/files.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { parseSweepPlan, type SweepPlan } from '../../harness/sweeps/plan.ts';
import { SWEEP_RECORDS } from '../../harness/sweeps/where.ts';
import { repoRoot } from './store.ts';

/** Every valid plan file, by name; a file that does not parse is listed with why. */
export function sweepPlans(): { plans: SweepPlan[]; errors: Array<{ file: string; message: string }> } {
  const dir = join(/* turbopackIgnore: true */ repoRoot(), SWEEP_RECORDS);
  const plans: SweepPlan[] = [];
  const errors: Array<{ file: string; message: string }> = [];
  if (!existsSync(/* turbopackIgnore: true */ dir)) return { plans, errors };
  for (const file of readdirSync(/* turbopackIgnore: true */ dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      plans.push(parseSweepPlan(JSON.parse(readFileSync(/* turbopackIgnore: true */ join(dir, file), 'utf8')), file));
    } catch (e) {
      errors.push({ file, message: (e as Error).message });
    }
  }
  return { plans, errors };
}

/** Every sweep record on disk (plans pick their cells out of them). */
export function sweepRecords(): RunRecord[] {
  const dir = join(/* turbopackIgnore: true */ repoRoot(), SWEEP_RECORDS);
  return readValidRecords(dir);
}
