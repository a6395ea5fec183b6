import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticRecords } from '../../test/support/synthetic.ts';
import { contentHashOf, parseRecordFile, readRecordDir, writeRecord } from './files.ts';
import { recordJsonSchema, SCHEMA_PATH } from './json-schema.ts';
import { runRecord } from './record.ts';

describe('run records on disk', () => {
  const [record] = syntheticRecords({ count: 1, seed: 7 });
  if (!record) throw new Error('no synthetic record');

  it('round-trips through an atomic write and validates on read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-rec-'));
    const path = writeRecord(dir, record);
    expect(readdirSync(join(dir, 'runs'))).toEqual([`${record.id}.json`]); // no temp file left behind
    const parsed = parseRecordFile(path);
    expect('record' in parsed && parsed.record).toEqual(record);
  });

  it('rejects a file edited after it was written, naming the file and the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-rec-'));
    const path = writeRecord(dir, record);
    const edited = JSON.parse(readFileSync(path, 'utf8'));
    edited.final.quality = 0.999;
    writeFileSync(path, JSON.stringify(edited));
    writeFileSync(join(dir, 'runs', 'garbage.json'), '{ not json');
    const results = readRecordDir(dir);
    expect(results.map((r) => ('error' in r ? r.error : 'ok'))).toEqual([
      expect.stringMatching(/^not valid JSON/),
      expect.stringMatching(/contentHash .* does not match the content/),
    ]);
  });

  it('refuses figures that contradict each other', () => {
    const bad = { ...record, status: 'completed' as const, flops: { ...record.flops, executed: record.training.budgetFlops / 2 } };
    const result = runRecord.safeParse({ ...bad, contentHash: contentHashOf(bad) });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/below its budget/);
  });

  it('keeps results/schema.json in step with the zod schema (npm run schema)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(recordJsonSchema());
  });
});
