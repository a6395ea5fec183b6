/**
 * The store's behaviour, written once and run against each backend by
 * store.sqlite.test.ts and store.pg.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sealRecord, writeRecord } from '../results/files.ts';
import { writePublishedManifest } from '../results/published.ts';
import type { RunRecord } from '../results/record.ts';
import { ingestDir } from './ingest.ts';
import { syntheticRecords } from './synthetic.ts';
import { ACCURACY, type Backend, BPC, HW, makeRun } from './test-support.ts';
import type { LeaderboardRow, Store } from './types.ts';

const T2 = 4.30265273; // t_{0.975, 2}
const T1 = 12.70620474; // t_{0.975, 1}

function row(rows: LeaderboardRow[], arch: string): LeaderboardRow {
  const r = rows.find((x) => x.architecture === arch);
  if (!r) throw new Error(`no row for ${arch}; rows: ${rows.map((x) => x.architecture).join(', ')}`);
  return r;
}

export function defineStoreSuite(makeBackend: () => Backend): void {
  let backend: Backend;
  let store: Store;

  beforeEach(async () => {
    backend ??= makeBackend();
    await backend.reset();
    store = await backend.open();
    return async () => {
      await store.close();
    };
  });

  afterAll(async () => {
    await backend?.cleanup();
  });

  it('applies its migrations to an empty database, and re-opening is a no-op', async () => {
    expect(await store.facets()).toEqual({ tasks: [], tiers: [], hardwareClasses: [], metrics: {}, slices: [], provenances: [] });
    expect(await store.runs()).toEqual([]);
    const again = await backend.open();
    expect(await again.architectures()).toEqual([]);
    await again.close();
  });

  it('upgrades a store made by the first migration, keeping its records; read-only refuses it until then', async () => {
    await store.close();
    await backend.reset();
    const old = syntheticRecords({ count: 4 });
    await backend.legacy(old);
    await expect(backend.open({ readonly: true })).rejects.toThrow(/older version of middlepath/);
    store = await backend.open(); // migrates; beforeEach's cleanup closes it
    for (const r of old) expect(await store.run(r.id)).toEqual(r);
    for (const r of old) expect(await store.ingest(r)).toBe('unchanged');
    const ro = await backend.open({ readonly: true });
    expect((await ro.runs()).length).toBe(4);
    await ro.close();
  });

  it('ingests idempotently: the same content hash is the same row', async () => {
    const records = syntheticRecords({ count: 24 });
    for (const r of records) expect(await store.ingest(r)).toBe('inserted');
    for (const r of records) expect(await store.ingest(r)).toBe('unchanged');
    expect((await store.runs()).length).toBe(24);
    const back = await store.run(records[3]?.id ?? '');
    expect(back).toEqual(records[3]);
  });

  it('replaces a row when a record with the same id is rewritten', async () => {
    const r = makeRun({ arch: 'dense', curve: [[1e9, 0.9]] });
    expect(await store.ingest(r)).toBe('inserted');
    const { contentHash: _h, ...rest } = r;
    const edited = sealRecord({ ...rest, final: r.final ? { ...r.final, quality: 0.91 } : null });
    expect(await store.ingest(edited)).toBe('replaced');
    expect((await store.run(r.id))?.final?.quality).toBe(0.91);
    expect((await store.runs()).length).toBe(1);
  });

  it('says which run keys are settled (any status but failed), with the first such run', async () => {
    const done = makeRun({ arch: 'dense', seed: 1, curve: [[1e9, 0.9]], startedAt: '2026-01-01T00:00:00.000Z' });
    const failed = makeRun({ arch: 'moe', seed: 2, curve: [[1e9, 0.1]], status: 'failed' });
    const refused = makeRun({ arch: 'hash', seed: 3, curve: [[1e9, 0.1]], status: 'refused' });
    for (const r of [done, failed, refused]) await store.ingest(r);
    const { contentHash: _h, ...rest } = makeRun({ arch: 'dense', seed: 1, curve: [[1e9, 0.8]], startedAt: '2026-02-01T00:00:00.000Z' });
    await store.ingest(sealRecord({ ...rest, id: `${done.id}-again`, key: done.key }));
    const settled = await store.settledKeys([done.key, failed.key, refused.key, '0123456789abcdef']);
    expect(Object.fromEntries(settled)).toEqual({ [done.key]: done.id, [refused.key]: refused.id });
    expect((await store.settledKeys([])).size).toBe(0);
  });

  it('refuses a record whose hash does not match its content', async () => {
    const r = makeRun({ arch: 'dense', curve: [[1e9, 0.9]] });
    const tampered = { ...r, id: `${r.id}x`, params: { total: 5, active: 5 } };
    await expect(store.ingest(tampered)).rejects.toThrow(/contentHash does not match/);
  });

  it('hash-checks records read back: a row edited in the database is refused by run() and left out of records()', async () => {
    const r = makeRun({ arch: 'dense', seed: 1, curve: [[1e9, 0.9]] });
    const other = makeRun({ arch: 'dense', seed: 2, curve: [[1e9, 0.8]] });
    await store.ingest(r);
    await store.ingest(other);
    const filter = { task: r.task.id, tier: r.task.tier, hardwareClass: r.hardwareClass };
    expect((await store.records(filter)).map((x) => x.id).sort()).toEqual([r.id, other.id].sort());
    await store.close();
    // a better score written straight into the row, by whoever holds the database
    await backend.editStoredRecord(r.id, (json) => json.replace('"quality":0.9', '"quality":0.99'));
    store = await backend.open();
    await expect(store.run(r.id)).rejects.toThrow(/does not match its content hash.*edited in the database/);
    expect((await store.records(filter)).map((x) => x.id)).toEqual([other.id]);
  });

  it('ingestDir reports malformed, invalid and edited files by path and reason, and loads the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'middlepath-ingest-'));
    try {
      const good = syntheticRecords({ count: 3 });
      for (const r of good) writeRecord(dir, r);
      const runs = join(dir, 'runs');
      mkdirSync(runs, { recursive: true });
      writeFileSync(join(runs, 'a-broken.json'), '{ "id": "half a rec');
      writeFileSync(join(runs, 'b-invalid.json'), JSON.stringify({ id: 'Not Valid', status: 'done' }));
      const edited = makeRun({ arch: 'dense', curve: [[1e9, 0.9]] });
      const editedPath = writeRecord(dir, edited);
      writeFileSync(editedPath, readFileSync(editedPath, 'utf8').replace('"quality": 0.9', '"quality": 0.99'));

      const first = await ingestDir(store, dir);
      expect(first.inserted).toBe(3);
      expect(first.errors).toBe(3);
      const reasons = Object.fromEntries(first.files.flatMap((f) => (f.outcome === 'error' ? [[f.path.split('/').pop(), f.reason]] : [])));
      expect(reasons['a-broken.json']).toMatch(/not valid JSON/);
      expect(reasons['b-invalid.json']).toMatch(/does not match the run record schema/);
      expect(reasons[`${edited.id}.json`]).toMatch(/edited after it was written/);
      expect((await store.runs()).map((r) => r.id).sort()).toEqual(good.map((r) => r.id).sort());

      const second = await ingestDir(store, dir);
      expect([second.inserted, second.unchanged, second.errors]).toEqual([0, 3, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores where each record came from: the published manifest makes baselines and verified runs, anything else is local', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'middlepath-provenance-'));
    try {
      const withOrigin = (r: RunRecord, origin: string) => {
        const { contentHash: _h, ...rest } = r;
        return sealRecord({ ...rest, architecture: { ...rest.architecture, origin } });
      };
      const base = [0.9, 0.91].map((q, seed) => withOrigin(makeRun({ arch: 'dense', seed, curve: [[1e9, q]] }), 'baseline'));
      const submitted = withOrigin(makeRun({ arch: 'mine', family: 'moe', curve: [[1e9, 0.95]] }), 'mine.ts');
      for (const r of [...base, submitted]) writeRecord(dir, r);
      writePublishedManifest(dir);
      // dropped in after publishing, as a forged file or a local run would be
      const forged = makeRun({ arch: 'mine', family: 'moe', seed: 1, curve: [[1e9, 0.999]] });
      writeRecord(dir, forged);

      expect((await ingestDir(store, dir)).inserted).toBe(4);
      const prov = Object.fromEntries((await store.runs()).map((r) => [r.id, r.provenance]));
      expect(prov).toEqual({
        [base[0]?.id ?? '']: 'baseline',
        [base[1]?.id ?? '']: 'baseline',
        [submitted.id]: 'verified',
        [forged.id]: 'local',
      });
      expect(await store.provenance(forged.id)).toBe('local');
      expect(await store.provenance('no.such.run')).toBeNull();
      expect((await store.facets()).provenances).toEqual(['baseline', 'verified', 'local']);

      const filter = { task: base[0]?.task.id ?? '', tier: base[0]?.task.tier ?? 'smoke', hardwareClass: HW };
      expect(row(await store.leaderboard(filter), 'mine').provenance).toEqual(['verified', 'local']);
      const published = await store.leaderboard({ ...filter, provenance: ['baseline', 'verified'] });
      expect(row(published, 'mine').runIds).toEqual([submitted.id]);
      expect(row(published, 'dense').provenance).toEqual(['baseline']);
      expect((await store.runs({ provenance: ['local'] })).map((r) => r.id)).toEqual([forged.id]);

      // listed later: the same content, now published; a broken manifest publishes nothing and says so
      writePublishedManifest(dir);
      const again = await ingestDir(store, dir);
      expect([again.replaced, again.unchanged]).toEqual([1, 3]);
      expect(await store.provenance(forged.id)).toBe('verified');
      writeFileSync(join(dir, 'published.json'), '{"records": 3}');
      const broken = await ingestDir(store, dir);
      expect(broken.files.find((f) => f.outcome === 'error')).toMatchObject({
        reason: expect.stringMatching(/published\.json is not a valid published-suite manifest/),
      });
      expect(await store.provenance(base[0]?.id ?? '')).toBe('local');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('leaderboard', () => {
    async function seedMnist(): Promise<void> {
      const dense = [0.88, 0.9, 0.92].map((q, seed) =>
        makeRun({
          arch: 'dense',
          seed,
          curve: [
            [1e8, 0.5],
            [1e9, q],
          ],
          joulesPerFlop: 1e-8,
        }),
      );
      const moe = [
        makeRun({
          arch: 'moe-a',
          seed: 0,
          curve: [
            [1e8, 0.6],
            [2.5e8, 0.9],
            [1e9, 0.95],
          ],
          joulesPerFlop: 1e-8,
        }),
        makeRun({
          arch: 'moe-a',
          seed: 1,
          curve: [
            [1e8, 0.6],
            [5e8, 0.9],
            [1e9, 0.93],
          ],
        }),
        makeRun({ arch: 'moe-a', seed: 7, curve: [[1e8, 0.6]], status: 'diverged' }),
        makeRun({ arch: 'moe-a', seed: 8, curve: [[0, 0.1]], status: 'refused' }), // declined, not failed
      ];
      const cheap = makeRun({
        arch: 'cheap',
        family: 'hybrid',
        curve: [
          [1e7, 0.3],
          [1e8, 0.7],
        ],
        joulesPerFlop: 1e-8,
      });
      // same names, another hardware class: must not leak into HW's table
      const elsewhere = makeRun({ arch: 'moe-a', seed: 3, hardwareClass: 'other-device ×1 · wasm', curve: [[1e9, 0.1]] });
      for (const r of [...dense, ...moe, cheap, elsewhere]) await store.ingest(r);
    }

    it('means and 95% intervals over seeds equal the hand-computed ones; failed runs do not count, refusals are not failures', async () => {
      await seedMnist();
      const rows = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
      expect(rows.map((r) => r.architecture)).toEqual(['moe-a', 'dense', 'cheap']); // best quality first

      const dense = row(rows, 'dense');
      expect(dense.seeds).toBe(3);
      expect(dense.quality?.mean).toBeCloseTo(0.9, 12);
      const hd = (T2 * 0.02) / Math.sqrt(3);
      expect(dense.quality?.lo).toBeCloseTo(0.9 - hd, 7);
      expect(dense.quality?.hi).toBeCloseTo(0.9 + hd, 7);
      expect(dense.executedFlops).toEqual({ mean: 1e9, lo: 1e9, hi: 1e9, n: 3 });
      expect(dense.modelFlops.mean).toBe(5e8);
      expect(dense.wallSeconds.mean).toBeCloseTo(1, 9);
      expect(dense.energyJoules?.mean).toBeCloseTo(10, 9);
      expect(dense.energyNote).toBeNull();
      expect(dense.multiplier).toEqual({ mean: 1, lo: 1, hi: 1, n: 3 });

      const moe = row(rows, 'moe-a');
      expect(moe.seeds).toBe(2);
      expect(moe.failedRuns).toBe(1);
      expect(moe.runIds).toHaveLength(2);
      expect(moe.quality?.mean).toBeCloseTo(0.94, 12);
      expect(moe.quality?.hi).toBeCloseTo(0.94 + T1 * 0.01, 6);
      // per seed: dense reaches 0.9 at 1e9; seeds at 2.5e8 and 5e8 → 4 and 2
      expect(moe.multiplier?.mean).toBeCloseTo(3, 9);
      expect(moe.multiplier?.hi).toBeCloseTo(3 + T1, 6);
      expect(moe.multiplierSeconds?.mean).toBeCloseTo(3, 9);
      expect(moe.multiplierJoules).toBeNull(); // one seed did not measure energy
      expect(moe.energyJoules).toBeNull();
      expect(moe.energyNote).toMatch(/not measured on 1 of 2 runs: test: no energy counter/);
      expect(moe.legibility.activationSparsity).toBeCloseTo(0.5, 12);

      const cheap = row(rows, 'cheap');
      expect(cheap.multiplier).toBeNull();
      expect(cheap.multiplierNote).toMatch(/never reached dense's final quality \(0\.9\)/);
      expect(cheap.family).toBe('hybrid');
    });

    it('marks the Pareto frontier of cost against quality', async () => {
      await seedMnist();
      const rows = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
      expect(Object.fromEntries(rows.map((r) => [r.architecture, r.pareto]))).toEqual({
        'moe-a': true, // best quality
        cheap: true, // cheapest
        dense: false, // same cost as moe-a, worse
      });
      expect(row(rows, 'moe-a').paretoBy.energyJoules).toBe(false); // no energy figure, no point
      // without moe-a on the energy axis, dense is the best of what remains
      expect(row(rows, 'dense').paretoBy.energyJoules).toBe(true);
      expect(row(rows, 'cheap').paretoBy.energyJoules).toBe(true);
    });

    it('ranks only within one hardware class', async () => {
      await seedMnist();
      const other = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: 'other-device ×1 · wasm' });
      expect(other.map((r) => [r.architecture, r.seeds])).toEqual([['moe-a', 1]]);
      expect(other[0]?.multiplierNote).toMatch(/no completed dense runs/);
      const facets = await store.facets();
      expect(facets.hardwareClasses).toEqual([HW, 'other-device ×1 · wasm'].sort());
      expect(facets.metrics.mnist).toEqual(ACCURACY);
    });

    it('computes the multiplier on constructed curves: dense at 1e9, architecture at 2.5e8 → 4', async () => {
      await store.ingest(
        makeRun({
          arch: 'dense',
          curve: [
            [1e8, 0.5],
            [1e9, 0.9],
          ],
        }),
      );
      await store.ingest(
        makeRun({
          arch: 'fast',
          curve: [
            [1e8, 0.6],
            [2.5e8, 0.9],
            [1e9, 0.95],
          ],
        }),
      );
      const rows = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
      expect(row(rows, 'fast').multiplier?.mean).toBeCloseTo(4, 9);
      expect(row(rows, 'fast').multiplier?.n).toBe(1);
    });

    it('reads lower-is-better metrics the right way round', async () => {
      await store.ingest(
        makeRun({
          arch: 'dense',
          task: 'charlm',
          metric: BPC,
          curve: [
            [10, 4],
            [1000, 2],
          ],
        }),
      );
      await store.ingest(
        makeRun({
          arch: 'fast',
          task: 'charlm',
          metric: BPC,
          curve: [
            [10, 4],
            [100, 2],
            [1000, 1.8],
          ],
        }),
      );
      const rows = await store.leaderboard({ task: 'charlm', tier: 'smoke', hardwareClass: HW });
      expect(rows.map((r) => r.architecture)).toEqual(['fast', 'dense']);
      expect(row(rows, 'fast').multiplier?.mean).toBeCloseTo(10, 9);
    });

    it("'all tasks' is the geometric mean of the per-task multipliers", async () => {
      for (const r of [
        makeRun({
          arch: 'dense',
          task: 'mnist',
          curve: [
            [1e8, 0.5],
            [1e9, 0.9],
          ],
        }),
        makeRun({
          arch: 'x',
          task: 'mnist',
          curve: [
            [1e8, 0.5],
            [2.5e8, 0.9],
          ],
        }), // 4
        makeRun({
          arch: 'dense',
          task: 'parity',
          curve: [
            [1e8, 0.5],
            [9e8, 0.9],
          ],
        }),
        makeRun({
          arch: 'x',
          task: 'parity',
          curve: [
            [1e8, 0.5],
            [4e8, 0.9],
          ],
        }), // 2.25
        makeRun({
          arch: 'y',
          task: 'mnist',
          curve: [
            [1e8, 0.5],
            [5e8, 0.9],
          ],
        }), // only one task
      ]) {
        await store.ingest(r);
      }
      const rows = await store.leaderboard({ task: 'all', tier: 'smoke', hardwareClass: HW });
      const x = row(rows, 'x');
      expect(x.multiplier?.mean).toBeCloseTo(3, 9);
      expect(x.quality).toBeNull();
      expect(x.tasks).toEqual(['mnist', 'parity']);
      expect(x.executedFlops.mean).toBeCloseTo(Math.sqrt(2.5e8 * 4e8), 0);
      expect(row(rows, 'dense').multiplier?.mean).toBeCloseTo(1, 12);
      const y = row(rows, 'y');
      expect(y.multiplier).toBeNull();
      expect(y.multiplierNote).toMatch(/parity \(not run\)/);
      expect(rows[0]?.architecture).toBe('x');
    });

    it('compares two architectures on every task', async () => {
      await store.ingest(makeRun({ arch: 'dense', task: 'mnist', curve: [[1e9, 0.9]] }));
      await store.ingest(makeRun({ arch: 'x', task: 'mnist', curve: [[1e9, 0.95]] }));
      await store.ingest(makeRun({ arch: 'x', task: 'charlm', metric: BPC, curve: [[1e9, 1.5]] }));
      const cmp = await store.compare('dense', 'x', { tier: 'smoke', hardwareClass: HW });
      expect(cmp.map((c) => [c.task, c.a?.quality?.mean ?? null, c.b?.quality?.mean ?? null])).toEqual([
        ['charlm', null, 1.5],
        ['mnist', 0.9, 0.95],
      ]);
      expect(cmp[0]?.metric).toEqual(BPC);
    });

    it('counts only the latest source of an architecture and one run per key', async () => {
      await store.ingest(
        makeRun({ arch: 'x', seed: 0, sourceHash: 'a'.repeat(64), curve: [[1e9, 0.5]], startedAt: '2025-01-01T00:00:00.000Z' }),
      );
      await store.ingest(
        makeRun({ arch: 'x', seed: 0, sourceHash: 'b'.repeat(64), curve: [[1e9, 0.8]], startedAt: '2025-02-01T00:00:00.000Z' }),
      );
      await store.ingest(
        makeRun({ arch: 'x', seed: 0, sourceHash: 'b'.repeat(64), curve: [[1e9, 0.9]], startedAt: '2025-02-02T00:00:00.000Z' }),
      );
      const [x] = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
      expect(x?.seeds).toBe(1);
      expect(x?.quality?.mean).toBe(0.9);
      const detail = await store.architecture('x');
      expect(detail?.sources.map((s) => [s.sourceHash[0], s.runs])).toEqual([
        ['b', 2],
        ['a', 1],
      ]);
      expect(detail?.runs).toHaveLength(3);
    });

    it('returns aggregated rows for an empty slice as an empty list', async () => {
      expect(await store.leaderboard({ task: 'mnist', tier: 'gpu', hardwareClass: 'nothing' })).toEqual([]);
      expect(await store.leaderboard({ task: 'all', tier: 'gpu', hardwareClass: 'nothing' })).toEqual([]);
    });
  });

  it('records() returns the full records of a slice’s completed runs, filtered like the leaderboard', async () => {
    const a = makeRun({
      arch: 'a',
      seed: 0,
      curve: [
        [1e8, 0.5],
        [1e9, 0.9],
      ],
    });
    const b = makeRun({ arch: 'b', seed: 0, task: 'parity', curve: [[1e9, 0.7]] });
    const failed = makeRun({ arch: 'c', seed: 0, status: 'failed', curve: [[1e9, 0.1]] });
    const other = makeRun({ arch: 'a', seed: 1, tier: 'cpu', curve: [[1e9, 0.8]] });
    for (const r of [a, b, failed, other]) await store.ingest(r);
    await store.ingest(makeRun({ arch: 'v', seed: 0, curve: [[1e9, 0.6]] }), { provenance: 'verified' });
    const all = await store.records({ task: 'all', tier: 'smoke', hardwareClass: HW });
    expect(all.map((r) => r.architecture.name).sort()).toEqual(['a', 'b', 'v']);
    expect(all.find((r) => r.id === a.id)).toEqual(a);
    const mnist = await store.records({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
    expect(mnist.map((r) => r.architecture.name).sort()).toEqual(['a', 'v']);
    const every = await store.records({ task: 'all', tier: 'smoke', hardwareClass: HW }, { incomplete: true });
    expect(every.map((r) => r.architecture.name).sort()).toEqual(['a', 'b', 'c', 'v']);
    const verified = await store.records({ task: 'all', tier: 'smoke', hardwareClass: HW, provenance: ['verified'] });
    expect(verified.map((r) => r.architecture.name)).toEqual(['v']);
    // a new ingest is seen on the next read, not served from the cache
    await store.ingest(makeRun({ arch: 'd', seed: 0, curve: [[1e9, 0.95]] }));
    expect((await store.records({ task: 'mnist', tier: 'smoke', hardwareClass: HW })).map((r) => r.architecture.name).sort()).toEqual([
      'a',
      'd',
      'v',
    ]);
  });

  it('a read-only reader sees runs another connection ingests, on its next query', async () => {
    await store.ingest(makeRun({ arch: 'dense', curve: [[1e9, 0.9]] }));
    const reader = await backend.open({ readonly: true });
    try {
      const filter = { task: 'mnist', tier: 'smoke' as const, hardwareClass: HW };
      const before = await reader.leaderboard(filter);
      expect(before.map((r) => r.architecture)).toEqual(['dense']);
      before[0]!.architecture = 'mutated by a caller';
      expect((await reader.leaderboard(filter))[0]?.architecture).toBe('dense');
      await store.ingest(makeRun({ arch: 'x', curve: [[1e9, 0.95]] }));
      expect((await reader.leaderboard(filter)).map((r) => r.architecture)).toEqual(['x', 'dense']);
      expect((await reader.facets()).slices[0]?.runs).toBe(2);
    } finally {
      await reader.close();
    }
  });

  it('keeps names with markup and SQL in them exactly as given', async () => {
    const name = `<script>alert(1)</script>'; DROP TABLE runs;--`;
    const description = `"><img src=x onerror=alert(1)> ' OR 1=1 -- \u00e9\u4e2d\u{1F600}`;
    const r = makeRun({ arch: name, description, curve: [[1e9, 0.9]] });
    expect(await store.ingest(r)).toBe('inserted');
    expect(await store.run(r.id)).toEqual(r);
    const rows = await store.leaderboard({ task: 'mnist', tier: 'smoke', hardwareClass: HW });
    expect(rows[0]?.architecture).toBe(name);
    expect(rows[0]?.description).toBe(description);
    const detail = await store.architecture(name);
    expect(detail?.name).toBe(name);
    expect(detail?.description).toBe(description);
    expect((await store.runs({ architecture: name })).map((x) => x.id)).toEqual([r.id]);
    expect((await store.architectures()).map((a) => a.name)).toEqual([name]);
    expect((await store.runs()).length).toBe(1); // the table is still there
  });

  it('answers null for an unknown run id or architecture', async () => {
    await store.ingest(makeRun({ arch: 'dense', curve: [[1e9, 0.9]] }));
    expect(await store.run('no.such.run')).toBeNull();
    expect(await store.run("'; select 1;--")).toBeNull();
    expect(await store.architecture('no-such-arch')).toBeNull();
  });

  it('a read-only store refuses writes, in the module and at the database', async () => {
    const r = makeRun({ arch: 'dense', curve: [[1e9, 0.9]] });
    await store.ingest(r);
    const ro = await backend.open({ readonly: true });
    try {
      expect(await ro.run(r.id)).toEqual(r);
      await expect(ro.ingest(makeRun({ arch: 'dense', curve: [[1e9, 0.8]] }))).rejects.toThrow(/read-only/);
      // beneath the module's own check, the connection itself refuses to write
      const internals = ro as unknown as { db: { delete(t: unknown): PromiseLike<unknown> }; t: unknown };
      const err = await Promise.resolve()
        .then(() => internals.db.delete(internals.t))
        .then(
          () => null,
          (e: unknown) => e as Error & { cause?: unknown },
        );
      // drizzle wraps the driver's error; the database's own words are in its cause
      expect(`${err?.message} ${String(err?.cause)}`).toMatch(/read-?only/i);
      expect(await ro.run(r.id)).toEqual(r);
    } finally {
      await ro.close();
    }
  });
}
