/**
 * `middlepath verify SUBMISSION` (maintainer): re-run a submission's module on the same
 * tier, tasks and seeds — in a child process (`middlepath run`) under a wall-clock limit,
 * a V8 heap cap and a resident-memory cap — and compare each re-run's final quality with
 * the claim, and its parameters, executed FLOPs, steps and time per step with the bundle's
 * record of the same seed (VERIFY_TOLERANCES), and each re-run's seconds per counted FLOP
 * with the store's baselines of its hardware class (uncounted compute rejects; see
 * harness/measure/uncounted.ts). A verified submission's re-runs, never the bundle's
 * records, are what enters the store.
 *
 * The acceptance interval for a task (documented in the README):
 * - n ≥ 2 claimed seeds: the claim's 95% Student-t interval of the mean, widened to at
 *   least ±1% of |mean| — seeds that agree closely give a very narrow interval, and a
 *   re-run on another machine of the same class differs by rounding;
 * - n = 1: one seed says nothing about spread, so ±5% of |value|.
 * Verified when every re-run completed and lies within its task's interval; otherwise
 * rejected, with the reasons. Same seed, same backend reproduces a run exactly, so an
 * honest submission re-run on public data lands on its own values.
 *
 * With a variant seed the tasks' data are regenerated from it, and only a re-run *worse*
 * than the interval's bad end rejects: an architecture tuned to the public data shows it by
 * doing worse on fresh data, while doing better proves nothing against it. The seed is not
 * stored (only a short hash of it). The last verify of a submission sets its status.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendChoice } from '../backend.ts';
import { uncountedComputeVerdict } from '../measure/uncounted.ts';
import { readRecordDir, readValidRecords, sha256 } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { DEFAULT_SQLITE_PATH, openStore } from '../store/index.ts';
import { tQuantile975 } from '../store/stats.ts';
import { limitsFor, TASK_INFOS } from '../tiers.ts';
import { type Bundle, type CheckResult, checkBundle, readBundleDir } from './bundle.ts';
import { MIDDLEPATH_BIN, supervise } from './child.ts';
import { openSubmissionDb, type SubmissionDb, type Verification } from './db.ts';

/**
 * How far a re-run may differ from the bundle's record of the same seed, in one place.
 * Quality is compared against the claim's interval (below); cost and size against the
 * record the submitter sent, so an edited bundle (re-hashed or not) cannot claim less
 * compute, fewer parameters or faster steps than its module really takes.
 */
export const VERIFY_TOLERANCES = {
  /** parameters are counted by the harness from the model's variables: exact */
  params: 0,
  /** executed FLOPs and steps: the budget stops a run within one step of the same total */
  executedFlopsRelative: 0.02,
  stepsRelative: 0.02,
  /**
   * seconds per step after the first (which holds set-up), only on the same hardware class:
   * load on a shared machine slows a re-run, but a claim 3× faster than it is not load
   */
  secondsPerStepFactor: 3,
} as const;

/** Where a re-run's cost or size contradicts the bundle's record of the same seed (empty: none). */
export function costMismatches(claimed: RunRecord, rerun: RunRecord): string[] {
  const out: string[] = [];
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  if (claimed.params.total !== rerun.params.total || claimed.params.active !== rerun.params.active)
    out.push(
      `parameters ${claimed.params.total} total / ${claimed.params.active} active claimed, ${rerun.params.total} / ${rerun.params.active} re-run`,
    );
  if (rel(claimed.flops.executed, rerun.flops.executed) > VERIFY_TOLERANCES.executedFlopsRelative)
    out.push(`executed FLOPs ${claimed.flops.executed.toExponential(4)} claimed, ${rerun.flops.executed.toExponential(4)} re-run`);
  if (rel(claimed.training.steps, rerun.training.steps) > VERIFY_TOLERANCES.stepsRelative)
    out.push(`${claimed.training.steps} steps claimed, ${rerun.training.steps} re-run`);
  if (claimed.hardwareClass === rerun.hardwareClass && claimed.training.steps > 1 && rerun.training.steps > 1) {
    const perStep = (x: RunRecord) => (x.training.wallSeconds - x.training.firstStepSeconds) / (x.training.steps - 1);
    const c = perStep(claimed);
    const r = perStep(rerun);
    if (r > c * VERIFY_TOLERANCES.secondsPerStepFactor)
      out.push(`${(c * 1000).toPrecision(3)} ms a step claimed, ${(r * 1000).toPrecision(3)} ms re-run on the same hardware class`);
  }
  return out;
}

