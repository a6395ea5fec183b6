/**
 * The findings section on constructed records whose answers are known by hand: the store
 * (real SQLite) computes the intervals, the section must turn them into the right cells and
 * verdicts. Curves are chosen so each multiplier is exact: a curve that first reaches
 * dense's final quality exactly at an eval point reaches it at that point's FLOPs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealRecord, writeRecord } from '../results/files.ts';
import type { Legibility, RoutingLayerStats, RunRecord } from '../results/record.ts';
import { BPC, HW, type MakeRun, makeRun } from '../store/test-support.ts';
import { buildFindings, type FindingsIo, runFindings } from './main.ts';
import { END_MARKER, START_MARKER } from './readme.ts';
import { pickHardwareClass } from './summarize.ts';

const SEEDS = [0, 1, 2] as const;

function run(o: Omit<MakeRun, 'tier' | 'hardwareClass'> & { hardwareClass?: string; tier?: MakeRun['tier'] }): RunRecord {
  return makeRun({ tier: 'cpu', hardwareClass: HW, ...o });
}

/** The record with its final legibility changed, sealed again so it stays valid. */
function withLegibility(r: RunRecord, leg: Partial<Legibility>): RunRecord {
  const { contentHash: _old, ...rest } = r;
  if (!rest.final) throw new Error('only completed records have final legibility');
  return sealRecord({ ...rest, final: { ...rest.final, legibility: { ...rest.final.legibility, ...leg } } });
}

function refused(arch: string, task: string, seed: number): RunRecord {
  const { contentHash: _old, ...rest } = run({ arch, task, metric: BPC, seed, status: 'failed', curve: [[1, 4]] });
  return sealRecord({
    ...rest,
    curve: [],
    failure: { phase: 'build', message: `${arch} refuses task '${task}': experts choose among later positions (non-causal)` },
  });
}

function layer(name: string, nmi: number, experts = 4, effectiveExperts = 3.5): RoutingLayerStats {
  return {
    layer: name,
    experts,
    load: Array.from({ length: experts }, () => 1 / experts),
    maxVio: 0,
    coefficientOfVariation: 0,
    effectiveExperts,
    routingEntropy: null,
    nmi,
    counts: [[1]],
  };
}

const jitter = [-0.005, 0, 0.005] as const;
const j = (seed: number) => jitter[seed] as number;

/**
 * mnist: dense reaches its mean final 0.9 at exactly 1e7 FLOPs.
 * - switch-top1 reaches 0.9 at 2e6 / 2.5e6 / 3e6 FLOPs → multipliers 5, 4, 3.33, well above 1,
 *   and runs 4× slower per FLOP, so its wall-clock multiplier is a quarter of that; a 4th seed diverged
 * - topk never reaches 0.9 (ends at 0.8)
 * - hash ends like switch-top1 (overlapping), with NMI near 0 against switch-top1's 0.8 (last layer)
 * - shared-routed ends clearly worse (~0.85 … 0.92) and has no legibility recorded
 * - gradient-routed updates half the parameters against dense's all
 */
