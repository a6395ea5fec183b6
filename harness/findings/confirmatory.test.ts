/**
 * The confirmatory findings on records built in code, stamped with a protocol built in code
 * (protocol v1's rules with three seeds per cell), whose answers are known by hand.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protocolV1 } from '../../test/support/protocols.ts';
import { BPC, makeRun } from '../../test/support/store.ts';
import { canonicalJson, sealRecord, writeRecord } from '../results/files.ts';
import { type Protocol, protocolHash, stampOf } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { type ClaimTest, holmByFamily } from './claims.ts';
import { confirmatoryAnswer, heldOutTarget, readConfirmatory, renderConfirmatory } from './confirmatory.ts';
import { type FindingsIo, runFindings } from './main.ts';
import { END_MARKER, START_MARKER } from './readme.ts';
import { splitBySet } from './sets.ts';

/** Protocol v1's rules, on mnist and charlm only, three comparison and placebo seeds per cell. */
function testProtocol(): Protocol {
  const p = protocolV1();
  const plan = (margin: number) => ({
    seedsPerCell: 3,
    seedsRequired: 3,
    sdLogMultiplier: 0.1,
    mdeAtSeedsPerCell: 1.5,
    qualityMargin: margin,
  });
  return { ...p, tasks: { mnist: plan(0.005), charlm: plan(0.02) } };
}
const P = testProtocol();

function stamped(r: RunRecord, p: { version: number; hash: string } = stampOf(P)): RunRecord {
  const { contentHash: _old, ...rest } = r;
  return sealRecord({ ...rest, protocol: p });
}

type Curve = [number, number][];
const run = (arch: string, seed: number, curve: Curve, task = 'mnist') =>
  stamped(
    makeRun({
      arch,
      family: arch.startsWith('dense') ? 'dense' : 'moe',
      task,
      tier: 'cpu',
      seed,
      curve,
      ...(task === 'charlm' ? { metric: BPC } : {}),
    }),
  );

const TS = [1000, 1001, 1002, 1003, 1004];
const CMP = [1100, 1101, 1102];
const PLACEBO = [1200, 1201, 1202];

/**
 * mnist, known answers:
 * - target-setting dense-block: held from a quarter of the budget (2.5e7 on) its worst is 0.92 − 0.001·i: target 0.916
 * - comparison dense-block dips to 0.85 at 5e7: had it set the target, the target would be 0.85
 * - switch-top1 reaches 0.93 at 1e7 × (1, 1.01, 0.99): within ~1% of the reference, tight: equivalent by TOST
 * - the reference reaches 0.916 for good at 5e7 × 1.2^0.66 ≈ 5.64e7 (after its dip), first at ≈ 9.3e6
 * - topk never dips and is at 0.916 exactly at 2e7, 6e7, 1.8e8: multipliers ≈ 2.8, 0.94, 0.31, no direction and
 *   no equivalence shown: inconclusive, with its MDE
 */
function mnist(): RunRecord[] {
  const out: RunRecord[] = [];
  for (const [i, seed] of TS.entries())
    out.push(
      run('dense-block', seed, [
        [1e6, 0.5],
        [3e7, 0.92 - 0.001 * i],
        [1e8, 0.95],
      ]),
    );
  const ref: Curve = [
    [1e6, 0.5],
    [1e7, 0.93],
    [5e7, 0.85],
    [6e7, 0.95],
    [1e8, 0.96],
  ];
  for (const seed of [...CMP, ...PLACEBO]) out.push(run('dense-block', seed, ref));
  const at = (f: number): Curve => [
    [1e6, 0.5],
    [1e7 * f, 0.93],
    [5e7, 0.85],
    [6e7, 0.95],
    [1e8, 0.96],
  ];
  for (const [i, seed] of CMP.entries()) {
    out.push(run('switch-top1', seed, at([1, 1.01, 0.99][i] as number)));
    out.push(
      run('topk', seed, [
        [1e6, 0.5],
        [[2e7, 6e7, 1.8e8][i] as number, 0.916],
        [1e9, 0.96],
      ]),
    );
  }
  return out;
}

/** charlm: dense is dense-block in all but name (the same curves, seed by seed). */
function charlm(): RunRecord[] {
  const curve = (seed: number): Curve => [
    [1e9, 4],
    [3e10, 3.2 + 0.01 * (seed % 7)],
    [1e11, 3],
  ];
  return [
    ...TS.map((s) => run('dense-block', s, curve(s), 'charlm')),
    ...[...CMP, ...PLACEBO].flatMap((s) => [
      run('dense-block', s, curve(s), 'charlm'),
      ...(CMP.includes(s) ? [run('dense', s, curve(s), 'charlm')] : []),
    ]),
    ...CMP.map((s) => run('hash', s, curve(s + 3), 'charlm')),
  ];
}

