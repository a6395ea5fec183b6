/**
 * Run records on disk: results/runs/<id>.json, written atomically, content-hashed,
 * validated on every read.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunRecord, runRecord, type UnhashedRecord } from './record.ts';

/** JSON with object keys sorted, so that equal records hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const obj = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(obj)
          .sort()
          .map((k) => [k, obj[k]]),
      );
    }
    return v;
  });
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The content hash of a record: SHA-256 of the canonical JSON of every field but the hash. */
export function contentHashOf(record: UnhashedRecord | RunRecord): string {
  const { contentHash: _ignored, ...rest } = record as RunRecord;
  return sha256(canonicalJson(rest));
}

export function sealRecord(record: UnhashedRecord): RunRecord {
  return runRecord.parse({ ...record, contentHash: contentHashOf(record) });
}

/** Write to a temp file and rename over the target: a reader never sees half a record. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function runsDir(outDir: string): string {
  return join(outDir, 'runs');
}

export function writeRecord(outDir: string, record: RunRecord): string {
  const dir = runsDir(outDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${record.id}.json`);
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

export type ParsedRecordFile = { path: string; record: RunRecord } | { path: string; error: string };

/** Parse and validate one record file; the error says what is wrong and where. */
export function parseRecordFile(path: string): ParsedRecordFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return { path, error: `not valid JSON: ${(e as Error).message}` };
  }
  const parsed = runRecord.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { path, error: `does not match the run record schema: ${first}` };
  }
  const expected = contentHashOf(parsed.data);
  if (parsed.data.contentHash !== expected) {
    return {
      path,
      error: `contentHash ${parsed.data.contentHash.slice(0, 12)}… does not match the content (${expected.slice(0, 12)}…): the file was edited after it was written`,
    };
  }
  return { path, record: parsed.data };
}

/** Every *.json record under DIR/runs (or DIR itself if it has no runs/). */
export function readRecordDir(outDir: string): ParsedRecordFile[] {
  let dir = runsDir(outDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    dir = outDir;
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => parseRecordFile(join(dir, n)));
}

/** The valid records under DIR (readRecordDir's), files that fail validation left out. */
export function readValidRecords(outDir: string): RunRecord[] {
  return readRecordDir(outDir).flatMap((p) => ('record' in p ? [p.record] : []));
}
