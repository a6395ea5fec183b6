/**
 * The sweep knobs on the routed baselines, built for real (no training): E = 1 is exactly
 * dense-block (same parameters, same variables); granularity keeps active and total
 * parameters those of G = 1 up to the router; the knobs change the network the way they
 * say; the width knob reshapes every architecture alike; an undeclared knob is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ArchitectureKnobs, SizeSpec } from '../harness/architecture.ts';
import { selectBackend } from '../harness/backend.ts';
import { createBuildContext, type OwnedBuildContext } from '../harness/build-context.ts';
import { sizeWithKnobs } from '../harness/knobs.ts';
import { loadArchitecture } from '../harness/load-architecture.ts';
import { paramCounts } from '../harness/measure/model-flops.ts';
import { sha256 } from '../harness/results/files.ts';
import { readTuningFile } from '../harness/results/tuning.ts';
import { checkKnobsFor } from '../harness/suite.ts';
import { findTask } from '../harness/tasks/index.ts';

const charlm = findTask('charlm');
const cpu = charlm.tiers.cpu.size;
const open: OwnedBuildContext[] = [];

async function built(name: string, knobs: ArchitectureKnobs, size: SizeSpec = cpu) {
  const { architecture } = await loadArchitecture(name);
  const ctx = createBuildContext(0, `knobs-${name}-${JSON.stringify(knobs)}-${open.length}`, knobs);
  open.push(ctx);
  const model = architecture.build(charlm.spec, size, ctx);
  return { model, params: paramCounts(model, ctx), shapes: ctx.created.map((c) => `${c.name}:${c.variable.shape.join('x')}`) };
}

beforeAll(async () => {
  await selectBackend('wasm');
});
afterEach(() => {
  for (const c of open.splice(0)) c.dispose();
});

describe('expert count', () => {
  it('E = 1 builds exactly dense-block for every routed baseline', async () => {
    const dense = await built('dense-block', {});
    for (const name of ['switch-top1', 'hash', 'shared-routed', 'topk']) {
      const one = await built(name, { experts: 1 });
      expect(one.params, name).toEqual(dense.params);
      expect(one.shapes, name).toEqual(dense.shapes);
      expect(one.model.hyperparameters?.experts, name).toBe(1);
    }
  });

  it('E scales total parameters and leaves active ones alone', async () => {
    const four = await built('switch-top1', { experts: 4 });
    const sixteen = await built('switch-top1', { experts: 16 });
    expect(sixteen.model.hyperparameters?.experts).toBe(16);
    const ffn = 2 * (8 * 64 * 64 + 5 * 64); // per expert, both blocks (two 64×256 matrices and biases)
    expect(sixteen.params.total - four.params.total).toBe(12 * ffn + 2 * 64 * 12); // 12 more experts and router columns
    expect(sixteen.params.active - four.params.active).toBe(2 * 64 * 12); // only the router grows
  });
});

describe('granularity', () => {
  it('G splits each expert G ways and routes top-G: active and total parameters unchanged up to the router', async () => {
    const g1 = await built('switch-top1', { experts: 8 });
    for (const g of [2, 4, 8]) {
      const fine = await built('switch-top1', { experts: 8, granularity: g });
      const router = 2 * 64 * 8 * (g - 1); // the router has E·G columns in each of the 2 blocks
      // the output bias is per expert, so it grows with the expert count: (E·G − E)·64 per block
      const biases = 2 * 64 * 8 * (g - 1);
      expect(fine.params.total - g1.params.total, `G=${g}`).toBe(router + biases);
      expect(fine.model.hyperparameters?.router).toBe(`top-${g} softmax, renormalised`);
    }
  });

  it('G > 1 at E = 1 is refused, not ignored', async () => {
    await expect(built('switch-top1', { experts: 1, granularity: 2 })).rejects.toThrow(/granularity applies from 2 experts/);
  });
});

describe('width and caps', () => {
  it('width=64 at the cpu tier is the cpu tier’s size; another width moves the caps with the dense reference', () => {
    expect(sizeWithKnobs(charlm.spec, cpu, { width: 64 })).toEqual(cpu);
    const wide = sizeWithKnobs(charlm.spec, cpu, { width: 128, totalHeadroom: 48 });
    expect(wide.width).toBe(128);
    expect(wide.depth).toBe(cpu.depth);
    expect(wide.maxParams).toBeGreaterThan(3 * sizeWithKnobs(charlm.spec, cpu, { width: 128 }).maxParams - 3);
    expect(() => sizeWithKnobs(charlm.spec, cpu, { width: 30 })).toThrow(/heads must divide the width/);
  });

  it('a model built at width d has d-wide embeddings, for dense-block as for the routed ones', async () => {
    const size = sizeWithKnobs(charlm.spec, cpu, { width: 32 });
    for (const name of ['dense-block', 'hash']) {
      const m = await built(name, {}, size);
      expect(m.model.hyperparameters?.width, name).toBe(32);
    }
    expect(tf.memory().numTensors).toBeGreaterThan(0);
  });
});

describe('declared knobs', () => {
  it('refuses a knob the architecture does not read (a confined run gets its knobs: harness/confined/knobs.test.ts)', async () => {
    const hash = await loadArchitecture('hash');
    expect(() => checkKnobsFor(hash, 'hash', { granularity: 2 })).toThrow(/does not take --set granularity \(it takes experts/);
    const dense = await loadArchitecture('dense-block');
    expect(() => checkKnobsFor(dense, 'dense-block', { experts: 4 })).toThrow(/takes no architecture knobs/);
    expect(() => checkKnobsFor(dense, 'dense-block', { width: 32 })).not.toThrow();
    const sw = await loadArchitecture('switch-top1');
    expect(() => checkKnobsFor(sw, 'switch-top1', { experts: 4 })).not.toThrow();
  });
});

/**
 * The tuned rates of results/tuning/cpu.json (protocol v1's) were chosen on the sources before the knobs
 * (kept as test/fixtures/tuned-sources/, hashes checked against the tuning file), and are
 * carried to today's sources (carriedTo). That holds only while a knob-less build is the
 * same network: same variables, same initial values, same outputs, on every task.
 */
