/**
 * The submission commands end to end, through the real CLI in child processes, on a
 * temporary SQLite store:
 * - every broken module is refused by `submit` with the check, the task and the fix, within
 *   60 s, writing no bundle and leaving the store unchanged;
 * - a correct module is submitted at the smoke tier to a bundle, uploaded to the upload
 *   route (served over HTTP here), verified by `verify`, and a bundle whose claim was
 *   forged (self-consistent hashes, false figures) is rejected by it;
 * - upload tokens are created (printed once), listed and revoked.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, FIXTURES, reseal, snapshot } from '../../test/support/submit.ts';
import { readRecordDir } from '../results/files.ts';
import type { UnhashedRecord } from '../results/record.ts';
import { openStore } from '../store/index.ts';
import { checkBundle, makeManifest, readBundleDir, writeBundleDir } from './bundle.ts';
import { openSubmissionDb } from './db.ts';
import type { CheckName } from './protocol.ts';
import { closeWritableDbs } from './server.ts';
import type { ValidationReport } from './validate.ts';

const dir = mkdtempSync(join(tmpdir(), 'middlepath-submit-'));
const sqlitePath = join(dir, 'store.sqlite');
const out = join(dir, 'results');
const store = ['--sqlite', sqlitePath];
let server: Server;
let serverUrl = '';

interface SubmitJson {
  ok: boolean;
  problem: string | null;
  bundleDir: string | null;
  bundleHash: string | null;
  validation: ValidationReport | null;
  upload: { status: number; body: Record<string, unknown> } | null;
}

beforeAll(async () => {
  // the site's upload route, served over HTTP for `submit --server`
  process.env.MIDDLEPATH_SQLITE = sqlitePath;
  delete process.env.DATABASE_URL;
  const { POST } = await import('../../site/app/api/submissions/route.live.ts');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await POST(new Request(`http://localhost${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks) }));
      res.writeHead(response.status, { 'content-type': 'application/json' });
      res.end(await response.text());
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  await closeWritableDbs();
  rmSync(dir, { recursive: true, force: true });
});

describe('middlepath submit, verify and tokens', () => {
  let token = '';
  let submissionId = '';

  it('creates an upload token, printed once, stored hashed; lists and revokes tokens', async () => {
    const made = await cli(['tokens', 'create', 'alice', ...store]);
    expect(made.code, made.stderr).toBe(0);
    token = made.stdout.trim();
    expect(token).toMatch(/^mpt_/);
    expect(made.stderr).toMatch(/shown only this once/);
    expect(JSON.stringify(snapshot(sqlitePath))).not.toContain(token);
    expect((await cli(['tokens', 'create', 'alice', ...store])).code).toBe(2);
    expect((await cli(['tokens', 'create', 'old', ...store])).code).toBe(0);
    expect((await cli(['tokens', 'revoke', 'old', ...store])).code).toBe(0);
    expect((await cli(['tokens', 'revoke', 'nobody', ...store])).code).toBe(2);
    const list = await cli(['tokens', 'list', ...store]);
    expect(list.stdout).toMatch(/^alice\s+created \S+\s+live$/m);
    expect(list.stdout).toMatch(/^old\s+created \S+\s+revoked \S+$/m);
  });

  it('submits a correct module at the smoke tier: validated, run beside dense, bundled and uploaded', async () => {
    const r = await cli(
      [
        'submit',
        join(FIXTURES, 'tiny-mlp.ts'),
        '--tier',
        'smoke',
        '--seeds',
        '1',
        '--task',
        'superposition',
        '--out',
        out,
        ...store,
      ].concat(['--server', serverUrl, '--token', token, '--json']),
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as SubmitJson;
    expect(res.validation?.ok).toBe(true);
    expect(res.validation?.seconds).toBeLessThanOrEqual(30);
    console.log(`validation timing: correct module (tiny-mlp, smoke, via submit) ${res.validation?.seconds.toFixed(1)} s`);
    expect(res.bundleDir).toBe(join(out, 'submissions', 'tiny-mlp'));
    expect(r.stderr).toMatch(/no completed dense runs for superposition .*running the dense baseline/);

    const bundleDir = res.bundleDir as string;
    for (const f of ['manifest.json', 'module.ts', 'fingerprint.json', 'bundle-hash.txt'])
      expect(existsSync(join(bundleDir, f))).toBe(true);
    expect(readFileSync(join(bundleDir, 'module.ts'), 'utf8')).toBe(readFileSync(join(FIXTURES, 'tiny-mlp.ts'), 'utf8'));
    const checked = checkBundle(readBundleDir(bundleDir));
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const m = checked.bundle.manifest;
    expect(m).toMatchObject({ name: 'tiny-mlp', tier: 'smoke', seeds: 1, tasks: ['superposition'] });
    expect(m.records.map((e) => [e.role, e.task, e.status])).toEqual([
      ['submission', 'superposition', 'completed'],
      ['baseline', 'superposition', 'completed'],
    ]);
    expect(m.validation.refused).toEqual([{ task: 'charlm', reason: 'tiny-mlp only takes vector inputs' }]);
    expect(readFileSync(join(bundleDir, 'bundle-hash.txt'), 'utf8').trim()).toBe(checked.bundle.bundleHash);
    // the dense run also went where `run` puts it, and both are in the store
    expect(readRecordDir(out).filter((p) => 'record' in p && p.record.architecture.name === 'dense')).toHaveLength(1);
    const s = await openStore({ sqlitePath, readonly: true });
    expect((await s.runs()).map((x) => x.architecture).sort()).toEqual(['dense', 'tiny-mlp']);
    await s.close();

    expect(res.upload?.status).toBe(201);
    submissionId = String(res.upload?.body.id);
    expect(submissionId).toBe(`tiny-mlp-${checked.bundle.bundleHash.slice(0, 12)}`);
    const db = await openSubmissionDb({ sqlitePath, readonly: true });
    expect((await db.getSubmission(submissionId))?.status).toBe('pending');
    await db.close();
  });

  it('verifies the submission by re-running it in a child process: the re-run lies within the claim', async () => {
    const r = await cli(['verify', submissionId, ...store, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as {
      status: string;
      verification: { variant: boolean; hardwareClass: string; tasks: { reruns: { within: boolean }[] }[] };
    };
    expect(v.status).toBe('verified');
    expect(v.verification.variant).toBe(false);
    expect(v.verification.tasks[0]?.reruns).toEqual([expect.objectContaining({ seed: 0, status: 'completed', within: true })]);
    // the store's dense run is local, not a published baseline: verify runs the dense baseline
    // on the re-runs' class itself (confined), stores it as a baseline and makes the check
    expect(r.stderr).toMatch(/no baseline runs of superposition on the re-runs' hardware class: running the dense baseline there/);
    expect(r.stderr).toMatch(/uncounted compute checked for superposition seed 0: [\d.]+× the slowest baseline's seconds per counted FLOP/);
    const s = await openStore({ sqlitePath, readonly: true });
    const base = await s.records({
      task: 'superposition',
      tier: 'smoke',
      hardwareClass: v.verification.hardwareClass,
      provenance: ['baseline'],
    });
    await s.close();
    expect(base.map((b) => [b.architecture.name, b.training.confined])).toEqual([['dense', true]]);
    const db = await openSubmissionDb({ sqlitePath, readonly: true });
    const row = await db.getSubmission(submissionId);
    expect(row?.status).toBe('verified');
    expect(row?.reason).toMatch(/every re-run lies within the claim/);
    await db.close();
  });

  it('re-runs on a held-out variant of the data when given a variant seed, and records that it did', async () => {
    const r = await cli(['verify', submissionId, ...store, '--no-ingest', '--json'], {
      cwd: dir,
      env: { MIDDLEPATH_VARIANT_SEED: '424242' },
    });
    expect([0, 1]).toContain(r.code);
    const v = JSON.parse(r.stdout) as {
      verification: { variant: boolean; variantTag: string; tasks: { reruns: { quality: number }[] }[] };
    };
    expect(v.verification.variant).toBe(true);
    expect(v.verification.variantTag).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(snapshot(sqlitePath))).not.toContain('424242');
    expect(r.stderr).toMatch(/held-out variant/);
  });

  /** A folder holding the honest bundle with its records edited and re-sealed: every hash consistent. */
  function editedBundle(
    name: string,
    edit: { own?: (u: UnhashedRecord) => UnhashedRecord; base?: (u: UnhashedRecord) => UnhashedRecord },
  ): void {
    const checked = checkBundle(readBundleDir(join(out, 'submissions', 'tiny-mlp')));
    if (!checked.ok) throw new Error(checked.reason);
    const { manifest, records, source } = checked.bundle;
    const own = records.filter((_, i) => manifest.records[i]?.role === 'submission').map((r) => (edit.own ? reseal(r, edit.own) : r));
    const base = records.filter((_, i) => manifest.records[i]?.role === 'baseline').map((r) => (edit.base ? reseal(r, edit.base) : r));
    const folder = join(dir, name);
    writeBundleDir(folder, {
      manifest: makeManifest({
        source,
        originalName: 'tiny-mlp.ts',
        tier: 'smoke',
        seeds: 1,
        tasks: manifest.tasks,
        own,
        baselines: base,
        validation: manifest.validation,
      }),
      source,
      records: [...own, ...base],
    });
    expect(checkBundle(readBundleDir(folder)).ok).toBe(true);
  }

  it('rejects a bundle whose claim is forged (every hash consistent, the figures false), with the reason', async () => {
    // claim a far better MSE than the module reaches
    editedBundle('forged', {
      own: (u) => ({
        ...u,
        final: u.final ? { ...u.final, quality: u.final.quality / 10 } : null,
        curve: u.curve.map((p, i) => (i === u.curve.length - 1 ? { ...p, quality: p.quality / 10 } : p)),
      }),
    });
    const before = snapshot(sqlitePath);
    const r = await cli(['verify', join(dir, 'forged'), ...store], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /✗ rejected: superposition seed 0: re-run weighted MSE \S+ is outside \[\S+, \S+\] \(claimed mean \S+ over 1 seed\(s\); one seed: ±5% of the value\)/,
    );
    expect(snapshot(sqlitePath)).toEqual(before); // not uploaded: nothing to record, nothing ingested
  });

  it('rejects a bundle whose cost and size were edited (quality left true, every hash consistent), naming each', async () => {
    editedBundle('cheaper', {
      own: (u) => ({
        ...u,
        params: { total: Math.floor(u.params.total / 8), active: Math.floor(u.params.active / 8) },
        // with the budget cut too, or the record contradicts itself and never gets this far
        flops: { ...u.flops, executed: u.flops.executed / 10 },
        training: { ...u.training, budgetFlops: u.training.budgetFlops / 10 },
      }),
    });
    const before = snapshot(sqlitePath);
    const r = await cli(['verify', join(dir, 'cheaper'), ...store], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/superposition seed 0: the bundle's record does not match its re-run: parameters \d+ total/);
    expect(r.stderr).toMatch(/executed FLOPs \S+ claimed, \S+ re-run/);
    expect(snapshot(sqlitePath)).toEqual(before);
  });

  it('stores only its own re-runs when verified: baseline records a bundle carries never replace the real ones', async () => {
    editedBundle('bad-baseline', {
      base: (u) => ({ ...u, final: u.final ? { ...u.final, quality: u.final.quality * 7 } : null }),
    });
    const s0 = await openStore({ sqlitePath, readonly: true });
    const denseBefore = (await s0.runs({ architecture: 'dense' })).map((x) => [x.id, x.quality]);
    const ownBefore = (await s0.runs({ architecture: 'tiny-mlp' })).length;
    await s0.close();
    const r = await cli(['verify', join(dir, 'bad-baseline'), ...store], { cwd: dir });
    expect(r.code, r.stderr).toBe(0); // the submission's own figures are true
    expect(r.stderr).toMatch(/its 1 re-run record\(s\) are now in the store/);
    const s1 = await openStore({ sqlitePath, readonly: true });
    expect((await s1.runs({ architecture: 'dense' })).map((x) => [x.id, x.quality])).toEqual(denseBefore);
    expect((await s1.runs({ architecture: 'tiny-mlp' })).length).toBe(ownBefore + 1);
    await s1.close();
  });

  // Each broken module: refused by validation with the check and task named, no bundle, the store as it was.
  const broken: [string, CheckName, string | null, RegExp][] = [
    ['syntax-error', 'import', null, /syntax-error\.ts:\d+:\d+: Expected/],
    ['no-default', 'default-export', null, /has no default export/],
    ['wrong-export', 'default-export', null, /the default export is not an architecture/],
    ['bad-definition', 'import', null, /name must be lower-case/],
    ['throws-build', 'build', 'superposition', /build\(\) threw: expert count must be a power of two/],
    ['throws-forward', 'eval-forward', 'mnist', /router weights not initialised/],
    ['throws-null', 'build', 'superposition', /build\(\) threw: it threw null \(not an Error/],
    ['nan-at-eval', 'eval-forward', 'superposition', /returned \d+ NaN or infinite output value/],
    ['unpriced-kernel', 'train-step', 'superposition', /kernel MaxPool has no FLOP price/],
    ['int-output', 'output-shape', 'superposition', /returned output of dtype int32; the task 'superposition' needs float32/],
    ['wrong-shape', 'output-shape', 'mnist', /\[500, 9\].*needs \[500, 10\]/],
    ['nan-output', 'finite-loss', 'parity', /the training loss is NaN at step 1/],
    ['leaks', 'leak', 'superposition', /more tensors alive after step 5 than after step 2/],
    ['too-big', 'param-cap', 'mnist', /the smoke tier allows \d+ \(\d+ active\) on 'mnist'/],
    ['infinite-loop', 'time', 'superposition', /during eval-forward on 'superposition': no progress for 20 s/],
    ['unbounded-alloc', 'memory', 'superposition', /during build on 'superposition': resident memory reached \d+ MB \(limit 2560 MB\)/],
    ['unbounded-heap', 'memory', 'superposition', /during build on 'superposition'.*heap out of memory/],
  ];
  for (const [fixture, check, task, message] of broken) {
    it(`refuses ${fixture}: [${check}]${task ? ` on ${task}` : ''}, within 60 s, writing nothing`, async () => {
      const before = snapshot(sqlitePath);
      const r = await cli(['submit', join(FIXTURES, 'broken', `${fixture}.ts`), '--tier', 'smoke', '--out', out, ...store, '--json'], {
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(1);
      const res = JSON.parse(r.stdout) as SubmitJson;
      expect(res.problem).toMatch(/validation failed: nothing was run, written or uploaded/);
      const v = res.validation as ValidationReport;
      const f = v.failures.find((x) => x.check === check && x.task === task);
      expect(f, JSON.stringify(v.failures, null, 2)).toBeDefined();
      expect(f?.message).toMatch(message);
      expect(f?.fix.length).toBeGreaterThan(20);
      expect(v.seconds).toBeLessThanOrEqual(60);
      expect(r.stderr).toContain(`✗ [${check}]${task ? ` ${task}:` : ''}`); // the human-readable line names both
      expect(snapshot(sqlitePath)).toEqual(before);
      expect(readRecordDir(out).filter((p) => 'record' in p && p.record.architecture.name === v.architecture?.name)).toEqual([]);
      expect(existsSync(join(out, 'submissions', v.architecture?.name ?? fixture))).toBe(false);
      if (['syntax-error', 'infinite-loop', 'unbounded-alloc'].includes(fixture))
        console.log(`validation timing: ${fixture} reported in ${v.seconds.toFixed(1)} s`);
    });
  }

  it('refuses a valid module that imports another file: a bundle carries one module', async () => {
    const elsewhere = join(dir, 'two-files');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'helper.ts'), readFileSync(join(FIXTURES, 'broken', '_shared.ts'), 'utf8'));
    writeFileSync(
      join(elsewhere, 'two-files.ts'),
      `import { defineArchitecture } from 'middlepath';\nimport { linearModel } from './helper.ts';\nexport default defineArchitecture({ name: 'two-files', family: 'dense', description: 'x', refuse: (t) => (t.id === 'mnist' ? undefined : 'mnist only'), build: (task, _s, ctx) => { const m = linearModel(task, ctx); return { variables: m.variables, forward: (x) => ({ output: m.apply(x) }) }; } });\n`,
    );
    const before = snapshot(sqlitePath);
    const r = await cli(['submit', join(elsewhere, 'two-files.ts'), '--tier', 'smoke', '--out', out, ...store], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/is valid at the smoke tier/);
    expect(r.stderr).toMatch(/\[self-contained\] .*imports \.\/helper\.ts; a submission is one module/);
    expect(snapshot(sqlitePath)).toEqual(before);
    expect(existsSync(join(out, 'submissions', 'two-files'))).toBe(false);
  });
});

