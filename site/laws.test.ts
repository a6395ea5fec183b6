/**
 * The /laws page's parts on real records: a one-seed smoke-tier sweep (E ∈ {1, 2} × d ∈ {32,
 * 64}, switch-top1) trained into a temporary directory, fitted, and drawn — the loss-vs-E
 * chart with the fitted law per N, the residuals, and the markdown tables; and, with no
 * records, the text that says the sweeps have not been run and gives the command.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../harness/backend.ts';
import { fitGranularity } from '../harness/laws/fit.ts';
import { lawsStudy } from '../harness/laws/study.ts';
import { granularityWorld } from '../harness/laws/synthetic.ts';
import { lawsSection } from '../harness/laws/text.ts';
import { readValidRecords } from '../harness/results/files.ts';
import { stampInForce } from '../harness/results/protocol.ts';
import { runPlanned } from '../harness/suite.ts';
import { parseSweepPlan } from '../harness/sweeps/plan.ts';
import { planSweep } from '../harness/sweeps/run.ts';
import { ExpertsChart, GranularityChart, ResidualsChart } from './components/LawsChart.tsx';
import { sweepPlans } from './lib/sweeps.ts';

const plan = parseSweepPlan({
  name: 'page-pilot',
  study: 'expert-count',
  description: 'a test of the page on real records',
  task: 'charlm',
  tiers: ['smoke'],
  protocol: stampInForce(),
  seeds: { from: 2000, count: 1 },
  seedsBasis: 'a test',
  grid: { routers: ['switch-top1'], experts: [1, 2], widths: [32, 64] },
  margin: { logLossPerDoubling: 0.007, alpha: 0.05, basis: 'a test' },
  evaluation: { points: 1, basis: 'a test' },
});

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('/laws', () => {
  it('draws the fitted law over real sweep records, with its residuals and tables', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mp-laws-page-'));
    await runPlanned(await planSweep(plan, { outDir: out }), {
      backend: 'wasm',
      outDir: out,
      settings: { budgetFlops: 1.5e9, timeLimitSeconds: 120 },
    });
    const records = readValidRecords(out);
    const study = lawsStudy(plan, records, 50);
    expect(study.observations).toBe(4);
    const fit = study.clark[0];
    expect(fit).toBeDefined();
    if (!fit) return;
    const chart = renderToStaticMarkup(createElement(ExpertsChart, { fit, observations: study.observationsList }));
    expect(chart).toContain('<svg');
    expect(chart.match(/<circle/g)?.length).toBe(4); // one dot per run
    expect(chart).toContain('d=32');
    expect(renderToStaticMarkup(createElement(ResidualsChart, { fit }))).toContain('<svg');
    const text = lawsSection(study);
    expect(text).toContain('4 of 4 runs recorded');
    expect(text).toContain('| switch-top1 | smoke |');
    expect(text).toContain('Clark et al. 2022');
  });

  it('draws the granularity curve', () => {
    const obs = granularityWorld(-0.01, 0.001, 2);
    const fit = fitGranularity(obs, 'switch-top1', 'cpu', 50);
    expect(fit).not.toBeNull();
    if (!fit) return;
    const chart = renderToStaticMarkup(createElement(GranularityChart, { fit, observations: obs }));
    expect(chart.match(/<circle/g)?.length).toBe(8);
  });

  it('without records, says the committed sweeps have not been run and gives the command', () => {
    const { plans, errors } = sweepPlans();
    expect(errors).toEqual([]);
    expect(plans.map((p) => p.name)).toEqual(['experts', 'granularity']);
    for (const p of plans) expect(lawsSection(lawsStudy(p, []))).toContain(`has not been run yet: \`middlepath sweep ${p.name} --jobs 2\``);
  });
});
