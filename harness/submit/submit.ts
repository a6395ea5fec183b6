/**
 * `middlepath submit MODULE`: validate the module (in a child process), run the tier's
 * suite for it (and the dense baseline where this hardware class has none), and write a
 * submission bundle to DIR/submissions/<name>/; with a server, upload it.
 *
 * The suite runs in this process, as `middlepath run --arch` does: this is the
 * submitter's own code on the submitter's own machine. Only a maintainer's `verify` and
 * the site, which receive other people's code, isolate or refuse to run it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BackendChoice } from '../backend.ts';
import { createReporter } from '../report.ts';
import { readRecordDir, readValidRecords } from '../results/files.ts';
import type { RunRecord, TierName } from '../results/record.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { runSuite } from '../suite.ts';
import { TASK_INFOS } from '../tiers.ts';
import { HARNESS_VERSION } from '../version.ts';
import {
  checkBundle,
  foreignImports,
  MAX_MODULE_BYTES,
  type Manifest,
  makeManifest,
  readBundleDir,
  type UploadDocument,
  writeBundleDir,
} from './bundle.ts';
import { formatReport, type ValidateOptions, type ValidationReport, validateModule } from './validate.ts';

export interface SubmitOptions {
  modulePath: string;
  tier: TierName;
  /** seeds per task; default the tier's */
  seeds?: number;
  /** a subset of the tasks the module accepts; default all of them */
  tasks?: string[];
  backend: BackendChoice;
  /** records root: the bundle goes to OUT/submissions/<name>/, dense baseline runs to OUT/runs/ */
  outDir: string;
  /** index runs in the store, and look there for dense runs */
  store: boolean;
  sqlitePath?: string;
  server?: string;
  token?: string;
  json: boolean;
  validate?: Partial<ValidateOptions>;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface SubmitResult {
  exitCode: number;
  validation: ValidationReport | null;
  bundleDir: string | null;
  bundleHash: string | null;
  manifest: Manifest | null;
  upload: { status: number; body: unknown } | null;
  problem: string | null;
}

/** Keep the newest record per run key (a failed run retried later leaves both files). */
function latestPerKey(records: RunRecord[]): RunRecord[] {
  const byKey = new Map<string, RunRecord>();
  for (const r of records) {
    const prev = byKey.get(r.key);
    if (!prev || Date.parse(r.finishedAt) > Date.parse(prev.finishedAt)) byKey.set(r.key, r);
  }
  return [...byKey.values()];
}

/** Completed dense runs for (tier, hardware class), per task, newest first: from the store, else from record files. */
async function denseRuns(
  store: Store | undefined,
  outDir: string,
  tier: TierName,
  hardwareClass: string,
): Promise<Map<string, RunRecord[]>> {
  const found: RunRecord[] = [];
  if (store) {
    const rows = await store.runs({ architecture: 'dense', tier, hardwareClass });
    for (const row of rows) {
      if (row.status !== 'completed') continue;
      const r = await store.run(row.id);
      if (r) found.push(r);
    }
  }
  for (const p of readRecordDir(outDir)) {
    if ('record' in p) found.push(p.record);
  }
  const byTask = new Map<string, RunRecord[]>();
  const ids = new Set<string>();
  for (const r of found) {
    if (ids.has(r.id)) continue;
    ids.add(r.id);
    if (r.architecture.name !== 'dense' || r.architecture.origin !== 'baseline' || r.status !== 'completed') continue;
    if (r.task.tier !== tier || r.hardwareClass !== hardwareClass || r.task.variantSeed !== null) continue;
    byTask.set(r.task.id, [...(byTask.get(r.task.id) ?? []), r]);
  }
  for (const list of byTask.values()) list.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  return byTask;
}