describe('submit after run, beside dense of another hardware class', () => {
  it("reuses the module's runs that `run` recorded, and runs dense on the module's own class even when dense of another class exists", async () => {
    const root = mkdtempSync(join(tmpdir(), 'middlepath-submit-reuse-'));
    const results = join(root, 'results');
    const module = join(FIXTURES, 'tiny-mlp.ts');
    // every command indexes into ROOT/.middlepath/store.sqlite (the default store, relative to the working folder)
    const common = ['--tier', 'smoke', '--task', 'superposition', '--out', results];
    try {
      // dense in this process on the cpu backend (as `npm start` leaves dense of its own class), then the module through `run` (confined, wasm)
      const dense = await cli(['run', '--arch', 'dense', '--seeds', '1', '--backend', 'cpu', '--in-process', ...common], { cwd: root });
      expect(dense.code, dense.stderr).toBe(0);
      const ran = await cli(['run', '--arch', module, '--seeds', '1', ...common], { cwd: root });
      expect(ran.code, ran.stderr).toBe(0);
      const recordsOf = (arch: string) =>
        readRecordDir(results).flatMap((p) => ('record' in p && p.record.architecture.name === arch ? [p.record] : []));
      const [own] = recordsOf('tiny-mlp');
      const [otherDense] = recordsOf('dense');
      expect(own?.training.confined).toBe(true);
      expect(otherDense?.hardwareClass).not.toBe(own?.hardwareClass);

      const r = await cli(['submit', module, '--seeds', '1', ...common, '--json'], { cwd: root });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/reusing 1 run\(s\) that `middlepath run` recorded/);
      expect(r.stderr).toMatch(/no completed dense runs for superposition on '[^']+' at the smoke tier: running the dense baseline there/);
      const checked = checkBundle(readBundleDir(join(results, 'submissions', 'tiny-mlp')));
      expect(checked.ok).toBe(true);
      if (!checked.ok) return;
      const { manifest, records } = checked.bundle;
      const byRole = (role: string) => records.filter((_, i) => manifest.records[i]?.role === role);
      // the run `run` made, not a second one
      expect(byRole('submission').map((x) => x.id)).toEqual([own?.id]);
      // dense beside it on the module's class, seed for seed
      expect(byRole('baseline').map((x) => [x.architecture.name, x.task.seed, x.hardwareClass])).toEqual([
        ['dense', 0, own?.hardwareClass],
      ]);
      expect(
        recordsOf('dense')
          .map((x) => x.hardwareClass)
          .sort(),
      ).toEqual([otherDense?.hardwareClass, own?.hardwareClass].sort());
      // the store holds the module's run once, as the submission's (run had indexed it as local)
      const s = await openStore({ sqlitePath: join(root, '.middlepath', 'store.sqlite'), readonly: true });
      const rows = (await s.runs()).filter((x) => x.architecture === 'tiny-mlp');
      await s.close();
      expect(rows.map((x) => [x.id, x.provenance])).toEqual([[own?.id, 'submitted']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);
});
