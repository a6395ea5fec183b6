/**
 * The committed published-suite manifest lists exactly the committed record files, with
 * their content hashes: a record committed without `middlepath publish` (or a manifest
 * edited by hand) fails here, before the site shows it as local or as a baseline wrongly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentHashOf } from './files.ts';
import { MANIFEST_FILE, publishedManifest } from './published.ts';
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
    expect(manifest.records.map((r) => r.file).sort(), 'run `middlepath publish` and commit results/published.json').toEqual(tracked);
    for (const entry of manifest.records) {
      const record = runRecord.parse(JSON.parse(readFileSync(join(RESULTS, entry.file), 'utf8')));
      expect(contentHashOf(record), entry.file).toBe(record.contentHash);
      expect(entry.contentHash, entry.file).toBe(record.contentHash);
    }
  });
});