describe('the tuned sources', () => {
  // version 1's file, tuned on the pre-knob sources (the file in force is the protocol's, tuned on today's)
  const tuning = readTuningFile(join(import.meta.dirname, '..', 'results', 'tuning', 'cpu.json'), 'cpu');
  for (const name of ['hash', 'switch-top1', 'shared-routed', 'topk']) {
    it(`${name}: today's knob-less build is the network its rate was tuned on`, async () => {
      const fixture = join(import.meta.dirname, '..', 'test', 'fixtures', 'tuned-sources', `${name}.ts`);
      const tunedHash = sha256(readFileSync(fixture, 'utf8'));
      const today = await loadArchitecture(name);
      const before = await loadArchitecture(fixture);
      for (const entry of tuning.entries.filter((e) => e.arch === name)) {
        expect(entry.sourceHash, `${entry.task}: the fixture is the tuned source`).toBe(tunedHash);
        expect(
          entry.carriedTo?.map((c) => c.sourceHash),
          entry.task,
        ).toEqual([today.sourceHash]);
        const task = findTask(entry.task);
        const size = task.tiers.cpu.size;
        const data = task.load({ runSeed: 0, dataSeed: 0 });
        try {
          const x = data.evalBatches[0]?.x;
          if (!x) throw new Error(`${entry.task} has no evaluation batch`);
          const read = (arch: typeof today) => {
            const ctx = createBuildContext(0, `tuned-${name}-${entry.task}-${open.length}`, {});
            open.push(ctx);
            const model = arch.architecture.build(task.spec, size, ctx);
            const out = tf.tidy(() => Array.from(model.forward(x, { training: false }).output.dataSync()));
            return { vars: ctx.created.map((c) => [c.name, c.variable.shape.join('x'), Array.from(c.variable.dataSync())]), out };
          };
          const a = read(before);
          const b = read(today);
          expect(b.vars, entry.task).toEqual(a.vars);
          expect(b.out, entry.task).toEqual(a.out);
        } finally {
          data.dispose();
        }
      }
    });
  }
});
