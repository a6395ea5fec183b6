/**
 * The bundle's checks (the same the upload route and verify make) on hand-made bundles,
 * and the acceptance interval verify compares re-runs with.
 */
import { describe, expect, it } from 'vitest';
import { reseal, syntheticUpload } from '../../test/support/submit.ts';
import { meanInterval } from '../store/stats.ts';
import { bundleHashOf, checkBundle, foreignImports, type Manifest, uploadDocumentOf } from './bundle.ts';
import { acceptanceInterval } from './verify.ts';

/** A document whose manifest was changed and whose bundle hash was recomputed, so only the change is wrong. */
function withManifest(change: (m: Manifest) => Manifest) {
  const { manifest, source, records } = syntheticUpload();
  const m = change(structuredClone(manifest));
  return { ...uploadDocumentOf(m, source, records), bundleHash: bundleHashOf(m) };
}

const reason = (doc: unknown) => {
  const r = checkBundle(doc);
  return r.ok ? 'ok' : r.reason;
};

describe('checkBundle', () => {
  it('accepts a consistent bundle and recomputes its claim and hash', () => {
    const { doc, manifest } = syntheticUpload();
    const r = checkBundle(doc);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.bundle.bundleHash).toBe(bundleHashOf(manifest));
    const claim = manifest.claim[0];
    const iv = meanInterval([0.9, 0.91, 0.92]);
    expect(claim).toMatchObject({ task: 'mnist', runs: 3, seeds: [0, 1, 2], mean: iv.mean, lo: iv.lo, hi: iv.hi });
  });

  it('refuses a record whose figures contradict each other (executed FLOPs below the budget of a completed run)', () => {
    const { manifest, source, records } = syntheticUpload();
    const bad = reseal(records[0] as never, (u) => ({ ...u, flops: { ...u.flops, executed: u.training.budgetFlops / 2 } }));
    const recs = [bad, ...records.slice(1)];
    const m = structuredClone(manifest);
    (m.records[0] as { contentHash: string }).contentHash = bad.contentHash;
    expect(reason({ ...uploadDocumentOf(m, source, recs), bundleHash: bundleHashOf(m) })).toMatch(/record 0 .* below its budget/);
  });

  it('refuses a record edited after it was written', () => {
    const { doc } = syntheticUpload();
    const records = structuredClone(doc.records) as { final: { quality: number } }[];
    (records[1] as { final: { quality: number } }).final.quality = 0.99;
    expect(reason({ ...doc, records })).toMatch(/record 1 .*contentHash does not match its content/);
  });

  it('refuses a claim that does not follow from the records', () => {
    expect(reason(withManifest((m) => ({ ...m, claim: m.claim.map((c) => ({ ...c, mean: 0.99 })) })))).toMatch(
      /the claim for 'mnist' does not follow from its records/,
    );
  });

  it('refuses a module that is not the one the records ran', () => {
    const { doc } = syntheticUpload();
    expect(reason({ ...doc, module: { source: `${doc.module.source}// changed\n` } })).toMatch(/module source does not match the manifest/);
  });

  it('refuses a wrong bundle hash, unknown fields and missing records', () => {
    const { doc } = syntheticUpload();
    expect(reason({ ...doc, bundleHash: '0'.repeat(64) })).toMatch(/bundle hash does not match/);
    expect(reason(withManifest((m) => ({ ...m, extra: 1 }) as Manifest))).toMatch(/manifest is malformed: .*Unrecognized key/);
    expect(reason({ ...doc, extra: 1 })).toMatch(/upload is malformed/);
    expect(reason({ ...doc, records: doc.records.slice(1) })).toMatch(/lists 4 records but 3 were sent/);
  });

  it('refuses runs at another tier, on another hardware class, or fewer seeds than claimed', () => {
    expect(reason(withManifest((m) => ({ ...m, tier: 'cpu' })))).toMatch(/ran at the smoke tier; the submission is for cpu/);
    expect(reason(withManifest((m) => ({ ...m, hardwareClass: 'other ×1 · cpu' })))).toMatch(/not on the submission's hardware class/);
    expect(reason(withManifest((m) => ({ ...m, seeds: 5 })))).toMatch(/has 3 submission runs; the manifest says 5 seeds/);
  });

  it('refuses a baseline that is not a baseline, and a path outside the bundle', () => {
    expect(reason(withManifest((m) => ({ ...m, records: m.records.map((r) => ({ ...r, role: 'baseline' as const })) })))).toMatch(
      /listed as a baseline but ran 'test'/,
    );
    expect(reason(withManifest((m) => ({ ...m, records: m.records.map((r, i) => (i ? r : { ...r, file: '../../etc/passwd' })) })))).toMatch(
      /manifest is malformed: records\.0\.file/,
    );
  });

  it('refuses a module that imports anything but middlepath and tfjs', () => {
    expect(
      foreignImports(`import x from './helper.ts';\nimport * as tf from '@tensorflow/tfjs';\nimport { nn } from 'middlepath';`),
    ).toEqual(['./helper.ts']);
    expect(foreignImports(`const fs = await import('node:fs'); require("child_process");`)).toEqual(['node:fs', 'child_process']);
    const source = `import { execSync } from 'node:child_process';\n`;
    const { doc } = syntheticUpload({ source });
    expect(reason(doc)).toMatch(/imports node:child_process; a submission may import only/);
  });
});

describe('acceptanceInterval', () => {
  it('is the claimed 95% t-interval when it is wider than ±1% of the mean', () => {
    const values = [0.8, 0.85, 0.9];
    const iv = meanInterval(values);
    expect(acceptanceInterval(values)).toEqual({ lo: iv.lo, hi: iv.hi, basis: '95% t-interval over 3 seeds' });
  });

  it('widens a tight interval to ±1% of the mean, and one seed to ±5%', () => {
    const tight = acceptanceInterval([0.9, 0.9, 0.9]);
    expect(tight?.lo).toBeCloseTo(0.891, 12);
    expect(tight?.hi).toBeCloseTo(0.909, 12);
    expect(tight?.basis).toMatch(/widened to ±1% of the mean/);
    const one = acceptanceInterval([2]);
    expect(one).toEqual({ lo: 1.9, hi: 2.1, basis: 'one seed: ±5% of the value' });
    expect(acceptanceInterval([])).toBeNull();
  });
});