/** mnist alone with switch-top1 and topk the only compared architectures: 5 + 3 × 3 + 3 = 17 planned runs, all recorded. */
function complete(): { p: Protocol; records: RunRecord[] } {
  const claims = P.claims.map((c) => ({
    ...c,
    architectures: c.architectures.filter((a) => !c.architectures.includes('switch-top1') || ['switch-top1', 'topk'].includes(a)),
  }));
  const p: Protocol = { ...P, tasks: { mnist: P.tasks.mnist as Protocol['tasks'][string] }, claims };
  const keep = (r: RunRecord) => ['dense-block', 'switch-top1', 'topk'].includes(r.architecture.name);
  return {
    p,
    records: mnist()
      .filter(keep)
      .map((r) => stamped(r, stampOf(p))),
  };
}

describe('the confirmatory reading', () => {
  const records = [...mnist(), ...charlm()];
  const c = readConfirmatory(P, records);
  const md = renderConfirmatory(P, c);
  const task = (id: string) => c.tasks.find((t) => t.task === id);
  const full = complete();
  const cFull = readConfirmatory(full.p, full.records);
  const mdFull = renderConfirmatory(full.p, cFull);

  it('sets the target from the target-setting seeds only: a compared seed’s dip never enters it', () => {
    expect(task('mnist')?.target).toEqual({ value: 0.916, seeds: TS });
    // the same rule over the comparison seeds would have read their dip
    const cmp = records.filter((r) => r.task.id === 'mnist' && r.architecture.name === 'dense-block' && CMP.includes(r.task.seed));
    expect(heldOutTarget(cmp, CMP, { holdFrom: 0.25 })).toEqual({ value: 0.85, seeds: CMP });
    // and no target at all until every target-setting seed is recorded
    const four = records.filter((r) => r.task.id === 'mnist' && r.architecture.name === 'dense-block' && r.task.seed !== 1004);
    expect(readConfirmatory(P, four).tasks.find((t) => t.task === 'mnist')?.target).toEqual({
      value: null,
      why: 'not set: 4 of 5 target-setting runs recorded',
    });
  });

  it('names the protocol version and hash it read, and how much of the plan is recorded', () => {
    expect(md).toContain(`protocol v${P.version}`);
    expect(md).toContain(protocolHash(P));
    // mnist: 5 target-setting + 9 architectures × 3 + 3 placebo = 35 planned; 5 + 3 + 3 + 3 + 3 recorded
    expect(md).toContain('### mnist — 17 of 35 planned runs recorded');
    // a run outside the plan (another seed), or the same seed run twice, does not count toward it
    const stray = [run('topk', 1500, [[1e6, 0.9]]), run('topk', 1100, [[1e6, 0.9]])];
    expect(readConfirmatory(P, [...records, ...stray]).tasks.find((t) => t.task === 'mnist')?.recordedRuns).toBe(17);
    expect(md).toMatch(/No verdict yet: the confirmatory runs under protocol v1 are incomplete/);
  });

  it('gives no verdict while the set is incomplete: Holm would divide by too few tests', () => {
    expect(cFull.tasks[0]?.plannedRuns).toBe(17);
    expect(md.split('\n').find((l) => l.startsWith('- switch-top1: FLOPs →'))).toMatch(
      /FLOPs → no verdict yet: the families are complete only once every planned run is recorded \(unadjusted cost\.greater p = [0-9.]+; cost\.less p = 1; cost\.equivalent p [<=] [0-9.]+\)/,
    );
  });

  it('shows "equivalent" only by TOST, and an inconclusive verdict with its MDE', () => {
    const line = (arch: string) => mdFull.split('\n').find((l) => l.startsWith(`- ${arch}: FLOPs →`)) ?? '';
    expect(line('switch-top1')).toMatch(/\*\*equivalent within \[0\.8, 1\.25\]×\*\* \(cost\.equivalent p [<=] [0-9.]+, Holm/);
    expect(line('topk')).toMatch(
      /inconclusive \(cost\.greater p = [0-9.]+, Holm = [0-9.]+; cost\.less p = [0-9.]+, Holm = [0-9.]+; cost\.equivalent p = [0-9.]+, Holm = [0-9.]+; MDE 1\.5× planned, [0-9.]+× from the observed spread \(3 pairs\)/,
    );
    expect(line('topk')).toMatch(/at the family's Holm threshold α\/\d+/);
  });

  it('puts the first crossing beside "for good": switch-top1’s dip makes them differ', () => {
    const sw = task('mnist')?.rows.find((r) => r.arch === 'switch-top1');
    // for good is after the dip (between 5e7 and 6e7), the first crossing before it (below 1e7)
    expect(sw?.costGood).toMatch(/^5\.6e7/);
    expect(sw?.costFirst).toMatch(/^9\.\de6/);
  });

  it('reads the placebo against the held-out target: every seed reached, equivalent by TOST', () => {
    const placebo = task('mnist')?.placebo;
    expect(placebo?.text).toBe('1× [1, 1]');
    expect(placebo?.reached).toBe('6 of 6 runs reached the target (every seed)');
    expect(mdFull).toMatch(
      /- placebo: 1× \[1, 1\], 6 of 6 runs reached the target \(every seed\) → \*\*equivalent within \[0\.8, 1\.25\]×\*\* \(placebo p/,
    );
  });

  it('the placebo is judged within its own margin where the protocol states one (v2: its spread is its own)', () => {
    const wide = {
      ...full.p,
      tasks: { ...full.p.tasks, mnist: { ...(full.p.tasks.mnist as Protocol['tasks'][string]), placeboMargin: 1.4 } },
    };
    const placebo = readConfirmatory(wide, full.records).tasks.find((t) => t.task === 'mnist')?.placebo;
    expect(placebo?.judged?.evidence).toMatchObject({ kind: 'multiplier', margin: 1.4 });
    expect(renderConfirmatory(wide, readConfirmatory(wide, full.records))).toMatch(/placebo: 1× \[1, 1\].*within \[0\.714, 1\.4\]×/);
  });

  it('the tolerance rule sets an easier target than the worst seed, from the same target-setting seeds', () => {
    const ts = records.filter((r) => r.task.id === 'mnist' && r.architecture.name === 'dense-block' && TS.includes(r.task.seed));
    const tol = heldOutTarget(ts, TS, { holdFrom: 0.25, tolerance: { coverage: 0.99, confidence: 0.95 } });
    expect(tol.value).not.toBeNull();
    expect(tol.value as number).toBeLessThan(0.916);
    expect(tol).toMatchObject({ seeds: TS });
  });

  it('says an architecture that refused the task was refused, with its reason, not that runs are missing', () => {
    const refusedRun = (seed: number) => {
      const r = makeRun({
        arch: 'expert-choice',
        family: 'moe',
        task: 'charlm',
        tier: 'cpu',
        seed,
        curve: [[1, 4]],
        metric: BPC,
        status: 'refused',
      });
      return stamped({ ...r, final: null, failure: { phase: 'build', message: 'expert-choice refuses charlm: not causal\nmore' } });
    };
    const read = readConfirmatory(P, [...records, ...CMP.map(refusedRun)]);
    const row = read.tasks.find((t) => t.task === 'charlm')?.rows.find((r) => r.arch === 'expert-choice');
    expect(row?.seeds).toBe('refused (0 of 3)');
    expect(row?.refused).toBe('refused by the architecture: expert-choice refuses charlm: not causal');
    expect(read.tests.some((t) => t.task === 'charlm' && t.arch === 'expert-choice')).toBe(false);
    expect(renderConfirmatory(P, read)).toContain(
      '- expert-choice: not measured: refused by the architecture: expert-choice refuses charlm',
    );
  });

  it('counts seconds only from quiet records', () => {
    // makeRun's records carry no load reading: never quiet
    expect(task('mnist')?.rows.find((r) => r.arch === 'switch-top1')?.seconds).toBe(
      'not measured: the machine was busy (0 of 3 seeds quiet)',
    );
  });

  it('says once where dense-block is dense in all but name, and drops dense from every family', () => {
    expect(task('charlm')?.identical).toEqual(CMP);
    expect(md).toContain('dense-block is bit-identical to dense here');
    expect(c.tests.some((t) => t.task === 'charlm' && t.arch === 'dense')).toBe(false);
    // mnist has no dense runs: dense stays in its families there, as a test that could not run
    expect(c.tests.some((t) => t.task === 'mnist' && t.arch === 'dense')).toBe(true);
    expect(c.tests.some((t) => t.task === 'charlm' && t.arch === 'hash' && t.claim.family === 'cost.greater')).toBe(true);
  });

  it('gives every p the family its claim names', () => {
    for (const t of c.tests) expect(P.families.map((f) => f.id)).toContain(t.claim.family);
    expect(md).toContain('### Families');
  });
});

describe('the answer paragraph', () => {
  it('gives a verdict only once every planned run is recorded, and then only what the tests show', () => {
    const { p, records: all } = complete();
    expect(confirmatoryAnswer(p, readConfirmatory(p, all))).toMatch(
      /^\*\*Does a middle path pay\?\*\* On training compute against dense-block, under protocol v1 \(2 comparisons, Holm per family\): no architecture reaches the target in significantly fewer executed FLOPs; the same within \[0\.8, 1\.25\]× by TOST for switch-top1 on mnist; every other comparison is inconclusive at the MDE its table prints\. The placebo passes on 1 of 1 tasks\. The target rule in force \(held-25/,
    );
    // one run short: no verdict at all
    const short = readConfirmatory(p, all.slice(1));
    expect(confirmatoryAnswer(p, short)).toMatch(
      /No verdict yet: the confirmatory runs under protocol v1 are incomplete \(16 of 17 planned runs recorded\)/,
    );
  });
});

describe('Holm within each family, never across', () => {
  const claim = (family: string) => ({ ...(P.claims[1] as ClaimTest['claim']), family });
  it('corrects each family by its own size', () => {
    const tests: ClaimTest[] = [
      { claim: claim('a'), task: 't', arch: 'x', p: 0.01 },
      { claim: claim('a'), task: 't', arch: 'y', p: 0.02 },
      { claim: claim('b'), task: 't', arch: 'x', p: 0.03 },
      { claim: claim('b'), task: 't', arch: 'z', p: null },
    ];
    const { adjusted, sizes } = holmByFamily(tests);
    expect(adjusted).toEqual([0.02, 0.02, 0.03, null]);
    expect(sizes.get('a')).toBe(2);
    expect(sizes.get('b')).toBe(1);
    // one family of three would have pushed b's test to 0.03 × 1 and a's first to 0.03: it would not tell them apart
  });
});

describe('records run under another protocol', () => {
  let dir = '';
  const sink = () => {
    const err: string[] = [];
    const io: FindingsIo = { out: () => {}, err: (t) => err.push(t) };
    return { err, io };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'middlepath-protocol-check-'));
    writeFileSync(join(dir, 'protocol.json'), canonicalJson(P));
    for (const r of mnist()) writeRecord(dir, r);
    writeFileSync(join(dir, 'findings.md'), `${START_MARKER}\n${END_MARKER}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are split from the confirmatory and exploratory sets', () => {
    const foreign = stamped(makeRun({ arch: 'dense-block', task: 'mnist', tier: 'cpu', seed: 1000, curve: [[1e6, 0.9]] }), {
      version: 2,
      hash: 'f'.repeat(64),
    });
    const unstamped = makeRun({ arch: 'dense-block', task: 'mnist', tier: 'cpu', seed: 0, curve: [[1e6, 0.9]] });
    const sets = splitBySet([...mnist().slice(0, 2), foreign, unstamped], P);
    expect(sets.confirmatory).toHaveLength(2);
    expect(sets.exploratory).toEqual([unstamped]);
    expect(sets.foreign).toEqual([foreign]);
  });

  it('pass --check when every record carries the protocol’s hash, and fail it naming the one that does not', async () => {
    const opts = { records: join(dir, 'runs'), readme: join(dir, 'findings.md'), protocol: join(dir, 'protocol.json') };
    expect(await runFindings(opts, sink().io)).toBe(0);
    expect(await runFindings({ ...opts, check: true }, sink().io)).toBe(0);
    const foreign = stamped(makeRun({ arch: 'topk', task: 'mnist', tier: 'cpu', seed: 1100, curve: [[1e6, 0.9]] }), {
      version: 2,
      hash: 'e'.repeat(64),
    });
    const path = writeRecord(dir, foreign);
    const before = readFileSync(join(dir, 'findings.md'), 'utf8');
    const check = sink();
    expect(await runFindings({ ...opts, check: true }, check.io)).toBe(1);
    expect(check.err.join('\n')).toContain(path);
    expect(check.err.join('\n')).toMatch(/run under protocol v2 eeeeeeeeeeee, but the protocol in force is v1/);
    // and writing refuses too, leaving the file as it was
    expect(await runFindings(opts, sink().io)).toBe(1);
    expect(readFileSync(join(dir, 'findings.md'), 'utf8')).toBe(before);
  });
});
