import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKey } from '../run-key.ts';
import { equivalenceLogMargin, minimumDetectableMultiplier, pairsFor, pairsForEquivalence } from '../stats/power.ts';
import { loadProtocol, PROTOCOL_PATH, parseProtocol, protocolHash, seedsOf, stampInForce, supersededDir } from './protocol.ts';

const text = readFileSync(PROTOCOL_PATH, 'utf8');
const PROTOCOLS_DIR = join(dirname(PROTOCOL_PATH), 'protocols');
const inForce = loadProtocol();

// the protocol in force, every draft of the next one, and every version it replaced (kept with its records)
const committed = [
  PROTOCOL_PATH,
  ...(existsSync(PROTOCOLS_DIR) ? readdirSync(PROTOCOLS_DIR) : []).filter((f) => f.endsWith('.json')).map((f) => join(PROTOCOLS_DIR, f)),
  // every earlier version is kept: a missing copy fails to load here
  ...Array.from({ length: inForce.version - 1 }, (_, i) => join(supersededDir(i + 1), 'protocol.json')),
];

describe.each(committed)('the committed protocol %s', (path) => {
  it('parses, and its seeds never reuse the exploratory ones', () => {
    const p = loadProtocol(path);
    const lo = p.exploratory.seeds.from + p.exploratory.seeds.count;
    for (const task of Object.keys(p.tasks)) {
      const s = seedsOf(p, task);
      expect(s).not.toBeNull();
      const all = [...(s?.targetSetting ?? []), ...(s?.comparison ?? []), ...(s?.placebo ?? [])];
      expect(new Set(all).size).toBe(all.length);
      expect(Math.min(...all)).toBeGreaterThanOrEqual(lo);
    }
  });

  it('states each task’s MDE, and its placebo’s margin, as the power calculation gives them from its spreads and seed count', () => {
    const p = loadProtocol(path);
    for (const [task, t] of Object.entries(p.tasks)) {
      const settings = { alpha: p.power.alpha, power: p.power.power };
      expect(minimumDetectableMultiplier(t.sdLogMultiplier, t.seedsPerCell, settings), task).toBeCloseTo(t.mdeAtSeedsPerCell, 2);
      expect(pairsFor(t.sdLogMultiplier, p.power.targetMde, settings), task).toBe(t.seedsRequired);
      if (t.seedsPerCell < (t.seedsRequired ?? Number.POSITIVE_INFINITY)) expect(t.shortfall, task).toBeTruthy();
      if (t.placeboSd === undefined) continue;
      // the placebo's margin: the claims' where its pairs show that at the planned power, else the one they show
      const shown = Math.exp(equivalenceLogMargin(t.placeboSd, t.seedsPerCell, settings) as number);
      if (shown <= p.margins.multiplier) expect(t.placeboMargin, task).toBeUndefined();
      else expect(t.placeboMargin, task).toBeCloseTo(shown, 2);
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

describe('power for equivalence (the placebo)', () => {
  it('is the TOST margin n pairs show at 80% power when the true ratio is 1', () => {
    // sd 0.3, n 20: (t(0.95, 19) 1.7291 + t(0.9, 19) 1.3277) × 0.3 / √20 = 0.2051 on the log scale
    expect(equivalenceLogMargin(0.3, 20)).toBeCloseTo(0.2051, 3);
    expect(pairsForEquivalence(0.3, Math.exp(0.2051))).toBe(20);
    expect(pairsForEquivalence(0.3, 1.25)).toBe(18); // n 17: 0.2243 > log 1.25 = 0.2231; n 18: 0.2173
    expect(equivalenceLogMargin(0.3, 1)).toBeNull();
    expect(() => pairsForEquivalence(0.3, 1)).toThrow(/must exceed 1/);
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
