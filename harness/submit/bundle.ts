/**
 * The submission bundle: what `middlepath submit` writes to results/submissions/<name>/
 * and uploads, and what the server and `verify` check. Free of tfjs, so the site's upload
 * route can import it.
 *
 *   manifest.json       this file's schema (manifest), zod-validated, strict
 *   module.ts           the module's source, byte for byte
 *   fingerprint.json    the machine the runs ran on
 *   runs/<id>.json      the run records: the submission's, and the dense baseline's on the same hardware class
 *   bundle-hash.txt     SHA-256 of canonical JSON {manifest, records: [content hashes]}
 *
 * The upload is one JSON document: { bundleHash, manifest, module: { source }, records }.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson, contentHashOf, sha256, writeFileAtomic } from '../results/files.ts';
import { family, fingerprint, qualityMetric, type RunRecord, runRecord, runStatus, tierName } from '../results/record.ts';
import { meanInterval } from '../store/stats.ts';

export const BUNDLE_VERSION = 1;
/** an upload's body may not exceed this (the route answers 413) */
export const MAX_UPLOAD_BYTES = 5 * 2 ** 20;
export const MAX_MODULE_BYTES = 512 * 1024;
export const MAX_RECORDS = 400;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (SHA-256)');
const recordId = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,199}$/, 'must be a run id (lower-case letters, digits, dots and dashes)');
const shortText = (max: number) => z.string().max(max);

export const archName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes (at most 63)');

export const manifestRecord = z
  .object({
    /** runs/<id>.json: no other path can be named, so reading a bundle never leaves its folder */
    file: z.string().regex(/^runs\/[a-z0-9][a-z0-9.-]{0,199}\.json$/),
    id: recordId,
    contentHash: hex64,
    role: z.enum(['submission', 'baseline']),
    task: shortText(40),
    seed: z.number().int().min(0).max(1000),
    status: runStatus,
  })
  .strict();
export type ManifestRecord = z.infer<typeof manifestRecord>;

/** The claim for one task: the final quality of each completed submission run, and their 95% interval. */
export const claimEntry = z
  .object({
    task: shortText(40),
    metric: qualityMetric,
    runs: z.number().int().min(1),
    /** per completed run, in seed order */
    seeds: z.array(z.number().int().min(0)),
    values: z.array(z.number().finite()),
    /** mean and 95% Student-t interval over the completed runs; null when none completed */
    mean: z.number().finite().nullable(),
    lo: z.number().finite().nullable(),
    hi: z.number().finite().nullable(),
  })
  .strict();
export type ClaimEntry = z.infer<typeof claimEntry>;

export const manifest = z
  .object({
    bundleVersion: z.literal(BUNDLE_VERSION),
    name: archName,
    family,
    description: shortText(500),
    reference: shortText(300).nullable(),
    tier: tierName,
    seeds: z.number().int().min(1).max(20),
    tasks: z.array(shortText(40)).min(1).max(20),
    harnessVersion: shortText(40),
    hardwareClass: shortText(200),
    module: z
      .object({
        file: z.literal('module.ts'),
        /** the file name it was submitted under, for people */
        originalName: z.string().regex(/^[^/\\]{1,200}$/),
        sha256: hex64,
        bytes: z.number().int().min(1).max(MAX_MODULE_BYTES),
      })
      .strict(),
    fingerprint,
    validation: z
      .object({
        seconds: z.number().finite().nonnegative(),
        backend: shortText(40).nullable(),
        passed: z.array(
          z.object({ task: shortText(40), params: z.object({ total: z.number().int(), active: z.number().int() }).strict() }).strict(),
        ),
        refused: z.array(z.object({ task: shortText(40), reason: shortText(500) }).strict()),
      })
      .strict(),
    records: z.array(manifestRecord).min(1).max(MAX_RECORDS),
    claim: z.array(claimEntry).min(1).max(20),
    createdAt: z.iso.datetime(),
  })
  .strict();
export type Manifest = z.infer<typeof manifest>;

