import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runKey } from '../run-key.ts';
import { minimumDetectableMultiplier, pairsFor } from '../stats/power.ts';
import { loadProtocol, PROTOCOL_PATH, parseProtocol, protocolHash, seedsOf, stampInForce } from './protocol.ts';

const text = readFileSync(PROTOCOL_PATH, 'utf8');

describe('the committed protocol', () => {
  it('parses, and its seeds never reuse the exploratory ones', () => {
    const p = loadProtocol();
    const lo = p.exploratory.seeds.from + p.exploratory.seeds.count;
    for (const task of Object.keys(p.tasks)) {
      const s = seedsOf(p, task);
      expect(s).not.toBeNull();
      const all = [...(s?.targetSetting ?? []), ...(s?.comparison ?? []), ...(s?.placebo ?? [])];
      expect(new Set(all).size).toBe(all.length);
      expect(Math.min(...all)).toBeGreaterThanOrEqual(lo);
    }
  });

  it('states each task’s MDE as the power calculation gives it from its SD and seed count', () => {
    const p = loadProtocol();
    for (const [task, t] of Object.entries(p.tasks)) {
      const settings = { alpha: p.power.alpha, power: p.power.power };
      expect(minimumDetectableMultiplier(t.sdLogMultiplier, t.seedsPerCell, settings), task).toBeCloseTo(t.mdeAtSeedsPerCell, 2);
      expect(pairsFor(t.sdLogMultiplier, p.power.targetMde, settings), task).toBe(t.seedsRequired);
      if (t.seedsPerCell < (t.seedsRequired ?? Number.POSITIVE_INFINITY)) expect(t.shortfall, task).toBeTruthy();
    }
  });
});

describe('the protocol hash', () => {
  it('ignores layout and key order, and changes with any value', () => {
    const p = parseProtocol(text);
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const reordered = parseProtocol(JSON.stringify(reverse(JSON.parse(text))));
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(p));
    expect(protocolHash(reordered)).toBe(protocolHash(p));
    const edited = parseProtocol(text.replace('"multiplier": 1.25', '"multiplier": 1.3'));
    expect(protocolHash(edited)).not.toBe(protocolHash(p));
  });

  it('enters the run key, so a new version re-runs its seeds', () => {
    const k = { task: 'charlm', tier: 'cpu', seed: 1100, variantSeed: null, sourceHash: 'x' };
    expect(stampInForce().hash).toBe(protocolHash(loadProtocol()));
    expect(runKey(k)).toBe(runKey(k, protocolHash(loadProtocol())));
    expect(runKey(k, 'a'.repeat(64))).not.toBe(runKey(k));
  });
});

describe('a broken protocol', () => {
  it('names the field and what is wrong', () => {
    expect(() => parseProtocol('{', 'p.json')).toThrow(/p\.json is not JSON/);
    const bad = JSON.parse(text);
    bad.claims[0].family = 'nowhere';
    expect(() => parseProtocol(JSON.stringify(bad), 'p.json')).toThrow(/claims\.0\.family: family nowhere is not in families/);
    const reuse = JSON.parse(text);
    reuse.seeds.comparison.from = 3;
    expect(() => parseProtocol(JSON.stringify(reuse), 'p.json')).toThrow(/seeds\.comparison: confirmatory seeds must not reuse/);
  });
});
