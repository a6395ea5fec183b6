/**
 * The published suite's manifest (results/published.json): each published record file with
 * its content hash. `middlepath publish` writes it and the maintainer commits it with the
 * records, so what counts as published is what the repository's history says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { readRecordDir, writeFileAtomic } from './files.ts';
import type { Provenance } from './provenance.ts';
import type { RunRecord } from './record.ts';

export const MANIFEST_FILE = 'published.json';

export const publishedManifest = z.object({
  about: z.string(),
  /** record files, relative to the manifest's folder, with their content hashes */
  records: z.array(z.object({ file: z.string().min(1), contentHash: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export type PublishedManifest = z.infer<typeof publishedManifest>;

/** The content hashes the manifest in `dir` lists; empty when there is none. A malformed manifest is an error. */
export function readPublishedHashes(dir: string): Set<string> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return new Set();
  let parsed: PublishedManifest;
  try {
    parsed = publishedManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new Error(
      `${path} is not a valid published-suite manifest (${(e as Error).message.split('\n')[0]}); regenerate it with \`middlepath publish\``,
    );
  }
  return new Set(parsed.records.map((r) => r.contentHash));
}

/** The provenance of a record found in a results folder whose manifest lists `published`. */
export function provenanceOfFile(record: RunRecord, published: ReadonlySet<string>): Provenance {
  if (!published.has(record.contentHash)) return 'local';
  return record.architecture.origin === 'baseline' ? 'baseline' : 'verified';
}

/** Write `dir`/published.json listing every valid record file under it; returns how many. */
export function writePublishedManifest(dir: string): { listed: number; skipped: string[] } {
  const records: PublishedManifest['records'] = [];
  const skipped: string[] = [];
  for (const p of readRecordDir(dir)) {
    if ('error' in p) skipped.push(`${p.path}: ${p.error}`);
    else records.push({ file: relative(dir, p.path), contentHash: p.record.contentHash });
  }
  records.sort((a, b) => a.file.localeCompare(b.file));
  const manifest: PublishedManifest = {
    about: 'The published suite: record files a maintainer ran (harness baselines) or verified. Written by `middlepath publish`.',
    records,
  };
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return { listed: records.length, skipped };
}
