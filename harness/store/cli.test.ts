import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRun } from '../../test/support/store.ts';
import { syntheticRecords } from '../../test/support/synthetic.ts';
import { writeRecord } from '../results/files.ts';
import { registerStoreCommands } from './cli.ts';
import { leaderboardCsv, leaderboardJson } from './export.ts';
import { openStore } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'middlepath-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ingest(args: string[]) {
  const lines: string[] = [];
  let code = -1;
  const program = new Command().exitOverride();
  registerStoreCommands(program, {
    setExit: (c) => {
      code = c;
    },
    log: (l) => lines.push(l),
    error: (l) => lines.push(l),
  });
  await program.parseAsync(['node', 'middlepath', 'ingest', ...args]);
  return { code, lines };
}

describe('middlepath ingest', () => {
  const records = join(dir, 'records');
  const sqlite = join(dir, 'store.sqlite');
  for (const r of syntheticRecords({ count: 5 })) writeRecord(records, r);

  it('loads a directory and says what it did; again is a no-op', async () => {
    const first = await ingest([records, '--sqlite', sqlite]);
    expect(first.code).toBe(0);
    expect(first.lines.at(-1)).toBe('5 files: 5 inserted, 0 replaced, 0 unchanged, 0 skipped (sqlite)');
    const second = await ingest([records, '--sqlite', sqlite]);
    expect(second.lines.at(-1)).toMatch(/0 inserted, 0 replaced, 5 unchanged, 0 skipped/);
  });

  it('exits 1 and names the bad file, loading the rest', async () => {
    mkdirSync(join(records, 'runs'), { recursive: true });
    writeFileSync(join(records, 'runs', 'zz-bad.json'), 'not json');
    const r = await ingest([records, '--sqlite', sqlite]);
    expect(r.code).toBe(1);
    expect(r.lines.some((l) => l.includes('zz-bad.json: not valid JSON'))).toBe(true);
    expect(r.lines.at(-1)).toMatch(/5 unchanged, 1 skipped/);
  });

  it('exits 1 for a missing directory', async () => {
    const r = await ingest([join(dir, 'nope'), '--sqlite', sqlite]);
    expect(r.code).toBe(1);
  });
});

describe('read-only open of a store that is not there', () => {
  it('says what to run instead of creating it', async () => {
    await expect(openStore({ sqlitePath: join(dir, 'absent.sqlite'), readonly: true })).rejects.toThrow(/middlepath/);
  });
});

describe('export', () => {
  it('writes the table as CSV (quoted, formula-safe) and JSON', async () => {
    const store = await openStore({ sqlitePath: join(dir, 'export.sqlite') });
    try {
      await store.ingest(makeRun({ arch: 'dense', curve: [[1e9, 0.9]] }));
      await store.ingest(makeRun({ arch: '=cmd|"x",y', description: 'a, "quoted"\nline', curve: [[1e9, 0.8]] }));
      const filter = { task: 'mnist', tier: 'smoke' as const, hardwareClass: 'test-device ×1 · cpu' };
      const rows = await store.leaderboard(filter);
      const csv = leaderboardCsv(rows);
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]?.startsWith('architecture,family,seeds')).toBe(true);
      expect(lines).toHaveLength(3);
      expect(lines[2]?.startsWith(`"'=cmd|""x"",y",moe,1`)).toBe(true);
      expect(JSON.parse(leaderboardJson(filter, rows))).toEqual({ filter, rows });
    } finally {
      await store.close();
    }
  });
});
