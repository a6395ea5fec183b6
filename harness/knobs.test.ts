/** --set parsing, the run key with and without knobs, and knobs in a sealed record. */
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.ts';
import { definedKnobs, knobsLabel, parseKnobs } from './knobs.ts';
import { runKey } from './run-key.ts';

const base = { task: 'charlm', tier: 'cpu', seed: 0, variantSeed: null, sourceHash: 'a'.repeat(64) };

describe('--set', () => {
  it('parses name=value pairs into typed knobs', () => {
    expect(parseKnobs(['experts=16', 'granularity=2', 'width=64'])).toEqual({ experts: 16, granularity: 2, width: 64 });
    expect(parseKnobs([])).toBeUndefined();
  });
  it('refuses what it cannot use, saying what to give', () => {
    expect(() => parseKnobs(['experts'])).toThrow(/name=value/);
    expect(() => parseKnobs(['expert=4'])).toThrow(/unknown knob; the knobs are experts, granularity, width/);
    expect(() => parseKnobs(['experts=1.5'])).toThrow(UsageError);
    expect(() => parseKnobs(['experts=0'])).toThrow(/experts/);
    expect(() => parseKnobs(['experts=2', 'experts=4'])).toThrow(/twice/);
  });
});

describe('run key', () => {
  it('is the same without knobs as with none set, and differs per knob value', () => {
    const plain = runKey(base);
    expect(runKey({ ...base, knobs: {} })).toBe(plain);
    expect(runKey({ ...base, knobs: { experts: undefined } })).toBe(plain);
    const e4 = runKey({ ...base, knobs: { experts: 4 } });
    expect(e4).not.toBe(plain);
    expect(runKey({ ...base, knobs: { experts: 8 } })).not.toBe(e4);
    // order of the knobs does not matter
    expect(runKey({ ...base, knobs: { width: 32, experts: 4 } })).toBe(runKey({ ...base, knobs: { experts: 4, width: 32 } }));
  });
  it('labels knobs in a fixed order', () => {
    expect(knobsLabel({ width: 32, experts: 4 })).toBe('experts=4 width=32');
    expect(definedKnobs({ experts: undefined })).toBeUndefined();
  });
});
