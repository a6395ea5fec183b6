/**
 * One cost-to-target per run, wherever it is shown. Two committed version-1 records that stored
 * a figure against the target in force when they ran (issue 23: the run page said "≥ 0.955, not
 * reached" and "3.28 bpc, 174 GFLOP" where the board said ≥ 89.9% reached and 3.55, 84): the
 * run page, the CLI (`middlepath list runs`) and the board (the front page's cost-to-target
 * table) must now show one figure, against the target in force, with the stored one as history.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { contentHashOf } from '../harness/results/files.ts';
import { type RunRecord, runRecord } from '../harness/results/record.ts';
import { costToTargetOfRun } from '../harness/stats/cost-to-target.ts';
import { targetTable } from '../site/lib/curves.ts';
import { flops, sig } from '../site/lib/format.ts';
import { runCostText } from '../site/lib/run-cost.ts';

const RUNS = join(import.meta.dirname, '..', 'results', 'runs');

function committed(prefix: string): { file: string; record: RunRecord } {
  const name = readdirSync(RUNS).find((f) => f.startsWith(`${prefix}.`));
  if (!name) throw new Error(`no committed record ${prefix}.* in results/runs`);
  return { file: join(RUNS, name), record: runRecord.parse(JSON.parse(readFileSync(join(RUNS, name), 'utf8'))) };
}

const hash = committed('cpu.charlm.hash.s0');
const switchTop1 = committed('cpu.parity.switch-top1.s0');

/** `middlepath list runs` over a folder holding just these records: its line per run id. */
async function cliLines(files: string[]): Promise<Map<string, string>> {
  const out = mkdtempSync(join(tmpdir(), 'mp-ctt-'));
  mkdirSync(join(out, 'runs'));
  for (const f of files) copyFileSync(f, join(out, 'runs', f.split('/').at(-1) as string));
  const { stdout } = await promisify(execFile)('node', ['bin/middlepath.js', 'list', 'runs', '--out', out], {
    cwd: join(import.meta.dirname, '..'),
  });
  return new Map(stdout.split('\n').flatMap((l) => (l.trim() ? [[l.split(/\s+/)[0] as string, l]] : [])));
}

describe('one cost-to-target for a run', () => {
  it('reads version-1 records unchanged: their content hashes still verify', () => {
    for (const { record } of [hash, switchTop1]) {
      expect(record.schemaVersion).toBe(1);
      expect(record.costToTarget).toBeDefined();
      expect(contentHashOf(record)).toBe(record.contentHash);
    }
  });

  it('is computed against the target in force, the stored figure kept as history', () => {
    const h = costToTargetOfRun(hash.record);
    expect(h.whenRun?.target).not.toBe(h.now?.target);
    const s = costToTargetOfRun(switchTop1.record);
    expect(s.whenRun?.executedFlops.status).toBe('not reached');
    expect(s.now?.executedFlops.status).toBe('reached');
  });

  it('is the same figure on the run page, in the CLI and on the board', async () => {
    const lines = await cliLines([hash.file, switchTop1.file]);
    for (const { record } of [hash, switchTop1]) {
      const now = costToTargetOfRun(record).now;
      if (now?.executedFlops.status !== 'reached') throw new Error(`${record.id}: expected a reached figure, got ${JSON.stringify(now)}`);
      const cost = now.executedFlops.cost;

      // the board: the front page's cost-to-target table over a view holding this one run
      const table = targetTable([record], record.task.id, record.task.tier, 'executedFlops');
      const row = table?.rows.find((r) => r.name === record.architecture.name);
      expect(table?.target).toBe(now.target);
      expect(row?.summary.kind).toBe('estimate');
      const board = row?.summary.kind === 'estimate' ? row.summary.value : Number.NaN;
      expect(Math.abs(board / cost - 1)).toBeLessThan(1e-12);

      // the run page (site/routes/run.tsx renders this text)
      const page = runCostText(record);
      expect(page.figure.startsWith(`${flops(cost)} executed`)).toBe(true);
      expect(flops(cost)).toBe(flops(board));
      // the stored figure, labelled as history with the target it was computed against
      expect(page.history).toMatch(/^when run, against the target then in force/);
      // the target in the board's words (accuracy in %)
      expect(page.label).toContain(
        record.task.metric.name === 'accuracy' ? `≥ ${sig(100 * now.target, 4)}%` : `≤ ${sig(now.target, 4)} bpc`,
      );

      // the CLI
      const line = lines.get(record.id) ?? '';
      const printed = /cost-to-target ([0-9.e+]+) FLOPs/.exec(line)?.[1];
      expect(printed, line).toBe(cost.toPrecision(4));
      expect(line).toMatch(/when run, against the target then in force/);
    }
  });
});
