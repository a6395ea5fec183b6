/**
 * A tiny real sweep end to end (charlm, smoke tier at a small budget, E ∈ {1, 2} × d ∈ {32,
 * 64}, two seeds) into a temporary record directory: the plan expands into runs of the suite,
 * every record carries its knobs and size, a second pass skips everything, the records read
 * back as observations and fit Clark's law, and the plan is refused under another protocol or
 * with fewer seeds than the protocol's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { lawsStudy } from '../laws/study.ts';
import { lawsSection } from '../laws/text.ts';
import { readValidRecords } from '../results/files.ts';
import { loadProtocol, stampInForce } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { defaultTuningFile, readTuningFile } from '../results/tuning.ts';
import { runPlanned } from '../suite.ts';
import { findTask } from '../tasks/index.ts';
import { expandPlan, loadSweepPlan, parseSweepPlan, type SweepPlan } from './plan.ts';
import { checkPlanProtocol, planSweep } from './run.ts';

const stamp = stampInForce();
const plan: SweepPlan = parseSweepPlan({
  name: 'pilot',
  study: 'expert-count',
  description: 'the smallest real sweep: a test of the pipeline, not a measurement',
  task: 'charlm',
  tiers: ['smoke'],
  protocol: stamp,
  seeds: { from: 2000, count: 2 },
  seedsBasis: 'a test',
  grid: { routers: ['switch-top1'], experts: [1, 2], widths: [32, 64] },
  caps: { totalHeadroom: 24 },
  margin: { logLossPerDoubling: 0.007, alpha: 0.05, basis: 'a test' },
  evaluation: { points: 2, basis: 'a test: the knob wins over the tier (and the test settings)' },
});
const settings = { budgetFlops: 1.5e9, evalPoints: 1, timeLimitSeconds: 120 };

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('a sweep through the suite', () => {
  it('runs every cell × seed once, records the knobs, resumes, and fits', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-sweep-'));
    expect(expandPlan(plan).map((c) => `${c.arch} E=${c.experts} d=${c.width}`)).toEqual([
      'dense-block E=1 d=32',
      'switch-top1 E=2 d=32',
      'dense-block E=1 d=64',
      'switch-top1 E=2 d=64',
    ]);
    const first = await planSweep(plan, { outDir: out });
    expect(first.planned).toHaveLength(8);
    expect(new Set(first.planned.map((r) => r.key)).size).toBe(8);
    const result = await runPlanned(first, { backend: 'wasm', outDir: out, settings });
    const records = readValidRecords(out) as RunRecord[];
    expect(records).toHaveLength(8);
    for (const r of result.records) {
      expect(r.status, r.failure?.message).toBe('completed');
      expect(r.schemaVersion).toBe(3);
      expect(r.knobs?.width).toBe(r.size?.width);
      expect(r.knobs?.totalHeadroom).toBe(24);
      expect(r.knobs?.evalPoints).toBe(2);
      expect(r.curve).toHaveLength(3); // step 0, the point at 1% of the budget, the final one
      expect(r.architecture.hyperparameters.width).toBe(r.knobs?.width);
      if (r.architecture.name === 'switch-top1') expect(r.knobs?.experts).toBe(2);
      else expect(r.knobs?.experts).toBeUndefined();
    }
    // the caps at d = 32 are the dense reference at 32 × 24, not the tier's
    const narrow = records.find((r) => r.size?.width === 32);
    expect(narrow?.size?.maxParams).toBeLessThan(records.find((r) => r.size?.width === 64)?.size?.maxParams ?? 0);

    const again = await planSweep(plan, { outDir: out });
    expect(again.planned).toHaveLength(0);
    expect(again.skipped).toHaveLength(8);

    const study = lawsStudy(plan, records, 100);
    expect(study.observations).toBe(8);
    expect(study.clark).toHaveLength(1);
    expect(study.clark[0]?.cells).toHaveLength(4);
    expect(study.cost).toHaveLength(4);
    expect(lawsSection(study)).toContain('| switch-top1 | smoke |');
    // a record outside the plan (another seed) is not an observation
    expect(lawsStudy({ ...plan, seeds: { from: 3000, count: 2 } }, records, 10).observations).toBe(0);
  });

  it('refuses a plan made under another protocol, or with fewer seeds than the protocol asks', () => {
    expect(() => checkPlanProtocol({ ...plan, protocol: { version: stamp.version, hash: 'f'.repeat(64) } })).toThrow(/re-plan the sweep/);
    const wanted = loadProtocol().tasks.charlm?.seedsPerCell;
    expect(() => checkPlanProtocol(plan)).toThrow(new RegExp(`2 seeds per cell, below the protocol's ${wanted} for charlm`));
  });

  it('the committed plans are valid, under the protocol in force, each run at the rate tuned for its width, or refused until it is', async () => {
    const entries = readTuningFile(defaultTuningFile('cpu'), 'cpu').entries.filter((e) => e.task === 'charlm');
    const tierWidth = findTask('charlm').tiers.cpu.size.width;
    // the rate a cell trains at: the standard entry at the tier's width, else the entry tuned with { width }
    const rateAt = (arch: string, width: number) =>
      entries.find((e) => e.arch === arch && JSON.stringify(e.knobs ?? {}) === JSON.stringify(width === tierWidth ? {} : { width }))
        ?.chosen;
    for (const name of ['experts', 'granularity']) {
      const p = loadSweepPlan(join(import.meta.dirname, '..', '..', 'results', 'sweeps', `${name}.json`));
      expect(p.learningRate).toBe('tuned per width');
      expect(() => checkPlanProtocol(p)).not.toThrow();
      const cells = expandPlan(p);
      const untuned = cells.find((c) => rateAt(c.arch, c.width) === undefined);
      if (name === 'granularity') expect(untuned).toBeUndefined(); // d = 64, the tier's own width: the standard tuning
      const plan = () => planSweep(p, { outDir: mkdtempSync(join(tmpdir(), 'mp-sweep-plan-')) });
      if (untuned) {
        await expect(plan()).rejects.toThrow(
          /no chosen rate for .* on charlm at width \d+: run `middlepath tune --tier cpu --task charlm --arch .* --set width=\d+` first/,
        );
        continue;
      }
      const { planned } = await plan();
      expect(planned).toHaveLength(cells.length * p.seeds.count);
      for (const r of planned) expect(r.tuning?.chosen, r.archSpec).toBe(rateAt(r.archSpec, r.knobs?.width ?? tierWidth));
    }
    expect(() => parseSweepPlan({ ...plan, grid: { ...plan.grid, experts: [0] } })).toThrow(/grid.experts/);
  });
});