/** The upload document; records are checked one by one against the record schema after this. */
export const uploadDocument = z
  .object({
    bundleHash: hex64,
    manifest: z.unknown(),
    module: z.object({ source: z.string().min(1).max(MAX_MODULE_BYTES) }).strict(),
    records: z.array(z.unknown()).min(1).max(MAX_RECORDS),
  })
  .strict();

export interface Bundle {
  bundleHash: string;
  manifest: Manifest;
  source: string;
  records: RunRecord[];
}

export function bundleHashOf(m: Manifest): string {
  return sha256(canonicalJson({ manifest: m, records: m.records.map((r) => r.contentHash) }));
}

/** The claim per task, from the submission's own records (completed runs only). */
export function claimOf(records: readonly RunRecord[], tasks: readonly string[]): ClaimEntry[] {
  return tasks.map((task) => {
    const runs = records.filter((r) => r.task.id === task).sort((a, b) => a.task.seed - b.task.seed);
    const done = runs.filter((r) => r.status === 'completed' && r.final !== null);
    const values = done.map((r) => r.final?.quality as number);
    const interval = values.length ? meanInterval(values) : null;
    const metric = runs[0]?.task.metric ?? { name: 'unknown', unit: '', higherIsBetter: true };
    return {
      task,
      metric,
      runs: runs.length,
      seeds: done.map((r) => r.task.seed),
      values,
      mean: interval?.mean ?? null,
      lo: interval?.lo ?? null,
      hi: interval?.hi ?? null,
    };
  });
}

export type UploadDocument = { bundleHash: string; manifest: unknown; module: { source: string }; records: unknown[] };

/**
 * The manifest of a submission: the submission's runs (`own`, one per task and seed) and
 * the dense baseline's on the same hardware class, in task then seed order.
 */
export function makeManifest(a: {
  source: string;
  originalName: string;
  tier: Manifest['tier'];
  seeds: number;
  tasks: string[];
  own: readonly RunRecord[];
  baselines: readonly RunRecord[];
  validation: Manifest['validation'];
  createdAt?: string;
}): Manifest {
  const order = (x: RunRecord, y: RunRecord) => a.tasks.indexOf(x.task.id) - a.tasks.indexOf(y.task.id) || x.task.seed - y.task.seed;
  const own = [...a.own].sort(order);
  const baselines = [...a.baselines].sort(order);
  const first = own[0];
  if (!first) throw new Error('a submission needs at least one run');
  const entry = (role: 'submission' | 'baseline') => (r: RunRecord) => ({
    file: `runs/${r.id}.json`,
    id: r.id,
    contentHash: r.contentHash,
    role,
    task: r.task.id,
    seed: r.task.seed,
    status: r.status,
  });
  return {
    bundleVersion: BUNDLE_VERSION,
    name: first.architecture.name,
    family: first.architecture.family,
    description: first.architecture.description,
    reference: first.architecture.reference,
    tier: a.tier,
    seeds: a.seeds,
    tasks: a.tasks,
    harnessVersion: first.harnessVersion,
    hardwareClass: first.hardwareClass,
    module: { file: 'module.ts', originalName: a.originalName, sha256: sha256(a.source), bytes: Buffer.byteLength(a.source, 'utf8') },
    fingerprint: first.fingerprint,
    validation: a.validation,
    records: [...own.map(entry('submission')), ...baselines.map(entry('baseline'))],
    claim: claimOf(own, a.tasks),
    createdAt: a.createdAt ?? new Date().toISOString(),
  };
}

/** The upload document for a manifest, its module source and its records (in the manifest's order). */
export function uploadDocumentOf(m: Manifest, source: string, records: readonly RunRecord[]): UploadDocument {
  const byId = new Map(records.map((r) => [r.id, r]));
  return {
    bundleHash: bundleHashOf(m),
    manifest: m,
    module: { source },
    records: m.records.map((e) => {
      const r = byId.get(e.id);
      if (!r) throw new Error(`record ${e.id} is listed in the manifest but not given`);
      return r;
    }),
  };
}

