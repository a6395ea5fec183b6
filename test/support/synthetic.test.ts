import { describe, expect, it } from 'vitest';
import { contentHashOf } from '../../harness/results/files.ts';
import { runRecord } from '../../harness/results/record.ts';
import { isSynthetic, SYNTHETIC_ARCHITECTURES, syntheticRecord, syntheticRecords } from './synthetic.ts';

describe('syntheticRecords', () => {
  const records = syntheticRecords({ count: 400, seed: 3 });

  it('makes valid, sealed records that say they are synthetic', () => {
    for (const r of records) {
      expect(runRecord.safeParse(r).success).toBe(true);
      expect(r.contentHash).toBe(contentHashOf(r));
      expect(r.harnessVersion).toBe('synthetic');
      expect(r.architecture.origin).toBe('synthetic');
      expect(isSynthetic(r)).toBe(true);
    }
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  it('spreads over tasks, tiers, hardware classes, families, seeds, statuses and energy', () => {
    const set = <T>(f: (r: (typeof records)[number]) => T) => new Set(records.map(f));
    expect(set((r) => r.task.id)).toEqual(new Set(['superposition', 'parity', 'mnist', 'charlm']));
    expect(set((r) => r.task.tier).size).toBe(3);
    expect(set((r) => r.hardwareClass).size).toBe(2);
    expect(set((r) => r.architecture.family)).toEqual(new Set(['dense', 'moe', 'hybrid']));
    expect(set((r) => r.architecture.name)).toContain('dense');
    expect(set((r) => r.architecture.name).size).toBe(SYNTHETIC_ARCHITECTURES.length);
    expect(set((r) => r.task.seed).size).toBeGreaterThanOrEqual(3);
    expect(set((r) => r.status).size).toBeGreaterThan(1);
    expect(set((r) => r.energy.measured)).toEqual(new Set([true, false]));
    for (const r of records.filter((x) => x.status === 'completed')) {
      expect(r.curve.length).toBe(10);
      if (r.architecture.family === 'moe') expect(r.final?.legibility.routing.length).toBeGreaterThan(0);
      if (!r.energy.measured) expect(r.energy.reason.length).toBeGreaterThan(0);
    }
  });

  it('is deterministic: record i depends only on (seed, i)', () => {
    expect(syntheticRecord(17, 3)).toEqual(records[17]);
    expect(syntheticRecord(17, 4).contentHash).not.toBe(records[17]?.contentHash);
  });
});