export const MIN_RELATIVE_HALF_WIDTH = 0.01;
export const SINGLE_SEED_RELATIVE_HALF_WIDTH = 0.05;

/** The interval a re-run's quality must lie in, from the claimed values of one task. */
export function acceptanceInterval(values: readonly number[]): { lo: number; hi: number; basis: string } | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const floor = (rel: number) => Math.max(rel * Math.abs(mean), 1e-12);
  if (n === 1) {
    const half = floor(SINGLE_SEED_RELATIVE_HALF_WIDTH);
    return { lo: mean - half, hi: mean + half, basis: `one seed: ±${SINGLE_SEED_RELATIVE_HALF_WIDTH * 100}% of the value` };
  }
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const t = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  const half = Math.max(t, floor(MIN_RELATIVE_HALF_WIDTH));
  return {
    lo: mean - half,
    hi: mean + half,
    basis:
      half > t
        ? `95% t-interval over ${n} seeds, widened to ±${MIN_RELATIVE_HALF_WIDTH * 100}% of the mean`
        : `95% t-interval over ${n} seeds`,
  };
}

export interface VerifyOptions {
  /** a bundle folder, or a submission id or bundle hash in the store */
  target: string;
  variantSeed: number | null;
  sqlitePath?: string;
  backend: BackendChoice;
  /** for the whole re-run; default the sum of the tier's per-run limits plus a minute per run */
  timeLimitSeconds?: number;
  /** ingest the bundle's records into the store when verified (on the leaderboard from then on) */
  ingest: boolean;
  /** the maintainer has read the module and accepts a re-run flagged as slow per counted FLOP (never readback compute) */
  acceptSlow?: boolean;
  log: (line: string) => void;
}

export interface VerifyResult {
  status: 'verified' | 'rejected';
  reason: string;
  submissionId: string | null;
  verification: Verification | null;
}

function compare(
  bundle: Bundle,
  reruns: RunRecord[],
  meta: { variantSeed: number | null; seconds: number; flagReasons: readonly string[] },
): { reasons: string[]; verification: Verification } {
  const own = bundle.records.filter((_, i) => bundle.manifest.records[i]?.role === 'submission');
  const reasons: string[] = [];
  const variant = meta.variantSeed !== null;
  const where = variant ? ' on a held-out variant of the data' : '';
  const tasks: Verification['tasks'] = [];
  for (const claim of bundle.manifest.claim) {
    const accept = acceptanceInterval(claim.values);
    const rows: Verification['tasks'][number]['reruns'] = [];
    for (const seed of own.filter((r) => r.task.id === claim.task).map((r) => r.task.seed)) {
      const r = reruns.find((x) => x.task.id === claim.task && x.task.seed === seed);
      if (!r) {
        reasons.push(`${claim.task} seed ${seed}: no re-run record`);
        rows.push({ seed, status: 'missing', quality: null, within: false });
        continue;
      }
      const q = r.status === 'completed' ? (r.final?.quality ?? null) : null;
      const claimed = own.find((x) => x.task.id === claim.task && x.task.seed === seed);
      // on a variant the data differ, so only the size is the submitter's to match
      const mismatches = claimed && r.status === 'completed' ? costMismatches(claimed, r) : [];
      for (const m of variant ? mismatches.filter((x) => x.startsWith('parameters')) : mismatches)
        reasons.push(`${claim.task} seed ${seed}: the bundle's record does not match its re-run: ${m}`);
      // on a variant only worse counts: doing better on fresh data is not a sign of tuning to the public data
      const worse = q !== null && accept !== null && (claim.metric.higherIsBetter ? q < accept.lo : q > accept.hi);
      const within = q !== null && accept !== null && (variant ? !worse : q >= accept.lo && q <= accept.hi);
      rows.push({ seed, status: r.status, quality: q, within });
      if (r.status !== 'completed') reasons.push(`${claim.task} seed ${seed}: the re-run ${r.status}${where}: ${r.failure?.message ?? ''}`);
      else if (!accept) reasons.push(`${claim.task} seed ${seed}: the claim has no completed run to compare with`);
      else if (!within) {
        const bound = variant ? `worse than the claim's ${claim.metric.higherIsBetter ? 'lower' : 'upper'} end` : 'outside';
        reasons.push(
          `${claim.task} seed ${seed}: re-run ${claim.metric.name} ${q}${where} is ${bound} [${accept.lo.toPrecision(4)}, ${accept.hi.toPrecision(4)}] (claimed mean ${claim.mean?.toPrecision(4)} over ${claim.values.length} seed(s); ${accept.basis})`,
        );
      }
    }
    tasks.push({ task: claim.task, claim: { mean: claim.mean, n: claim.values.length }, accept, reruns: rows });
  }
  reasons.push(...meta.flagReasons);
  const first = reruns[0];
  return {
    reasons,
    verification: {
      verifiedAt: new Date().toISOString(),
      status: reasons.length ? 'rejected' : 'verified',
      variant,
      variantTag: variant ? sha256(String(meta.variantSeed)).slice(0, 12) : null,
      backend: first?.backend.name ?? null,
      hardwareClass: first?.hardwareClass ?? null,
      seconds: meta.seconds,
      tasks,
    },
  };
}