export async function submit(o: SubmitOptions): Promise<SubmitResult> {
  const result: SubmitResult = {
    exitCode: 1,
    validation: null,
    bundleDir: null,
    bundleHash: null,
    manifest: null,
    upload: null,
    problem: null,
  };
  const stop = (problem: string, exitCode = 1) => {
    result.problem = problem;
    result.exitCode = exitCode;
    o.log(`✗ ${problem}`);
    return result;
  };

  if (!existsSync(o.modulePath)) return stop(`no such module: ${o.modulePath}`, 2);
  const source = readFileSync(o.modulePath, 'utf8');
  if (Buffer.byteLength(source, 'utf8') > MAX_MODULE_BYTES)
    return stop(`the module is over ${MAX_MODULE_BYTES / 1024} KB; a submission is one module of reasonable size`);
  o.log(`validating ${o.modulePath} at the ${o.tier} tier (in a child process)…`);
  const validation = await validateModule(o.modulePath, {
    tier: o.tier,
    backend: o.backend,
    // the pace check's baselines: the runs recorded under the records root
    baselines: readValidRecords(o.outDir).filter((r) => r.architecture.origin === 'baseline'),
    ...o.validate,
    onProgress: o.log,
  });
  result.validation = validation;
  for (const line of formatReport(validation)) o.log(line);
  if (!validation.ok || !validation.architecture) return stop('validation failed: nothing was run, written or uploaded');
  // A bundle carries one file: whatever else the module imports would be missing where it is verified.
  const foreign = foreignImports(source);
  if (foreign.length) {
    return stop(
      `[self-contained] ${o.modulePath} imports ${foreign.join(', ')}; a submission is one module that imports only 'middlepath' and '@tensorflow/tfjs' — inline the rest`,
    );
  }
  const arch = validation.architecture;

  const accepted = validation.passed.map((p) => p.task);
  for (const t of o.tasks ?? []) {
    if (!accepted.includes(t))
      return stop(
        `--task ${t}: the module ${validation.refused.some((r) => r.task === t) ? 'refuses it' : 'does not pass on it, or it is not a task'}`,
        2,
      );
  }
  const tasks = o.tasks?.length ? accepted.filter((t) => o.tasks?.includes(t)) : accepted;
  const bundleDir = join(o.outDir, 'submissions', arch.name);
  result.bundleDir = bundleDir;

  // Runs of an earlier version of the module, another tier or harness, and baseline copies
  // are superseded (the copies are made afresh below); files that do not parse are left alone.
  if (existsSync(join(bundleDir, 'runs'))) {
    for (const p of readRecordDir(bundleDir)) {
      if (!('record' in p)) continue;
      const r = p.record;
      const current =
        r.architecture.name === arch.name &&
        r.architecture.sourceHash === arch.sourceHash &&
        r.task.tier === o.tier &&
        r.harnessVersion === HARNESS_VERSION &&
        r.task.variantSeed === null;
      if (!current) rmSync(p.path);
    }
  }
  const seeds = o.seeds ?? TASK_INFOS[0]?.tiers[o.tier].seeds ?? 1;

  let store: Store | undefined;
  if (o.store) {
    try {
      store = await openStore(o.sqlitePath !== undefined ? { sqlitePath: o.sqlitePath } : {});
    } catch (e) {
      o.log(`warning: the store could not be opened (${(e as Error).message}); dense runs are looked for in ${o.outDir}/runs only`);
    }
  }
  // Runs `middlepath run --arch MODULE` already recorded in OUT/runs (same module source, tier,
  // harness, confined as submit runs it) are this submission's runs too: copied into the bundle
  // folder, where the suite below finds them and skips them, so nothing is trained twice.
  const reused = reuseRunRecords(o.outDir, bundleDir, { name: arch.name, sourceHash: arch.sourceHash, tier: o.tier, tasks, seeds });
  if (reused.length) {
    o.log(
      `reusing ${reused.length} run(s) that \`middlepath run\` recorded in ${join(o.outDir, 'runs')}: ${reused.map((r) => r.file).join(', ')}`,
    );
    // `run` indexed them as local runs: they are this submission's now, one row each (not a local and a submitted one)
    for (const { record } of reused)
      await store
        ?.ingest(record, { provenance: 'submitted' })
        .catch((e: Error) => o.log(`warning: ${record.id} not re-indexed as submitted: ${e.message}`));
  }
  const reporter = createReporter({ json: o.json });
  const onRecord = store
    ? async (record: RunRecord) => {
        // the module's runs are its submitter's word until verify re-runs them; dense run here is a local run
        const provenance = record.architecture.origin === 'baseline' ? 'local' : 'submitted';
        await store
          ?.ingest(record, { provenance })
          .catch((e: Error) => o.log(`warning: ${record.id} not indexed in the store: ${e.message}`));
      }
    : undefined;
  try {
    o.log(`running ${arch.name} on ${tasks.join(', ')} at the ${o.tier} tier…`);
    const own = await runSuite({
      tier: o.tier,
      tasks,
      archs: [o.modulePath],
      seeds,
      backend: o.backend,
      // the module runs confined (harness/confined), and so does the dense baseline it is compared with: same backend, same class
      confine: true,
      outDir: bundleDir,
      signal: o.signal,
      onEvent: reporter.event,
      onRecord,
    });
    if (own.interrupted) return stop('interrupted: finished runs are kept in the bundle folder; run submit again to go on', 130);
    if (own.loadErrors.length) return stop(own.loadErrors.map((e) => e.message).join('; '));

    // this submission's runs: seeds beyond --seeds, left by an earlier submit, are not part of it
    const mine = latestPerKey(
      readRecordDir(bundleDir).flatMap((p) => ('record' in p && p.record.architecture.sourceHash === arch.sourceHash ? [p.record] : [])),
    ).filter((r) => tasks.includes(r.task.id) && r.task.seed < seeds);
    const first = mine[0];
    if (!first) return stop('no runs were recorded');
    const { hardwareClass } = first;

    // The comparison needs dense on the module's own hardware class, seed for seed. Records of
    // dense on another class (e.g. wasm+blas from `npm start`) share the run key, so the suite
    // would skip them: the missing seeds are run forced. A bundle is never written without them.
    let dense = await denseRuns(store, o.outDir, o.tier, hardwareClass);
    const seedList = Array.from({ length: seeds }, (_, i) => i);
    const missingSeeds = (t: string) => seedList.filter((seed) => !dense.get(t)?.some((r) => r.task.seed === seed));
    const missing = tasks.filter((t) => missingSeeds(t).length > 0);
    if (missing.length) {
      o.log(
        `no completed dense runs for ${missing.map((t) => (missingSeeds(t).length === seeds ? t : `${t} (seed ${missingSeeds(t).join(', ')})`)).join(', ')} on '${hardwareClass}' at the ${o.tier} tier: running the dense baseline there…`,
      );
      for (const t of missing) {
        const base = await runSuite({
          tier: o.tier,
          tasks: [t],
          archs: ['dense'],
          seedList: missingSeeds(t),
          force: true,
          backend: o.backend,
          confine: true,
          outDir: o.outDir,
          signal: o.signal,
          onEvent: reporter.event,
          onRecord,
        });
        if (base.interrupted) return stop('interrupted while running the dense baseline; run submit again to go on', 130);
      }
      dense = await denseRuns(store, o.outDir, o.tier, hardwareClass);
    }
    const stillMissing = tasks.flatMap((t) => missingSeeds(t).map((seed) => `${t} seed ${seed}`));
    if (stillMissing.length) {
      return stop(
        `no completed dense run on '${hardwareClass}' for ${stillMissing.join(', ')} (the dense baseline's output is above): a bundle without its dense comparison is not written; fix what stopped it and run submit again (your runs are kept in ${bundleDir})`,
      );
    }
    // newest completed dense run per task and seed, in the module's own class
    const baselines = tasks.flatMap((t) => seedList.map((seed) => (dense.get(t) ?? []).find((r) => r.task.seed === seed) as RunRecord));

    const manifest = makeManifest({
      source,
      originalName: basename(o.modulePath),
      tier: o.tier,
      seeds,
      tasks,
      own: mine,
      baselines,
      validation: {
        seconds: Number(validation.seconds.toFixed(2)),
        backend: validation.backend,
        passed: validation.passed.map((p) => ({ task: p.task, params: p.params })),
        refused: validation.refused,
      },
    });
    // the module as validated and run: its hash is the records' source hash
    const hash = writeBundleDir(bundleDir, { manifest, source, records: [...mine, ...baselines] });
    // The same check the server makes: a bundle this command writes must pass it.
    const check = checkBundle(readBundleDir(bundleDir));
    if (!check.ok) throw new Error(`the bundle just written fails its own check: ${check.reason}`);
    result.bundleHash = hash;
    result.manifest = manifest;
    o.log(`bundle written to ${bundleDir} (hash ${hash})`);
    for (const c of manifest.claim) {
      const f = (x: number | null) => (x === null ? '—' : formatMetric(x, c.metric));
      const figure = c.mean === null ? 'no completed run' : `${f(c.mean)} [${f(c.lo)}, ${f(c.hi)}]`;
      o.log(`  ${c.task.padEnd(14)} ${c.metric.name}: ${figure} over ${c.values.length}/${c.runs} run(s)`);
    }
    const incomplete = mine.filter((r) => r.status !== 'completed');
    for (const r of incomplete) o.log(`  ! ${r.task.id} seed ${r.task.seed}: ${r.status} — ${r.failure?.message ?? ''}`);

    if (o.server) {
      const upload = await uploadBundle(o.server, o.token ?? '', readBundleDir(bundleDir));
      result.upload = upload;
      const ok = upload.status >= 200 && upload.status < 300;
      o.log(`${ok ? 'uploaded' : 'upload refused'}: HTTP ${upload.status} ${JSON.stringify(upload.body)}`);
      if (!ok) return stop(`the server refused the bundle (HTTP ${upload.status})`);
    }
    result.exitCode = incomplete.length ? 1 : 0;
    return result;
  } finally {
    reporter.stop();
    await store?.close();
  }
}

