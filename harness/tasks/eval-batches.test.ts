/**
 * The held-out set of every task: fixed by the data seed alone (the same batches, in the
 * same order, for every run seed and so for every architecture), cut into equal batches
 * that mix the groups, so routing that depends on the rest of a batch cannot read a label
 * off the batch's composition.
 */
import { describe, expect, it } from 'vitest';
import { TASKS } from './index.ts';
import { EVAL_PER_SUBTASK, SUBTASKS } from './parity.info.ts';

describe('held-out batches', () => {
  for (const task of TASKS) {
    it(`${task.spec.id}: the same for every run seed, equal-sized and mixed`, () => {
      const a = task.load({ runSeed: 0, dataSeed: 0 });
      const b = task.load({ runSeed: 7, dataSeed: 0 });
      try {
        expect(a.evalBatches.length).toBe(b.evalBatches.length);
        const sizes = new Set(a.evalBatches.map((batch) => batch.x.shape[0]));
        expect(sizes.size).toBe(1);
        a.evalBatches.forEach((batch, i) => {
          const other = b.evalBatches[i];
          expect(Array.from(batch.x.dataSync())).toEqual(Array.from(other?.x.dataSync() ?? []));
          expect(Array.from(batch.groups.dataSync())).toEqual(Array.from(other?.groups.dataSync() ?? []));
          // a per-example label: at least half of the groups appear in every batch
          if (batch.groups.rank === 1) {
            const distinct = new Set(batch.groups.dataSync()).size;
            expect(distinct).toBeGreaterThanOrEqual(Math.min(task.spec.groups.count, batch.groups.size) / 2);
          }
        });
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('parity: every subtask has the same number of held-out examples, spread over the batches', () => {
    const parity = TASKS.find((t) => t.spec.id === 'parity');
    const data = parity?.load({ runSeed: 0, dataSeed: 0 });
    if (!data) throw new Error('no parity task');
    try {
      const counts = new Array<number>(SUBTASKS).fill(0);
      for (const batch of data.evalBatches) for (const g of batch.groups.dataSync()) counts[g] = (counts[g] ?? 0) + 1;
      expect(counts).toEqual(new Array(SUBTASKS).fill(EVAL_PER_SUBTASK));
      // no batch is dominated by one subtask (a uniform mix puts 1/16 of a batch in each)
      for (const batch of data.evalBatches) {
        const inBatch = new Array<number>(SUBTASKS).fill(0);
        for (const g of batch.groups.dataSync()) inBatch[g] = (inBatch[g] ?? 0) + 1;
        expect(Math.max(...inBatch) / batch.groups.size).toBeLessThan(0.2);
      }
    } finally {
      data.dispose();
    }
  });
});
