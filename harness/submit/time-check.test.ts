import { describe, expect, it } from 'vitest';
import { BUSY_LOAD_PER_CORE, timeVerdict } from './time-check.ts';

describe('timeVerdict', () => {
  it('passes within the limit, warns past it, fails past twice it on a quiet machine', () => {
    expect(timeVerdict(100, 120, 0.2)).toBe('ok');
    expect(timeVerdict(200, 120, 0.2)).toBe('may time out');
    expect(timeVerdict(300, 120, 0.2)).toBe('too slow');
    expect(timeVerdict(Number.POSITIVE_INFINITY, 120, 0.2)).toBe('too slow');
  });

  it('does not fail a module on a timing taken while the machine is busy', () => {
    expect(timeVerdict(300, 120, BUSY_LOAD_PER_CORE)).toBe('too slow');
    expect(timeVerdict(300, 120, BUSY_LOAD_PER_CORE + 0.1)).toBe('too slow, machine busy');
    expect(timeVerdict(200, 120, 8)).toBe('may time out');
  });
});