/** A claimed figure as the site prints it: accuracy as a percentage, others with their unit. */
export function formatMetric(value: number, metric: { name: string; unit?: string | undefined }): string {
  if (metric.name === 'accuracy') return `${(100 * value).toFixed(2)}%`;
  return `${value.toPrecision(4)}${metric.unit ? ` ${metric.unit}` : ''}`;
}

/**
 * Copy into BUNDLE/runs the records in OUT/runs of this module (same name and source hash, tier,
 * harness version, the tasks and seeds submitted, no variant data) that ran confined, as submit
 * runs it, and settled (a failed run is run again). Returns the copied files' names and records.
 */
export function reuseRunRecords(
  outDir: string,
  bundleDir: string,
  m: { name: string; sourceHash: string; tier: TierName; tasks: readonly string[]; seeds: number },
): Array<{ file: string; record: RunRecord }> {
  const have = new Set(
    existsSync(join(bundleDir, 'runs')) ? readRecordDir(bundleDir).flatMap((p) => ('record' in p ? [p.record.key] : [])) : [],
  );
  const copied: Array<{ file: string; record: RunRecord }> = [];
  for (const p of readRecordDir(outDir)) {
    if (!('record' in p)) continue;
    const r = p.record;
    const same =
      r.architecture.name === m.name &&
      r.architecture.sourceHash === m.sourceHash &&
      r.task.tier === m.tier &&
      r.harnessVersion === HARNESS_VERSION &&
      r.task.variantSeed === null &&
      m.tasks.includes(r.task.id) &&
      r.task.seed < m.seeds &&
      r.training.confined === true &&
      r.status !== 'failed';
    if (!same || have.has(r.key)) continue;
    mkdirSync(join(bundleDir, 'runs'), { recursive: true });
    copyFileSync(p.path, join(bundleDir, 'runs', basename(p.path)));
    have.add(r.key);
    copied.push({ file: basename(p.path), record: r });
  }
  return copied;
}

/** POST a bundle to SERVER/api/submissions with the upload token. */
export async function uploadBundle(server: string, token: string, doc: UploadDocument): Promise<{ status: number; body: unknown }> {
  const url = `${server.replace(/\/+$/, '')}/api/submissions`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(doc),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** Every bundle under OUT/submissions (for listing). */
export function bundleDirs(outDir: string): string[] {
  const root = join(outDir, 'submissions');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'manifest.json')))
    .map((d) => join(root, d.name));
}
