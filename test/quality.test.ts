/**
 * The quality bars of the dense baseline at the `cpu` tier, by real training (one seed,
 * the tier's full budget): a few minutes on a 2-core machine. If a bar fails, either the
 * harness regressed or the tier's budget no longer buys what it promised.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/results/record.ts';
import { runSuite } from '../harness/suite.ts';
import { noSuperpositionLoss } from '../harness/tasks/superposition.info.ts';

describe('dense baseline at the cpu tier', () => {
  const byTask = new Map<string, RunRecord>();
  beforeAll(async () => {
    const { records } = await runSuite({
      tier: 'cpu',
      backend: 'wasm',
      archs: ['dense'],
      seeds: 1,
      outDir: mkdtempSync(join(tmpdir(), 'mp-quality-')),
    });
    for (const r of records) byTask.set(r.task.id, r);
    for (const r of records)
      console.log(`${r.task.id}: ${r.status} ${r.final?.quality} in ${r.training.wallSeconds.toFixed(0)} s (${r.training.steps} steps)`);
  }, 1_500_000);

  const final = (task: string) => {
    const r = byTask.get(task);
    expect(r?.status, `${task}: ${r?.failure?.message}`).toBe('completed');
    if (!r?.final) throw new Error(`${task} has no final results`);
    return r.final;
  };

  it('superposition: below the best loss without superposition', () => {
    expect(final('superposition').quality).toBeLessThan(noSuperpositionLoss());
  });
  it('parity: ≥ 90% on each of the four most frequent subtasks', () => {
    const sub = final('parity').subQualities;
    for (let t = 0; t < 4; t++) expect(sub[`subtask ${t}`], `subtask ${t}`).toBeGreaterThanOrEqual(0.9);
  });
  it('mnist: ≥ 95% held-out accuracy', () => {
    expect(final('mnist').quality).toBeGreaterThanOrEqual(0.95);
  });
  it('charlm: ≤ 3.0 bits per character', () => {
    expect(final('charlm').quality).toBeLessThanOrEqual(3.0);
  });
});
