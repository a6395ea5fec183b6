/**
 * The published suite's manifest (results/published.json): each published record file with
 * its content hash. `middlepath publish` writes it and the maintainer commits it with the
 * records, so what counts as published is what the repository's history says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { readRecordDir, writeFileAtomic } from './files.ts';
import { type ProtocolStamp, stampInForce } from './protocol.ts';
import type { Provenance } from './provenance.ts';
import type { RunRecord } from './record.ts';

export const MANIFEST_FILE = 'published.json';

const entry = z.object({ file: z.string().min(1), contentHash: z.string().regex(/^[0-9a-f]{64}$/) });

export const publishedManifest = z.object({
  about: z.string(),
  /** the protocol every file in `records` ran under (results/protocol.json); absent before there was one */
  protocol: z.object({ version: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  /** record files, relative to the manifest's folder, with their content hashes: the protocol's runs */
  records: z.array(entry),
  /** records made before the protocol (no stamp): published, and labelled exploratory wherever they are shown */
  exploratory: z.array(entry).default([]),
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
  return new Set([...parsed.records, ...parsed.exploratory].map((r) => r.contentHash));
}

/** The provenance of a record found in a results folder whose manifest lists `published`. */
export function provenanceOfFile(record: RunRecord, published: ReadonlySet<string>): Provenance {
  if (!published.has(record.contentHash)) return 'local';
  return record.architecture.origin === 'baseline' ? 'baseline' : 'verified';
}

/**
 * Write `dir`/published.json listing every valid record file under it: those run under the
 * protocol in force as its records, those made before any protocol as exploratory. A record
 * run under another protocol is left out and named: it belongs to that protocol's manifest.
 */
export function writePublishedManifest(
  dir: string,
  protocol: ProtocolStamp = stampInForce(),
): { listed: number; exploratory: number; skipped: string[] } {
  const records: PublishedManifest['records'] = [];
  const exploratory: PublishedManifest['records'] = [];
  const skipped: string[] = [];
  for (const p of readRecordDir(dir)) {
    if ('error' in p) {
      skipped.push(`${p.path}: ${p.error}`);
      continue;
    }
    const e = { file: relative(dir, p.path), contentHash: p.record.contentHash };
    const stamp = p.record.protocol;
    if (!stamp) exploratory.push(e);
    else if (stamp.hash === protocol.hash) records.push(e);
    else
      skipped.push(
        `${p.path}: ran under protocol v${stamp.version} (${stamp.hash.slice(0, 12)}), not the one in force, v${protocol.version} (${protocol.hash.slice(0, 12)}): re-run it under this protocol, or move it out of ${dir}`,
      );
  }
  const byFile = (a: { file: string }, b: { file: string }) => a.file.localeCompare(b.file);
  const manifest: PublishedManifest = {
    about:
      'The published suite: record files a maintainer ran (harness baselines) or verified, under the protocol named here; `exploratory` lists the records made before it, shown labelled as such. Written by `middlepath publish`.',
    protocol,
    records: records.sort(byFile),
    exploratory: exploratory.sort(byFile),
  };
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return { listed: records.length, exploratory: exploratory.length, skipped };
}
