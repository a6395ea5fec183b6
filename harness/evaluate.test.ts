/**
 * The legibility metrics as the harness records them, through real runs on parity with
 * routing fixed to known answers: routing by subtask gives NMI 1 and an ablation matrix
 * whose diagonal dominates; a collapsed router is recorded as collapsed; dense runs record
 * the toy model's geometry; an evaluation never sees the labels.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ForwardContext, Model } from './architecture.ts';
import { selectBackend } from './backend.ts';
import { checkedForward } from './forward.ts';
import type { RunRecord } from './results/record.ts';
import { runSuite } from './suite.ts';
import { findTask } from './tasks/index.ts';

const fixture = (name: string) => join(import.meta.dirname, '..', 'test', 'fixtures', name);
const run = (archs: string[], task: string, budgetFlops: number) =>
  runSuite({
    tier: 'smoke',
    backend: 'wasm',
    outDir: mkdtempSync(join(tmpdir(), 'mp-evaluate-')),
    seeds: 1,
    tasks: [task],
    archs,
    settings: { budgetFlops, evalPoints: 2, timeLimitSeconds: 120 },
  });

describe('legibility metrics in the run record', () => {
  const byName = new Map<string, RunRecord>();
  beforeAll(async () => {
    const { records } = await run([fixture('oracle-router.ts'), fixture('collapsed-router.ts')], 'parity', 1e9);
    for (const r of records) byName.set(r.architecture.name, r);
  }, 300_000);

  const final = (name: string) => {
    const r = byName.get(name);
    expect(r?.status, r?.failure?.message).toBe('completed');
    if (!r?.final) throw new Error(`${name}: no final results`);
    return r.final.legibility;
  };

  it('routing by subtask: every evaluation point has NMI 1 with the subtask, and balanced load by the Zipf frequencies', () => {
    const r = byName.get('oracle-router');
    for (const point of r?.curve ?? []) {
      const [layer] = point.legibility?.routing ?? [];
      expect(layer?.layer).toBe('moe');
      expect(layer?.experts).toBe(16);
      expect(layer?.nmi).toBeCloseTo(1, 6);
      expect(layer?.ami).toBeCloseTo(1, 6);
      expect(layer?.amiNull?.p95).toBeLessThan(0.01);
      // the held-out set has the same number of examples of every subtask
      for (const share of layer?.load ?? []) expect(share).toBeCloseTo(1 / 16, 6);
      expect(layer?.routingEntropy).toBeNull(); // hash routing has no router probabilities
    }
  });

  it('routing by subtask: masking expert e hurts subtask e and no other', () => {
    const ablation = final('oracle-router').ablation;
    expect(ablation?.layer).toBe('moe');
    const matrix = ablation?.matrix ?? [];
    expect(matrix).toHaveLength(16);
    for (let e = 0; e < 16; e++) {
      for (let g = 0; g < 16; g++) if (g !== e) expect(matrix[e]?.[g], `expert ${e}, subtask ${g}`).toBeCloseTo(0, 9);
    }
    // the two most frequent subtasks are learned by now (the third is at ~65% on the mixed
    // held-out set), so masking their expert costs accuracy
    for (let e = 0; e < 2; e++) expect(matrix[e]?.[e]).toBeGreaterThan(0.2);
    expect(ablation?.diagonalDominance).toBeGreaterThan(0.99);
    // beside groups no model could know (permuted labels) the same statistic is lower, though
    // not low: masking an expert of an unlearned subtask flips predictions at random, and
    // the max over noisy groups is what dominance reads — the floor the null is there to show
    expect(ablation?.dominanceNull?.permutations).toBe(100);
    expect(ablation?.dominanceNull?.p95).toBeLessThan((ablation?.diagonalDominance ?? 0) - 0.1);
  });

  it('a collapsed router is recorded as collapsed: one expert takes all, NMI 0', () => {
    const [layer] = final('collapsed-router').routing;
    expect(layer?.load[0]).toBe(1);
    expect(layer?.effectiveExperts).toBeCloseTo(1, 9);
    expect(layer?.maxVio).toBeCloseTo(15, 9); // (max − mean)/mean = (1 − 1/16)/(1/16)
    expect(layer?.nmi).toBeCloseTo(0, 9);
    expect(layer?.ami).toBeCloseTo(0, 9);
  });

  it('dense on the toy task records D* and per-feature dimensionality; models without a routed layer record no routing or ablation', async () => {
    const { records } = await run(['dense'], 'superposition', 2e9);
    const legibility = records[0]?.final?.legibility;
    expect(legibility?.routing).toEqual([]);
    expect(legibility?.ablation).toBeNull();
    const sp = legibility?.superposition;
    expect(sp?.perFeatureDimensionality).toHaveLength(20);
    // 5 hidden dimensions: D* = m/‖W‖²_F, below 1 once more than 5 features are represented
    expect(sp?.dimensionsPerFeature).toBeGreaterThan(0);
    expect(sp?.dimensionsPerFeature).toBeLessThan(1);
    for (const d of sp?.perFeatureDimensionality ?? []) expect(d).toBeLessThanOrEqual(1 + 1e-9);
    const sum = (sp?.perFeatureDimensionality ?? []).reduce((a, b) => a + b, 0);
    expect(sp?.featureDimensionalitySum).toBeCloseTo(sum, 9);
    expect(sp?.dimensionsPerFeatureScaleFree).toBeGreaterThan(0);
    expect(sp?.dimensionsPerFeatureScaleFree).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('evaluation forward', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('never passes the labels to the model, and passes them in training', () => {
    const seen: ForwardContext[] = [];
    const model: Model = {
      variables: [],
      forward(x, ctx) {
        seen.push(ctx);
        return { output: tf.zeros([x.shape[0] as number, 2]) };
      },
    };
    const spec = findTask('parity').spec;
    const batch = { x: tf.zeros([4, 40]), y: tf.zeros([4], 'int32'), groups: tf.tensor1d([0, 1, 2, 3], 'int32') };
    tf.tidy(() => {
      checkedForward(model, spec, batch, false);
      checkedForward(model, spec, batch, false, { layer: 'moe', expert: 1 });
      checkedForward(model, spec, batch, true);
    });
    expect(seen.map((c) => c.groups === undefined)).toEqual([true, true, false]);
    expect(seen[1]?.ablate).toEqual({ layer: 'moe', expert: 1 });
    tf.dispose(Object.values(batch));
  });
});
