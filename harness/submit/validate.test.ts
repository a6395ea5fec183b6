/**
 * Validation in a child process, called directly: a correct module passes within 30 s,
 * and the wall-clock limit holds. Every broken fixture is run through `middlepath submit`
 * in submit.test.ts, which also checks that the store is left unchanged.
 */

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sandboxStatus } from '../confined/sandbox.ts';
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