function mnistRecords(): RunRecord[] {
  const out: RunRecord[] = [];
  for (const seed of SEEDS) {
    out.push(
      withLegibility(
        run({
          arch: 'dense',
          family: 'dense',
          seed,
          curve: [
            [1e6, 0.5],
            [1e7, 0.9 + j(seed)],
          ],
        }),
        { updateDensity: 1 },
      ),
    );
    const reach = [2e6, 2.5e6, 3e6][seed] as number;
    out.push(
      withLegibility(
        run({
          arch: 'switch-top1',
          seed,
          secondsPerFlop: 4e-9,
          curve: [
            [1e6, 0.5],
            [reach, 0.9],
            [1e7, 0.96 + j(seed)],
          ],
        }),
        { routing: [layer('block0.moe', 0.1), layer('block1.moe', 0.8 + j(seed) * 4, 4, 3.2)], updateDensity: 0.7 },
      ),
    );
    out.push(
      run({
        arch: 'topk',
        seed,
        curve: [
          [1e6, 0.5],
          [1e7, 0.8 + j(seed)],
        ],
      }),
    );
    out.push(
      withLegibility(
        run({
          arch: 'hash',
          seed,
          curve: [
            [1e6, 0.5],
            [3e6, 0.9],
            [1e7, 0.96 + 2 * j(seed)],
          ],
        }),
        { routing: [layer('block0.moe', 0.02 + j(seed))] },
      ),
    );
    out.push(
      withLegibility(
        run({
          arch: 'shared-routed',
          family: 'hybrid',
          seed,
          curve: [
            [1e6, 0.5],
            [1e7, 0.85 + j(seed)],
          ],
        }),
        {
          updateDensity: null,
          routing: [],
          ablation: null,
        },
      ),
    );
    out.push(
      withLegibility(
        run({
          arch: 'gradient-routed',
          family: 'hybrid',
          seed,
          curve: [
            [1e6, 0.5],
            [1e7, 0.9 + j(seed)],
          ],
        }),
        {
          updateDensity: 0.5 + j(seed),
          routing: [],
        },
      ),
    );
  }
  out.push(run({ arch: 'switch-top1', seed: 3, status: 'diverged', curve: [[1e6, 0.5]] }));
  return out;
}

/** parity: switch-top1 reaches dense's 0.9 at 0.8e7, 1e7 and 1.25e7 → multipliers 1.25, 1, 0.8. */
function parityRecords(): RunRecord[] {
  return SEEDS.flatMap((seed) => {
    const reach = [0.8e7, 1e7, 1.25e7][seed] as number;
    return [
      run({
        arch: 'dense',
        family: 'dense',
        task: 'parity',
        seed,
        curve: [
          [1e6, 0.5],
          [1e7, 0.9 + j(seed)],
        ],
      }),
      run({
        arch: 'switch-top1',
        task: 'parity',
        seed,
        curve: [
          [1e6, 0.5],
          [reach, 0.9],
          [1.3e7, 0.91],
        ],
      }),
    ];
  });
}

/**
 * charlm, bits per character (lower is better): hash ends clearly lower than switch-top1,
 * so it is clearly *better*; expert-choice is refused; topk diverged on its only seed.
 */
function charlmRecords(): RunRecord[] {
  const out = SEEDS.flatMap((seed) => [
    run({
      arch: 'dense',
      family: 'dense',
      task: 'charlm',
      metric: BPC,
      seed,
      curve: [
        [1e6, 4],
        [1e7, 2.5 + j(seed)],
      ],
    }),
    run({
      arch: 'switch-top1',
      task: 'charlm',
      metric: BPC,
      seed,
      curve: [
        [1e6, 4],
        [1e7, 2.4 + j(seed)],
      ],
    }),
    run({
      arch: 'hash',
      task: 'charlm',
      metric: BPC,
      seed,
      curve: [
        [1e6, 4],
        [1e7, 2.0 + j(seed)],
      ],
    }),
    refused('expert-choice', 'charlm', seed),
  ]);
  out.push(run({ arch: 'topk', task: 'charlm', metric: BPC, seed: 0, status: 'diverged', curve: [[1e6, 4]] }));
  return out;
}

/** Noise the section must leave out: another tier, and a smaller hardware class. */
function otherSlices(): RunRecord[] {
  return [
    run({ arch: 'dense', family: 'dense', tier: 'smoke', seed: 0, curve: [[1e6, 0.1]] }),
    run({ arch: 'dense', family: 'dense', hardwareClass: 'other ×1 · cpu', seed: 0, curve: [[1e6, 0.2]] }),
  ];
}

/** The cells of one architecture's row in one task's table, by column header. */
function rowOf(md: string, task: string, arch: string): Record<string, string> {
  const section = md.split(`### ${task}\n`)[1]?.split('\n### ')[0] ?? '';
  const lines = section.split('\n').filter((l) => l.startsWith('| '));
  const split = (l: string) => l.slice(2, -2).split(' | ');
  const head = split(lines[0] ?? '');
  const line = lines.find((l) => l.startsWith(`| ${arch} |`));
  if (!line) throw new Error(`no row for ${arch} on ${task}`);
  const cells = split(line);
  return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
}