/** Imports a submission may make: the API and tfjs, which the harness resolves to its own copies. */
export function foreignImports(source: string): string[] {
  const specifiers = new Set<string>();
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const p of patterns) for (const m of source.matchAll(p)) if (m[1]) specifiers.add(m[1]);
  return [...specifiers].filter((s) => s !== 'middlepath' && !/^@tensorflow\/tfjs(-core|-layers)?(\/.*)?$/.test(s));
}

export type CheckResult = { ok: true; bundle: Bundle } | { ok: false; reason: string };

const issues = (e: z.ZodError) =>
  e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

const close = (a: number | null, b: number | null) =>
  a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Check an upload document all the way through: shape, every record against the record
 * schema (which rejects figures that contradict each other) and its content hash, the
 * manifest against the records, the module against its hash, the claim against the
 * records, and the bundle hash. The reason names the first problem found.
 */
export function checkBundle(input: unknown): CheckResult {
  const doc = uploadDocument.safeParse(input);
  if (!doc.success) return { ok: false, reason: `the upload is malformed: ${issues(doc.error)}` };
  const m = manifest.safeParse(doc.data.manifest);
  if (!m.success) return { ok: false, reason: `the manifest is malformed: ${issues(m.error)}` };
  const man = m.data;
  const source = doc.data.module.source;
  if (doc.data.records.length !== man.records.length) {
    return { ok: false, reason: `the manifest lists ${man.records.length} records but ${doc.data.records.length} were sent` };
  }
  const records: RunRecord[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of doc.data.records.entries()) {
    const entry = man.records[i] as ManifestRecord;
    const parsed = runRecord.safeParse(raw);
    if (!parsed.success)
      return { ok: false, reason: `record ${i} (${entry.id}) does not match the run record schema: ${issues(parsed.error)}` };
    const r = parsed.data;
    const hash = contentHashOf(r);
    if (hash !== r.contentHash)
      return {
        ok: false,
        reason: `record ${i} (${r.id}): its contentHash does not match its content — it was edited after it was written`,
      };
    if (r.id !== entry.id || r.contentHash !== entry.contentHash || entry.file !== `runs/${r.id}.json`) {
      return { ok: false, reason: `record ${i} (${r.id}) is not the one the manifest lists at that place (${entry.id})` };
    }
    if (r.task.id !== entry.task || r.task.seed !== entry.seed || r.status !== entry.status) {
      return {
        ok: false,
        reason: `record ${i} (${r.id}): the manifest says ${entry.task} seed ${entry.seed} ${entry.status}, the record ${r.task.id} seed ${r.task.seed} ${r.status}`,
      };
    }
    if (seen.has(r.id)) return { ok: false, reason: `record ${r.id} is listed twice` };
    seen.add(r.id);
    if (r.task.tier !== man.tier)
      return { ok: false, reason: `record ${r.id} ran at the ${r.task.tier} tier; the submission is for ${man.tier}` };
    if (r.task.variantSeed !== null)
      return { ok: false, reason: `record ${r.id} ran on a held-out variant; a submission's runs use the public data` };
    if (r.hardwareClass !== man.hardwareClass)
      return {
        ok: false,
        reason: `record ${r.id} ran on '${r.hardwareClass}', not on the submission's hardware class '${man.hardwareClass}'`,
      };
    if (!man.tasks.includes(r.task.id))
      return { ok: false, reason: `record ${r.id} is for task '${r.task.id}', which the manifest does not list` };
    if (entry.role === 'submission') {
      if (r.architecture.name !== man.name)
        return { ok: false, reason: `record ${r.id} is of '${r.architecture.name}', not '${man.name}'` };
      if (r.architecture.sourceHash !== man.module.sha256)
        return {
          ok: false,
          reason: `record ${r.id} ran another version of the module (source hash ${r.architecture.sourceHash.slice(0, 12)}…)`,
        };
      if (r.architecture.family !== man.family)
        return { ok: false, reason: `record ${r.id} says family '${r.architecture.family}', the manifest '${man.family}'` };
      if (r.harnessVersion !== man.harnessVersion)
        return { ok: false, reason: `record ${r.id} was made by harness ${r.harnessVersion}, the manifest says ${man.harnessVersion}` };
    } else if (r.architecture.origin !== 'baseline') {
      return { ok: false, reason: `record ${r.id} is listed as a baseline but ran '${r.architecture.origin}'` };
    }
    records.push(r);
  }
  const own = records.filter((_, i) => man.records[i]?.role === 'submission');
  for (const task of man.tasks) {
    const n = own.filter((r) => r.task.id === task).length;
    if (n !== man.seeds) return { ok: false, reason: `task '${task}' has ${n} submission runs; the manifest says ${man.seeds} seeds` };
  }
  if (Buffer.byteLength(source, 'utf8') !== man.module.bytes || sha256(source) !== man.module.sha256) {
    return { ok: false, reason: 'the module source does not match the manifest (size or SHA-256)' };
  }
  const foreign = foreignImports(source);
  if (foreign.length)
    return {
      ok: false,
      reason: `the module imports ${foreign.join(', ')}; a submission may import only 'middlepath' and '@tensorflow/tfjs'`,
    };
  const claim = claimOf(own, man.tasks);
  for (const [i, c] of claim.entries()) {
    const said = man.claim[i];
    if (
      !said ||
      said.task !== c.task ||
      said.runs !== c.runs ||
      canonicalJson(said.seeds) !== canonicalJson(c.seeds) ||
      canonicalJson(said.metric) !== canonicalJson(c.metric) ||
      said.values.length !== c.values.length ||
      said.values.some((v, j) => !close(v, c.values[j] ?? null)) ||
      !close(said.mean, c.mean) ||
      !close(said.lo, c.lo) ||
      !close(said.hi, c.hi)
    ) {
      return {
        ok: false,
        reason: `the claim for '${c.task}' does not follow from its records (the records say mean ${c.mean} over ${c.values.length} completed run(s))`,
      };
    }
  }
  if (man.claim.length !== claim.length) return { ok: false, reason: 'the claim lists tasks the manifest does not' };
  const expected = bundleHashOf(man);
  if (doc.data.bundleHash !== expected)
    return { ok: false, reason: `the bundle hash does not match the manifest and records (expected ${expected.slice(0, 12)}…)` };
  return { ok: true, bundle: { bundleHash: expected, manifest: man, source, records } };
}

