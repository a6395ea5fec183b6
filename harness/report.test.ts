// The progress line fits the terminal, and the ETA comes from FLOPs still to spend, not from the first steps.
import { describe, expect, it } from 'vitest';
import { barFormat, etaSeconds } from './report.ts';

/** The line cli-progress draws, with every field at its widest. */
function widest(label: string, columns: number): string {
  const { format, barsize } = barFormat(label, columns);
  return format
    .replace('{bar}', '█'.repeat(barsize))
    .replace('{percentage}', '100')
    .replace('{flops}', '1.23e+10')
    .replace('{budget}', '3.00e+10')
    .replace('{loss}', '12.3456')
    .replace('{eta}', '59m59s');
}

describe('progress line', () => {
  it('fits an 80-column terminal with a long label, shortening the label first', () => {
    const label = '[12/96] superposition · gradient-routed-with-a-long-name · seed 4';
    for (const columns of [80, 100, 60, 40]) expect(widest(label, columns).length, `${columns} columns`).toBeLessThan(columns);
    expect(widest(label, 60)).not.toContain('loss'); // too narrow for every figure: the ETA stays
    expect(widest(label, 80)).toMatch(/^\[12\/96\] .*… /);
    expect(widest('[1/3] mnist · dense · seed 0', 200)).toContain('[1/3] mnist · dense · seed 0 ');
  });

  it('gives no ETA for the first steps, then the FLOPs left at the rate so far', () => {
    expect(etaSeconds({ step: 3, flops: 1e9, budgetFlops: 1e10, seconds: 2 })).toBeNull();
    expect(etaSeconds({ step: 50, flops: 2.5e9, budgetFlops: 1e10, seconds: 10 })).toBeCloseTo(30);
    expect(etaSeconds({ step: 99, flops: 1e10, budgetFlops: 1e10, seconds: 40 })).toBe(0);
  });
});
