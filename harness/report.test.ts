// The progress line fits the terminal, and the ETA comes from FLOPs still to spend, not from the first steps.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { barFormat, etaSeconds, formatLoss, summaryTable } from './report.ts';

/** The line cli-progress draws, with every field at its widest. */
function widest(label: string, columns: number): string {
  const { format, barsize } = barFormat(label, columns);
  return format
    .replace('{bar}', '█'.repeat(barsize))
    .replace('{percentage}', '100')
    .replace('{flops}', '1.23e+10')
    .replace('{budget}', '3.00e+10')
    .replace('{loss}', 'loss 12.3456')
    .replace('{left}', '59m59s');
}

describe('progress line', () => {
  it('fits an 80-column terminal with a long label, shortening the label first', () => {
    const label = '[12/96] superposition · gradient-routed-with-a-long-name · seed 4';
    for (const columns of [80, 100, 60, 40]) expect(widest(label, columns).length, `${columns} columns`).toBeLessThan(columns);
    expect(widest(label, 60)).not.toContain('loss'); // too narrow for every figure: the ETA stays
    expect(widest(label, 80)).toMatch(/^\[12\/96\] .*… /);
    expect(widest('[1/3] mnist · dense · seed 0', 200)).toContain('[1/3] mnist · dense · seed 0 ');
    // a whole label beats the figures: at 80 columns a usual label stays whole, the ETA with it
    const usual = '[12/36] superposition · switch-top1 · seed 4';
    expect(widest(usual, 80)).toContain(`${usual} `);
    expect(widest(usual, 80)).toMatch(/ETA 59m59s$/);
    // the ETA is ours, with a unit: cli-progress's own {eta} token (bare seconds) is not used
    expect(barFormat(usual, 120).format).not.toContain('{eta}');
  });

  it("shows charlm's loss in bits per character, as its result line does", () => {
    expect(formatLoss(Math.LN2 * 3.5, 'bpc')).toBe('3.500 bpc');
    expect(formatLoss(0.25, undefined)).toBe('loss 0.2500');
    expect(formatLoss(null, 'bpc')).toBe('loss —');
  });

  it('gives no ETA for the first steps, then the FLOPs left at the rate so far', () => {
    expect(etaSeconds({ step: 3, flops: 1e9, budgetFlops: 1e10, seconds: 2 })).toBeNull();
    expect(etaSeconds({ step: 50, flops: 2.5e9, budgetFlops: 1e10, seconds: 10 })).toBeCloseTo(30);
    expect(etaSeconds({ step: 99, flops: 1e10, budgetFlops: 1e10, seconds: 40 })).toBe(0);
  });
});

describe('results table', () => {
  it('fits 100 columns with the longest names in the published records, in the order given', async () => {
    const { readValidRecords } = await import('./results/files.ts');
    const all = readValidRecords(join(import.meta.dirname, '..', 'results'));
    expect(all.length).toBeGreaterThan(10);
    const longest = (f: (r: (typeof all)[number]) => string) => [...all].sort((a, b) => f(b).length - f(a).length)[0];
    const pick = [
      longest((r) => r.architecture.name),
      longest((r) => r.task.id),
      longest((r) => `${r.params.active}/${r.params.total}`),
      all[0],
    ].filter((r) => r !== undefined);
    const table = summaryTable(pick);
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    const rows = table.split('\n').slice(2);
    for (const [i, r] of pick.entries()) expect(rows[i]).toContain(r.architecture.name);
  });
});