/** A column's value by the start of its header. */
function col(row: Record<string, string>, start: string): string {
  const key = Object.keys(row).find((k) => k.startsWith(start));
  if (key === undefined) throw new Error(`no column starting '${start}'`);
  return row[key] as string;
}

/** The clause of a literature bullet (direction, task) that mentions `arch`, as [figures, verdict]. */
function clause(md: string, direction: string, task: string, arch: string): [string, string] {
  const block = md.split(`- **(${direction})**`)[1]?.split('\n- **')[0] ?? '';
  const line = block.split('\n').find((l) => l.startsWith(`  - ${task}: `));
  if (!line) throw new Error(`no ${task} line under (${direction})`);
  const seg = line
    .slice(`  - ${task}: `.length)
    .split('; ')
    .find((s) => s.includes(arch));
  if (!seg) throw new Error(`no clause about ${arch} in (${direction}) ${task}: ${line}`);
  const m = /^(.*) → \*\*(.*)\*\*$/.exec(seg);
  if (!m) throw new Error(`malformed clause: ${seg}`);
  return [m[1] as string, m[2] as string];
}

const verdict = (md: string, d: string, task: string, arch: string) => clause(md, d, task, arch)[1];

describe('summarizeFindings on known answers', () => {
  const records = [...mnistRecords(), ...parityRecords(), ...charlmRecords(), ...otherSlices()];
  let md = '';
  beforeAll(async () => {
    md = await buildFindings(records);
  });

  it('says what it was generated from: the slice only, its seeds, dates and the command', () => {
    const first = md.split('\n')[0] ?? '';
    const slice = records.filter((r) => r.task.tier === 'cpu' && r.hardwareClass === HW);
    expect(pickHardwareClass(records)).toBe(HW);
    expect(first).toContain(`${slice.length} records of tier cpu`);
    expect(first).toContain(`\`${HW}\``);
    expect(first).toContain('3 seeds per cell');
    expect(first).toContain('runs 2025-03-01');
    expect(first).toContain('`npm run findings`');
  });

  it('puts the tasks in suite order, and says so where a task has no runs', () => {
    const at = (s: string) => md.indexOf(`### ${s}`);
    expect(at('superposition')).toBeGreaterThanOrEqual(0);
    expect(at('superposition')).toBeLessThan(at('parity'));
    expect(at('parity')).toBeLessThan(at('mnist'));
    expect(at('mnist')).toBeLessThan(at('charlm'));
    expect(md).toContain('No cpu-tier runs of superposition on this hardware class.');
  });

  it('fills a row from the store and the records behind it', () => {
    const sw = rowOf(md, 'mnist', 'switch-top1');
    expect(col(sw, 'seeds')).toBe('3 / 1');
    // final 0.955, 0.96, 0.965: mean 96.00%, half-width t(2)·0.005/√3 = 1.24 points
    expect(col(sw, 'accuracy (%)')).toBe('96.00 ± 1.24%');
    // 1e7 / {2e6, 2.5e6, 3e6} = 5, 4, 3.33: mean 4.11, t(2)·sd/√3 = 2.08; on seconds a quarter of each
    expect(col(sw, '× dense on executed FLOPs')).toBe('4.11× [2.03, 6.19]');
    expect(col(sw, '× dense on wall-clock')).toBe('1.03× [0.507, 1.55]');
    expect(col(sw, 'routing NMI with digit')).toBe('0.8'); // the last layer, not the mean of 0.1 and 0.8
    expect(col(sw, 'effective experts / E')).toBe('3.2 / 4');
    expect(col(sw, 'update density')).toBe('70%');
    expect(col(rowOf(md, 'mnist', 'dense'), '× dense on executed FLOPs')).toBe('1 (baseline)');
  });

  it('writes — where a figure does not apply or was not measured', () => {
    const shared = rowOf(md, 'mnist', 'shared-routed');
    for (const c of ['routing NMI', 'effective experts', 'ablation diagonal dominance', 'update density']) {
      expect(col(shared, c)).toBe('—');
    }
    expect(col(rowOf(md, 'mnist', 'gradient-routed'), 'routing NMI')).toBe('—');
    expect(col(rowOf(md, 'mnist', 'gradient-routed'), 'update density')).toBe('50%');
    expect(Object.keys(shared).some((k) => k === 'D*')).toBe(false); // D* is superposition's only
  });

  it('shows why there is no multiplier', () => {
    expect(col(rowOf(md, 'mnist', 'topk'), '× dense on executed FLOPs')).toBe("never reached dense's quality (0.9)");
  });

  it('turns a refusal into a footnote and a failed-only architecture into a row', () => {
    expect(() => rowOf(md, 'charlm', 'expert-choice')).toThrow();
    const notes = md.split('\n').filter((l) => l.includes('expert-choice'));
    expect(notes.filter((l) => l.includes('refused before training'))).toHaveLength(1);
    expect(notes[0]).toContain("refuses task 'charlm'");
    const topk = rowOf(md, 'charlm', 'topk');
    expect(col(topk, 'seeds')).toBe('0 / 1');
    expect(col(topk, '× dense on executed FLOPs')).toContain('diverged');
  });

  it('(a) multiplier above 1 → as predicted; never reached → not as predicted; straddling 1 → inconclusive', () => {
    expect(verdict(md, 'a', 'mnist', 'switch-top1')).toBe('as predicted');
    expect(verdict(md, 'a', 'mnist', 'topk')).toBe('not as predicted');
    expect(clause(md, 'a', 'parity', 'switch-top1')).toEqual([
      'switch-top1 1.02× [0.457, 1.58]',
      'inconclusive at 3 seeds (intervals overlap)',
    ]);
    expect(verdict(md, 'a', 'parity', 'topk')).toBe('not run');
  });

  it('(b) wall-clock gain below the FLOP gain → as predicted; no FLOP gain → not testable', () => {
    expect(verdict(md, 'b', 'mnist', 'switch-top1')).toBe('as predicted');
    expect(verdict(md, 'b', 'mnist', 'topk')).toMatch(/^not testable/);
  });

  it('(c) respects the direction of the metric', () => {
    expect(verdict(md, 'c', 'mnist', 'hash')).toBe('as predicted (intervals overlap)');
    // bpc: hash's lower numbers are the better ones
    expect(verdict(md, 'c', 'charlm', 'hash')).toBe('as predicted (hash clearly better)');
  });

  it('(d), (e): clearly worse shared expert; a missing control is not run', () => {
    expect(verdict(md, 'd', 'mnist', 'shared-routed')).toBe('not as predicted (shared clearly worse, as OLMoE found)');
    expect(verdict(md, 'e', 'mnist', 'dense-total')).toBe('not run');
  });

  it('(f) learned NMI above hash and fewer updated parameters than dense → as predicted; hash keyed by the label is no control', () => {
    expect(verdict(md, 'f', 'mnist', 'switch-top1')).toBe('as predicted');
    expect(verdict(md, 'f', 'mnist', 'gradient-routed')).toBe('as predicted');
    expect(verdict(md, 'f', 'mnist', 'topk')).toMatch(/^not testable: routing not recorded/);
    expect(verdict(md, 'f', 'charlm', 'switch-top1')).toMatch(/^not testable: hash routes by the input character/);
  });

  it('gives no interval verdict on one seed', async () => {
    const one = await buildFindings([...mnistRecords(), ...parityRecords()].filter((r) => r.task.seed === 0));
    expect(one.split('\n')[0]).toContain('1 seed per cell');
    expect(verdict(one, 'a', 'mnist', 'switch-top1')).toBe('inconclusive at 1 seed (one seed gives no interval)');
    expect(verdict(one, 'a', 'mnist', 'topk')).toBe('not as predicted'); // never reached is a fact at any n
    expect(col(rowOf(one, 'mnist', 'switch-top1'), 'accuracy')).toBe('95.50%');
  });

  it('with no cpu-tier records says how to produce them', async () => {
    const none = await buildFindings(otherSlices().filter((r) => r.task.tier !== 'cpu'));
    expect(none).toContain('No cpu-tier records are committed yet');
    expect(none).toContain('`npx middlepath run --tier cpu`');
  });
});

