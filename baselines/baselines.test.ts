/**
 * The routed and hybrid baselines through the real suite on wasm (tiny budgets): each trains
 * to completion on vector tasks and on charlm, without leaking tensors; expert-choice is
 * refused on charlm before training; every model declares its parameters honestly and fits
 * the cpu tier's caps (except dense-total, whose active parameters are its total).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../harness/backend.ts';
import { createBuildContext } from '../harness/build-context.ts';
import { loadArchitecture } from '../harness/load-architecture.ts';
import { paramCounts } from '../harness/measure/model-flops.ts';
import { runSuite, type SuiteOptions } from '../harness/suite.ts';
import { findTask, TASKS } from '../harness/tasks/index.ts';
import { checkParamCaps } from '../harness/train.ts';

const ROUTED = ['switch-top1', 'topk', 'expert-choice', 'hash', 'shared-routed', 'gradient-routed'];
const BIAS_VARIANT = join(import.meta.dirname, '..', 'test', 'fixtures', 'shared-routed-bias.ts');
const tmp = () => mkdtempSync(join(tmpdir(), 'mp-baselines-'));

function suite(over: Partial<SuiteOptions>) {
  return runSuite({ tier: 'smoke', backend: 'wasm', outDir: tmp(), seeds: 1, ...over });
}

beforeAll(async () => {
  await selectBackend('wasm'); // as the suite does, so that tensor counts can be taken before it runs
});

describe('routed and hybrid baselines in the suite (wasm)', () => {
  it('train to completion on the vector tasks, several steps each, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const { records, loadErrors } = await suite({
      archs: [...ROUTED, 'dense-block', BIAS_VARIANT],
      tasks: ['superposition', 'parity'],
      settings: { budgetFlops: 2e8, evalPoints: 2, timeLimitSeconds: 60 },
    });
    expect(loadErrors).toEqual([]);
    expect(records).toHaveLength(2 * (ROUTED.length + 2));
    for (const r of records) {
      const what = `${r.architecture.name} on ${r.task.id}`;
      expect(r.status, `${what}: ${r.failure?.message}`).toBe('completed');
      expect(r.training.steps, what).toBeGreaterThanOrEqual(4); // past the harness's leak check (steps 2…)
      expect(r.final?.quality, what).toEqual(expect.any(Number));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('train on charlm (MoE FFN inside the transformer), and expert-choice is refused there before training', async () => {
    const before = tf.memory().numTensors;
    const { records } = await suite({
      archs: [...ROUTED, BIAS_VARIANT],
      tasks: ['charlm'],
      settings: { budgetFlops: 2.5e9, evalPoints: 2, timeLimitSeconds: 60 },
    });
    for (const r of records) {
      if (r.architecture.name === 'expert-choice') {
        expect(r.status).toBe('refused');
        expect(r.failure).toEqual({ phase: 'build', message: expect.stringMatching(/expert-choice refuses task 'charlm': .*causal/) });
        expect(r.training.steps).toBe(0);
        continue;
      }
      expect(r.status, `${r.architecture.name}: ${r.failure?.message}`).toBe('completed');
      expect(r.training.steps, r.architecture.name).toBeGreaterThanOrEqual(3);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dense-total, a declared matched-total control, trains past the active cap (its active parameters are its total)', async () => {
    for (const id of ['parity', 'charlm']) {
      const task = findTask(id);
      const { records } = await suite({
        archs: ['dense-total'],
        tasks: [id],
        settings: { budgetFlops: id === 'charlm' ? 6e9 : 4e8, evalPoints: 2, timeLimitSeconds: 60 },
      });
      expect(records[0]?.status, `${id}: ${records[0]?.failure?.message}`).toBe('completed');
      expect(records[0]?.params.active).toBeGreaterThan(task.tiers.smoke.size.maxActiveParams);
    }
  });

  it('the active cap binds any other architecture, and the total cap binds the control too', async () => {
    const control = await loadArchitecture('dense-total');
    const dense = await loadArchitecture('dense');
    const size = findTask('parity').tiers.cpu.size;
    const overActive = { total: size.maxActiveParams + 1, active: size.maxActiveParams + 1 };
    expect(() => checkParamCaps(overActive, size, 'cpu', 'parity', dense)).toThrow(
      /allows \d+ \(\d+ active\) on 'parity' — make it smaller/,
    );
    expect(() => checkParamCaps(overActive, size, 'cpu', 'parity', control)).not.toThrow();
    // the same module loaded by path is not a baseline: no exemption
    expect(() => checkParamCaps(overActive, size, 'cpu', 'parity', { ...control, origin: './dense-total.ts' })).toThrow(/make it smaller/);
    const overTotal = { total: size.maxParams + 1, active: size.maxParams + 1 };
    expect(() => checkParamCaps(overTotal, size, 'cpu', 'parity', control)).toThrow(/make it smaller/);
  });
});

describe('parameters at the cpu tier', () => {
  it('are declared honestly and fit the caps (dense-total: total only), with 8 experts wherever the caps allow', async () => {
    const rows: string[] = [];
    const active = new Map<string, number>();
    for (const name of ['dense', 'dense-total', 'dense-block', ...ROUTED]) {
      const { architecture } = await loadArchitecture(name);
      for (const task of TASKS) {
        const size = task.tiers.cpu.size;
        if (architecture.refuse?.(task.spec)) {
          rows.push(`${name.padEnd(16)} ${task.spec.id.padEnd(14)} refused`);
          continue;
        }
        const ctx = createBuildContext(0, `caps-${name}-${task.spec.id}`);
        const model = architecture.build(task.spec, size, ctx);
        const p = paramCounts(model, ctx);
        const hp = model.hyperparameters ?? {};
        rows.push(
          `${name.padEnd(16)} ${task.spec.id.padEnd(14)} ${String(p.total).padStart(9)} ${String(p.active).padStart(8)}  experts ${hp.experts ?? '-'}`,
        );
        expect(p.total, `${name} on ${task.spec.id}`).toBeLessThanOrEqual(size.maxParams);
        active.set(`${name} ${task.spec.id}`, p.active);
        const embeddings = ctx.created.filter((c) => c.init === 'embedding').reduce((n, c) => n + c.variable.size, 0);
        if (name === 'dense-total')
          expect(p.active).toBe(p.total - embeddings); // every parameter but the embedding tables
        else expect(p.active, `${name} on ${task.spec.id}`).toBeLessThanOrEqual(size.maxActiveParams);
        if (typeof hp.experts === 'number' && task.spec.id !== 'superposition') expect(hp.experts).toBeGreaterThanOrEqual(8);
        ctx.dispose();
      }
    }
    console.log(`name             task               total   active\n${rows.join('\n')}`);
    // dense-block is switch-top1 with one expert and no router: switch-top1's active parameters less its routers'
    for (const task of TASKS) {
      const block = active.get(`dense-block ${task.spec.id}`) ?? 0;
      const routed = active.get(`switch-top1 ${task.spec.id}`) ?? 0;
      expect(block, task.spec.id).toBeLessThan(routed);
      // (on the 220-parameter toy model a router is a large share; elsewhere a small one)
      if (task.spec.id !== 'superposition') expect(block, task.spec.id).toBeGreaterThan(0.9 * routed);
    }
  });

  it('report routing traces for every routed layer and honour ForwardContext.ablate', async () => {
    for (const id of ['parity', 'charlm']) {
      const task = findTask(id);
      const data = task.load({ runSeed: 0, dataSeed: 0 });
      const batch = data.nextTrainBatch(4);
      for (const name of ['switch-top1', 'topk', 'hash', 'shared-routed']) {
        const { architecture } = await loadArchitecture(name);
        const ctx = createBuildContext(1, `trace-${name}-${id}`);
        const model = architecture.build(task.spec, task.tiers.smoke.size, ctx);
        const rows = batch.x.shape[0] * (task.spec.input.kind === 'tokens' ? (batch.x.shape[1] as number) : 1);
        tf.tidy(() => {
          const r = model.forward(batch.x, { training: false, groups: batch.groups });
          const depth = task.tiers.smoke.size.depth;
          // One routed layer per transformer block; on vector tasks one per hidden layer after the stem.
          expect(r.routing?.length, `${name} on ${id}`).toBe(task.spec.input.kind === 'tokens' ? depth : Math.max(1, depth - 1));
          const trace = r.routing?.[0];
          expect(trace?.assignment.shape[0]).toBe(rows);
          expect(trace?.assignment.dtype).toBe('int32');
          const experts = trace?.experts ?? 0;
          const assignment = Array.from(trace?.assignment.dataSync() ?? []);
          expect(assignment.every((e) => e >= 0 && e < experts)).toBe(true); // evaluation is dropless
          // Masking the expert most rows use changes the output.
          const counts = Array.from({ length: experts }, (_, e) => assignment.filter((a) => a === e).length);
          const busiest = counts.indexOf(Math.max(...counts));
          const ablated = model.forward(batch.x, { training: false, ablate: { layer: trace?.layer ?? '', expert: busiest } });
          expect(tf.max(tf.abs(tf.sub(ablated.output, r.output))).dataSync()[0]).toBeGreaterThan(0);
          const other = model.forward(batch.x, { training: false, ablate: { layer: 'no-such-layer', expert: busiest } });
          expect(tf.max(tf.abs(tf.sub(other.output, r.output))).dataSync()[0]).toBe(0);
        });
        ctx.dispose();
      }
      tf.dispose([batch.x, batch.y, batch.groups]);
      data.dispose();
    }
  });
});