/** Same task, tier and hardware class: the slice a re-run is compared within. */
const sameSlice = (a: RunRecord, b: RunRecord) =>
  a.task.id === b.task.id && a.task.tier === b.task.tier && a.hardwareClass === b.hardwareClass;

/** The store's baseline runs of each (task, tier, hardware class) the re-runs cover; none without a store. */
async function storedBaselines(reruns: readonly RunRecord[], storeOptions: { sqlitePath?: string } | null): Promise<RunRecord[]> {
  if (!storeOptions) return [];
  const slices = new Map(reruns.map((r) => [`${r.task.id}|${r.task.tier}|${r.hardwareClass}`, r]));
  const store = await openStore(storeOptions);
  try {
    const out: RunRecord[] = [];
    for (const r of slices.values())
      out.push(...(await store.records({ task: r.task.id, tier: r.task.tier, hardwareClass: r.hardwareClass, provenance: ['baseline'] })));
    return out;
  } finally {
    await store.close();
  }
}

export async function verify(o: VerifyOptions): Promise<VerifyResult> {
  const fromDir = existsSync(o.target) && statSync(o.target).isDirectory();
  let db: SubmissionDb | undefined;
  const storeOptions = o.sqlitePath !== undefined ? { sqlitePath: o.sqlitePath } : {};
  try {
    let check: CheckResult;
    let submissionId: string | null = null;
    // no store is created just to look in it
    const haveStore =
      o.sqlitePath === undefined && process.env.DATABASE_URL ? true : existsSync(resolve(o.sqlitePath ?? DEFAULT_SQLITE_PATH));
    if (fromDir) {
      check = checkBundle(readBundleDir(o.target));
      // a bundle folder that was also uploaded: its row gets the verdict too
      if (check.ok && haveStore) {
        db = await openSubmissionDb(storeOptions);
        submissionId = (await db.findByBundleHash(check.bundle.bundleHash))?.id ?? null;
      }
    } else {
      db = await openSubmissionDb(storeOptions);
      const row = await db.getSubmission(o.target);
      if (!row)
        throw new Error(`no submission '${o.target}' in the store (${db.kind}); give a submission id, a bundle hash or a bundle folder`);
      submissionId = row.id;
      check = checkBundle(row.document);
    }
    const finish = async (status: 'verified' | 'rejected', reason: string, verification: Verification | null): Promise<VerifyResult> => {
      if (db && submissionId) await db.setVerdict(submissionId, { status, reason, verification });
      o.log(`${status === 'verified' ? '✓ verified' : '✗ rejected'}${submissionId ? ` (${submissionId})` : ''}: ${reason}`);
      return { status, reason, submissionId, verification };
    };
    if (!check.ok) return await finish('rejected', `the bundle fails its checks: ${check.reason}`, null);
    const bundle = check.bundle;
    const m = bundle.manifest;

    const work = mkdtempSync(join(tmpdir(), 'middlepath-verify-'));
    try {
      const modulePath = join(work, `${m.name}.ts`);
      writeFileSync(modulePath, bundle.source);
      const perRun = TASK_INFOS.filter((t) => m.tasks.includes(t.spec.id)).reduce((s, t) => s + t.tiers[m.tier].timeLimitSeconds + 60, 0);
      const timeLimitSeconds = o.timeLimitSeconds ?? perRun * m.seeds;
      const limits = limitsFor(m.tier);
      /** `middlepath run` of `arch` on the manifest's tier and seeds, in a child process under the limits; records to `out`. */
      const runInChild = (arch: string, tasks: string[], out: string, onStderr: (text: string) => void) => {
        const args = [MIDDLEPATH_BIN, 'run', '--arch', arch, '--tier', m.tier, '--seeds', String(m.seeds), '--task', ...tasks];
        // --confine: the module runs in a confined child; its records are written by the harness process only
        args.push('--out', out, '--no-store', '--force', '--backend', o.backend, '--confine');
        if (o.variantSeed !== null) args.push('--variant-seed', String(o.variantSeed));
        return supervise({ args, cwd: work, heapMB: limits.heapMB, rssLimitMB: limits.rssLimitMB, timeLimitSeconds, onStderr });
      };
      /** Ingest `records` into the store with `provenance`; the store's kind, for the log. */
      const storeAs = async (records: RunRecord[], provenance: 'baseline' | 'verified') => {
        const store = await openStore(storeOptions);
        try {
          for (const r of records) await store.ingest(r, { provenance });
        } finally {
          await store.close();
        }
        return store.kind;
      };
      o.log(
        `re-running ${m.name} (${m.tasks.join(', ')} × ${m.seeds} seed(s), ${m.tier} tier${o.variantSeed !== null ? ', held-out variant' : ''}) in a child process: limits ${timeLimitSeconds} s, ${limits.rssLimitMB} MB…`,
      );
      const exit = await runInChild(modulePath, m.tasks, join(work, 'out'), (text) => {
        for (const line of text.split('\n')) if (/→|FAILED|✗/.test(line)) o.log(`  ${line.trim()}`);
      });
      if (exit.killed) return await finish('rejected', `the re-run was stopped: ${exit.killed.detail}`, null);
      const reruns = readValidRecords(join(work, 'out'));
      if (exit.code !== 0 && exit.code !== 1) {
        const last = exit.stderrTail.trim().split('\n').slice(-2).join(' | ').slice(0, 400);
        return await finish('rejected', `the re-run ended abnormally (${exit.signal ?? `exit code ${exit.code}`}): ${last}`, null);
      }
      // seconds per counted FLOP against the store's baselines of the same hardware class (harness/measure/uncounted.ts)
      const baselines = await storedBaselines(reruns, haveStore ? storeOptions : null);
      const unmatched = [...new Set(reruns.filter((r) => !baselines.some((b) => sameSlice(b, r))).map((r) => r.task.id))];
      if (unmatched.length > 0) {
        // A confined re-run runs on wasm, where a store of published baselines (run with native
        // BLAS) may hold none: the harness runs its dense baseline here, confined on the same
        // backend, so the check is made and the board has the submission's class covered.
        o.log(
          `no baseline runs of ${unmatched.join(', ')} on the re-runs' hardware class: running the dense baseline there (confined, ${m.seeds} seed(s))…`,
        );
        const baseOut = join(work, 'baselines');
        const baseExit = await runInChild('dense', unmatched, baseOut, () => {});
        const fresh = readRecordDir(baseOut).flatMap((p) =>
          'record' in p && p.record.status === 'completed' && reruns.some((r) => sameSlice(p.record, r)) ? [p.record] : [],
        );
        if (baseExit.code !== 0 || baseExit.killed)
          o.log(`  the dense baseline run ended with ${baseExit.killed?.detail ?? `exit code ${baseExit.code}`}`);
        baselines.push(...fresh);
        // harness-run baselines of the leaderboard's data go into the store, for the board and the next verify
        if (fresh.length > 0 && haveStore && o.variantSeed === null)
          o.log(`  ${fresh.length} dense baseline record(s) on that class are now in the store (${await storeAs(fresh, 'baseline')})`);
      }
      const flags = uncountedComputeVerdict(reruns, baselines, o.acceptSlow ?? false);
      for (const note of flags.notes) o.log(`  ${note}`);
      const { reasons, verification } = compare(bundle, reruns, {
        variantSeed: o.variantSeed,
        seconds: exit.seconds,
        flagReasons: flags.reasons,
      });
      const result = reasons.length
        ? await finish('rejected', reasons.join('; '), verification)
        : await finish(
            'verified',
            `every re-run lies within the claim (${verification.tasks.map((t) => `${t.task}: ${t.reruns.map((r) => r.quality?.toPrecision(4)).join(', ')}`).join('; ')})${o.variantSeed !== null ? ' on a held-out variant' : ''}`,
            verification,
          );
      // Only what this verify measured goes into the store: never the bundle's own records
      // (they are the submitter's word), never the baseline records it carries, and not
      // re-runs on a held-out variant (other data than the leaderboard's).
      if (result.status === 'verified' && o.ingest && o.variantSeed === null) {
        const own = reruns.filter((r) => r.status === 'completed');
        o.log(`its ${own.length} re-run record(s) are now in the store (${await storeAs(own, 'verified')})`);
      }
      return result;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    await db?.close();
  }
}