/** The upload document of a bundle folder (not yet checked: pass it to checkBundle). */
export function readBundleDir(dir: string): UploadDocument {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${dir} is not a submission bundle: it has no manifest.json`);
  const raw: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const m = manifest.safeParse(raw);
  if (!m.success) throw new Error(`${manifestPath} is malformed: ${issues(m.error)}`);
  const records = m.data.records.map((r) => JSON.parse(readFileSync(join(dir, r.file), 'utf8')) as unknown);
  return {
    bundleHash: bundleHashOf(m.data),
    manifest: m.data,
    module: { source: readFileSync(join(dir, m.data.module.file), 'utf8') },
    records,
  };
}

/** Write a bundle folder; returns the bundle hash. Record files are written atomically. */
export function writeBundleDir(dir: string, b: { manifest: Manifest; source: string; records: readonly RunRecord[] }): string {
  mkdirSync(join(dir, 'runs'), { recursive: true });
  writeFileAtomic(join(dir, 'module.ts'), b.source);
  writeFileAtomic(join(dir, 'fingerprint.json'), `${JSON.stringify(b.manifest.fingerprint, null, 2)}\n`);
  for (const r of b.records) {
    const path = join(dir, 'runs', `${r.id}.json`);
    if (!existsSync(path)) writeFileAtomic(path, `${JSON.stringify(r, null, 2)}\n`);
  }
  const hash = bundleHashOf(b.manifest);
  writeFileAtomic(join(dir, 'manifest.json'), `${JSON.stringify(b.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'bundle-hash.txt'), `${hash}\n`);
  return hash;
}
