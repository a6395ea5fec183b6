/**
 * Validation in a child process, called directly: a correct module passes within 30 s,
 * and the wall-clock limit holds. Every broken fixture is run through `middlepath submit`
 * in submit.test.ts, which also checks that the store is left unchanged.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sandboxStatus } from '../confined/sandbox.ts';
import { runSuite } from '../suite.ts';
import { validateModule } from './validate.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
const broken = (name: string) => join(fixtures, 'broken', `${name}.ts`);
const hostile = (name: string) => join(fixtures, 'hostile', `${name}.ts`);

describe('validateModule', () => {
  it('passes a correct module on every task it accepts, in ≤ 30 s, and notes the tasks it refuses', async () => {
    const r = await validateModule(join(fixtures, 'tiny-mlp.ts'), { tier: 'smoke' });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.architecture?.name).toBe('tiny-mlp');
    expect(r.architecture?.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.passed.map((p) => p.task)).toEqual(['superposition', 'parity', 'mnist']);
    expect(r.refused).toEqual([{ task: 'charlm', reason: 'tiny-mlp only takes vector inputs' }]);
    for (const p of r.passed) {
      expect(p.params.total).toBeGreaterThan(0);
      expect(p.estimatedRunSeconds).toBeGreaterThan(0);
    }
    expect(r.seconds).toBeLessThanOrEqual(30);
    const estimates = r.passed.map((p) => `${p.task} ${p.estimatedRunSeconds.toFixed(0)} s`).join(', ');
    console.log(
      `validation timing: correct module (tiny-mlp, smoke) ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB?.toFixed(0)} MB; estimated smoke runs: ${estimates}`,
    );
  });

  it('runs the module confined: a write or a spawned process is refused, named, and leaves nothing behind', async () => {
    const forged = '/tmp/middlepath-hostile-forged.json';
    const spawned = '/tmp/middlepath-hostile-spawned';
    rmSync(forged, { force: true });
    rmSync(spawned, { force: true });
    const writes = await validateModule(hostile('writes'), { tier: 'smoke' });
    expect(writes.ok).toBe(false);
    expect(writes.failures[0]?.message).toMatch(/ERR_ACCESS_DENIED|FileSystemWrite/);
    const spawns = await validateModule(hostile('spawns'), { tier: 'smoke' });
    expect(spawns.ok).toBe(false);
    expect(spawns.failures[0]?.message).toMatch(/ERR_ACCESS_DENIED|ChildProcess/);
    // native kernels only inside the OS sandbox; without it, wasm (no native addons where a module runs)
    expect(spawns.backend).toMatch(sandboxStatus().available ? /^wasm\+(libxsmm|blas)$/ : /^wasm$/);
    await sleep(1500); // the spawned shell would have touched its marker after 1 s
    expect(existsSync(forged)).toBe(false);
    expect(existsSync(spawned)).toBe(false);
  });

  it("times steps on the harness's clock: a module that stops its own clocks and forges the old report line gets no fast step, and its pace is flagged against the baselines'", async () => {
    // dense on mnist, confined on the backend validate picks: baseline runs of this machine's class to compare the pace with
    const dense = await runSuite({
      tier: 'smoke',
      backend: 'auto',
      outDir: mkdtempSync(join(tmpdir(), 'mp-validate-pace-')),
      seedList: [0],
      tasks: ['mnist'],
      archs: ['dense'],
      confine: true,
    });
    expect(dense.records[0]?.status).toBe('completed');
    const r = await validateModule(hostile('claims-fast-step'), { tier: 'smoke', baselines: dense.records });
    expect(r.architecture?.name).toBe('claims-fast-step');
    // the forged 'task-ok' (1 µs on mnist, 10 parameters) is nowhere: only what the harness measured
    expect(r.passed.every((p) => p.stepSeconds > 1e-3 && p.params.total > 10)).toBe(true);
    // the step, timed outside the module's process, holds its 10 ms busy wait: in the pass, or in the time check's words
    const said = [...r.warnings, ...r.failures].map((x) => /takes ([\d.]+) ms on the harness's clock/.exec(x.message)?.[1]);
    const ms = r.passed[0] ? r.passed[0].stepSeconds * 1000 : Number(said.find((x) => x !== undefined));
    expect(ms, JSON.stringify(r, null, 2)).toBeGreaterThanOrEqual(10);
    if (r.passed[0]) expect(r.passed[0].cpuSecondsPerStep).toBeGreaterThan(0);
    expect(r.refused.map((x) => x.task)).toEqual(['superposition', 'parity', 'charlm']);
    // 10 ms of uncounted busy work a step: far slower per counted FLOP than dense, and flagged in the run's words
    const mnist = r.passed.find((p) => p.task === 'mnist');
    if (mnist) {
      expect(mnist.pace?.baselines).toBe(1);
      expect(mnist.pace?.ratio).toBeGreaterThan(1.5);
      const flag = r.warnings.find((w) => w.check === 'uncounted-compute' && w.task === 'mnist');
      expect(flag?.message, JSON.stringify(r.warnings, null, 2)).toMatch(
        /uncounted compute\? [\d.]+× the training seconds per counted FLOP of the slowest of 1 baseline run\(s\) of its hardware class/,
      );
    }
    // without baseline runs of this class the check says it was not made
    const alone = await validateModule(join(fixtures, 'tiny-mlp.ts'), { tier: 'smoke' });
    expect(alone.warnings.find((w) => w.check === 'uncounted-compute')?.message).toMatch(
      /uncounted compute not checked on superposition, parity, mnist: no completed baseline runs/,
    );
  });

  it('refuses what a run refuses, in the run’s words: under-declared and hidden parameters, a non-causal model, work off the clock', async () => {
    // the same messages harness/confined/confined.test.ts expects of `run` on these fixtures
    const cases: [string, string, RegExp][] = [
      [
        'under-declares',
        'param-cap',
        /cost.activeParams declares \d+ active parameters, but a training step executes [\d.]+× the matmul FLOPs/,
      ],
      ['hides-params', 'param-cap', /engine holds \d+ trainable parameters after build\(\) but Model.variables lists \d+/],
      ['peeks-ahead', 'causality', /the model is not causal: changing the inputs after position \d+ changed its outputs/],
      ['computes-off-clock', 'off-clock', /ran kernel \w+ between the harness's requests/],
    ];
    for (const [fixture, check, message] of cases) {
      const r = await validateModule(hostile(fixture), { tier: 'smoke' });
      expect(r.ok, fixture).toBe(false);
      const f = r.failures.find((x) => x.check === check);
      expect(f, `${fixture}: ${JSON.stringify(r.failures, null, 2)}`).toBeDefined();
      expect(f?.message).toMatch(message);
      expect(f?.fix.length).toBeGreaterThan(20);
    }
  });

  it('applies a shorter wall-clock limit when asked', async () => {
    const r = await validateModule(broken('infinite-loop'), { tier: 'smoke', timeLimitSeconds: 3, stallSeconds: 60 });
    // the module loops in its first forward on superposition; on a busy machine (CI) the 3 s can run out while it is still importing
    expect(r.ok).toBe(false);
    const f = r.failures.find((x) => x.check === 'time');
    expect(f, JSON.stringify(r.failures, null, 2)).toBeDefined();
    expect([null, 'superposition']).toContain(f?.task);
    expect(f?.message).toMatch(/still running after 3 s/);
    expect(r.seconds).toBeLessThan(10);
  });
});
