/**
 * The committed published-suite manifest lists exactly the committed record files, with
 * their content hashes: a record committed without `middlepath publish` (or a manifest
 * edited by hand) fails here, before the site shows it as local or as a baseline wrongly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRun } from '../../test/support/store.ts';
import { reseal } from '../../test/support/submit.ts';
import { contentHashOf, writeRecord } from './files.ts';
import { stampInForce } from './protocol.ts';
import { MANIFEST_FILE, publishedManifest, readPublishedHashes, writePublishedManifest } from './published.ts';
import { runRecord } from './record.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'results');

describe('results/published.json', () => {
  it('lists every committed record file under results/runs, and nothing else, with its content hash', () => {
    const tracked = execFileSync('git', ['ls-files', 'results/runs'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice('results/'.length))
      .sort();
    const manifest = publishedManifest.parse(JSON.parse(readFileSync(join(RESULTS, MANIFEST_FILE), 'utf8')));
    const listed = [...manifest.records, ...manifest.exploratory];
    expect(listed.map((r) => r.file).sort(), 'run `middlepath publish` and commit results/published.json').toEqual(tracked);
    for (const entry of listed) {
      const record = runRecord.parse(JSON.parse(readFileSync(join(RESULTS, entry.file), 'utf8')));
      expect(contentHashOf(record), entry.file).toBe(record.contentHash);
      expect(entry.contentHash, entry.file).toBe(record.contentHash);
    }
  });

  it('publishes as the protocol’s records only runs stamped with the protocol in force; the rest are exploratory, from before it', () => {
    const manifest = publishedManifest.parse(JSON.parse(readFileSync(join(RESULTS, MANIFEST_FILE), 'utf8')));
    expect(manifest.protocol, 'run `middlepath publish`: the manifest names no protocol').toEqual(stampInForce());
    const stampOfFile = (file: string) => runRecord.parse(JSON.parse(readFileSync(join(RESULTS, file), 'utf8'))).protocol;
    for (const entry of manifest.records) expect(stampOfFile(entry.file), entry.file).toEqual(stampInForce());
    for (const entry of manifest.exploratory) expect(stampOfFile(entry.file), entry.file).toBeUndefined();
  });
});

describe('middlepath publish', () => {
  it('leaves out, and names, a record run under another protocol', () => {
    const dir = mkdtempSync(join(tmpdir(), 'published-'));
    try {
      const old = makeRun({ arch: 'dense', seed: 0, curve: [[1, 0.5]] });
      const current = reseal(makeRun({ arch: 'dense', seed: 1100, curve: [[1, 0.5]] }), (u) => ({ ...u, protocol: stampInForce() }));
      const foreign = reseal(makeRun({ arch: 'dense', seed: 1101, curve: [[1, 0.5]] }), (u) => ({
        ...u,
        protocol: { version: 9, hash: 'a'.repeat(64) },
      }));
      for (const r of [old, current, foreign]) writeRecord(dir, r);
      const r = writePublishedManifest(dir);
      expect([r.listed, r.exploratory]).toEqual([1, 1]);
      expect(r.skipped).toEqual([
        expect.stringMatching(new RegExp(`ran under protocol v9 \\(aaaaaaaaaaaa\\), not the one in force, v${stampInForce().version}`)),
      ]);
      const written = publishedManifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')));
      expect(written.records.map((e) => e.contentHash)).toEqual([current.contentHash]);
      expect(written.exploratory.map((e) => e.contentHash)).toEqual([old.contentHash]);
      expect(readPublishedHashes(dir)).toEqual(new Set([current.contentHash, old.contentHash]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
