/**
 * Load record files into the store. Each file is judged on its own: a malformed, invalid
 * or edited file is reported with its path and reason and skipped; the rest still load.
 * A file the folder's published manifest lists is stored as a baseline (or verified
 * submission); any other as local (results/provenance.ts).
 */
import { join } from 'node:path';
import { readRecordDir } from '../results/files.ts';
import { MANIFEST_FILE, provenanceOfFile, readPublishedHashes } from '../results/published.ts';
import type { IngestOutcome, Store } from './types.ts';

export type FileOutcome = { path: string; id: string; outcome: IngestOutcome } | { path: string; outcome: 'error'; reason: string };

export interface IngestSummary {
  files: FileOutcome[];
  inserted: number;
  replaced: number;
  unchanged: number;
  errors: number;
}

/** Every record file under DIR/runs (or DIR itself), as readRecordDir finds them. */
export async function ingestDir(store: Store, dir: string): Promise<IngestSummary> {
  const files: FileOutcome[] = [];
  let published = new Set<string>();
  try {
    published = readPublishedHashes(dir);
  } catch (e) {
    // a broken manifest publishes nothing: every file still loads, as local
    files.push({ path: join(dir, MANIFEST_FILE), outcome: 'error', reason: (e as Error).message });
  }
  for (const parsed of readRecordDir(dir)) {
    if ('error' in parsed) {
      files.push({ path: parsed.path, outcome: 'error', reason: parsed.error });
      continue;
    }
    try {
      const provenance = provenanceOfFile(parsed.record, published);
      files.push({ path: parsed.path, id: parsed.record.id, outcome: await store.ingest(parsed.record, { provenance }) });
    } catch (e) {
      files.push({ path: parsed.path, outcome: 'error', reason: (e as Error).message });
    }
  }
  const n = (o: FileOutcome['outcome']) => files.filter((f) => f.outcome === o).length;
  return { files, inserted: n('inserted'), replaced: n('replaced'), unchanged: n('unchanged'), errors: n('error') };
}
