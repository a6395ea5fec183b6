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

describe('the validation split (tuning)', () => {
  /** one key per example row: its values joined */
  const rowsOf = (x: { dataSync(): ArrayLike<number>; shape: number[] }) => {
    const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const v = Array.from(x.dataSync());
    return Array.from({ length: x.shape[0] as number }, (_, i) => v.slice(i * width, (i + 1) * width).join(','));
  };

  for (const task of TASKS) {
    it(`${task.spec.id}: never the test set`, () => {
      const test = task.load({ runSeed: 0, dataSeed: 0 });
      const validation = task.load({ runSeed: 0, dataSeed: 0, split: 'validation' });
      try {
        const testRows = new Set(test.evalBatches.flatMap((b) => rowsOf(b.x)));
        // An all-zero toy input (0.9^20 ≈ 12% of them) is the same example wherever it is drawn.
        const validationRows = validation.evalBatches.flatMap((b) => rowsOf(b.x)).filter((r) => /[1-9]/.test(r));
        expect(validationRows.length).toBeGreaterThan(0);
        const shared = validationRows.filter((r) => testRows.has(r)).length;
        // Generated tasks draw both sets afresh, so a parity input (16 × 2^24 of them) repeats
        // only by chance; the finite data sets (mnist, charlm) are disjoint by construction.
        if (task.spec.id === 'parity') expect(shared / validationRows.length).toBeLessThan(0.001);
        else expect(shared).toBe(0);
      } finally {
        test.dispose();
        validation.dispose();
      }
    });
  }

  it('mnist: carved from the training rows, which training then never sees', () => {
    const mnist = TASKS.find((t) => t.spec.id === 'mnist');
    const data = mnist?.load({ runSeed: 0, dataSeed: 0, split: 'validation' });
    if (!data) throw new Error('no mnist task');
    try {
      const validationRows = new Set(data.evalBatches.flatMap((b) => rowsOf(b.x)));
      expect(validationRows.size).toBeGreaterThan(900); // an eighth of ~8,000 training digits
      // more than one epoch of the reduced training set
      for (let i = 0; i < 60; i++) {
        const batch = data.nextTrainBatch(128);
        expect(rowsOf(batch.x).filter((r) => validationRows.has(r))).toEqual([]);
        batch.x.dispose();
        batch.y.dispose();
      }
    } finally {
      data.dispose();
    }
  });
});