describe('npm run findings on a README', () => {
  let dir = '';
  const written = [...mnistRecords(), ...charlmRecords()];
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink: FindingsIo = { out: (t) => out.push(t), err: (t) => err.push(t) };
    return { out, err, sink };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'middlepath-findings-test-'));
    for (const r of written) writeRecord(dir, r);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces only the text between the markers, idempotently, and --check tells stale from fresh', async () => {
    const readme = join(dir, 'README.md');
    const before = '# title\n\n## What we found\n\nIntro.\n\n';
    const after = '\n\n## Benchmarks\n\nUntouched.\n';
    writeFileSync(readme, `${before}${START_MARKER}\nold text\n${END_MARKER}${after}`);
    const first = io();
    expect(await runFindings({ records: join(dir, 'runs'), readme }, first.sink)).toBe(0);
    const once = readFileSync(readme, 'utf8');
    expect(once.startsWith(`${before}${START_MARKER}\n`)).toBe(true);
    expect(once.endsWith(`${END_MARKER}${after}`)).toBe(true);
    expect(once).not.toContain('old text');
    expect(once).toContain('### Against the literature');
    expect(first.out.join('\n')).toContain('### mnist'); // the section is printed too
    // every figure links to the record files behind it, relative to the README
    const sw = written.find((r) => r.architecture.name === 'switch-top1' && r.task.seed === 0) as RunRecord;
    expect(once).toContain(`[s0](runs/${sw.id}.json)`);

    expect(await runFindings({ records: join(dir, 'runs'), readme }, io().sink)).toBe(0);
    expect(readFileSync(readme, 'utf8')).toBe(once);
    expect(await runFindings({ records: join(dir, 'runs'), readme, check: true }, io().sink)).toBe(0);

    writeFileSync(readme, once.replace('### Against the literature', '### Against the literature (edited)'));
    const stale = io();
    expect(await runFindings({ records: join(dir, 'runs'), readme, check: true }, stale.sink)).toBe(1);
    expect(stale.err.join('\n')).toContain('npm run findings');
    // --check never writes
    expect(readFileSync(readme, 'utf8')).toContain('(edited)');
  });

  it('exits 2 and prints the section when the markers are missing', async () => {
    const readme = join(dir, 'NO-MARKERS.md');
    writeFileSync(readme, '# title\n');
    const r = io();
    expect(await runFindings({ records: join(dir, 'runs'), readme }, r.sink)).toBe(2);
    expect(readFileSync(readme, 'utf8')).toBe('# title\n');
    expect(r.out.join('\n')).toContain('### Against the literature');
    expect(r.err.join('\n')).toContain(START_MARKER);
  });

  it('reports a record file that fails validation and leaves it out', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'middlepath-findings-bad-'));
    try {
      writeRecord(bad, parityRecords()[0] as RunRecord);
      mkdirSync(join(bad, 'runs'), { recursive: true });
      writeFileSync(join(bad, 'runs', 'broken.json'), '{ not json');
      const readme = join(bad, 'README.md');
      writeFileSync(readme, `${START_MARKER}\n${END_MARKER}\n`);
      const r = io();
      expect(await runFindings({ records: join(bad, 'runs'), readme }, r.sink)).toBe(0);
      expect(r.err.join('\n')).toContain('broken.json');
      expect(readFileSync(readme, 'utf8')).toContain('1 record file(s) failed validation');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
