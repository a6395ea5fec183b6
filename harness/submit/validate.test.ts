/**
 * Validation in a child process: a correct module passes within 30 s; each broken fixture
 * fails with the check it breaks, the task and what to change, within 60 s — a module that
 * never returns or allocates without bound included.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckName } from './protocol.ts';
import { type ValidationReport, validateModule } from './validate.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
const broken = (name: string) => join(fixtures, 'broken', `${name}.ts`);

function expectFailure(r: ValidationReport, check: CheckName, task: string | null, message: RegExp) {
  expect(r.ok).toBe(false);
  const f = r.failures.find((x) => x.check === check && x.task === task);
  expect(f, JSON.stringify(r.failures, null, 2)).toBeDefined();
  expect(f?.message).toMatch(message);
  expect(f?.fix.length).toBeGreaterThan(20);
  expect(r.seconds).toBeLessThanOrEqual(60);
}

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
    console.log(`validation timing: correct module (tiny-mlp, smoke) ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB?.toFixed(0)} MB`);
  });

  it('reports a syntax error with where it is', async () => {
    const r = await validateModule(broken('syntax-error'), { tier: 'smoke' });
    expectFailure(r, 'import', null, /syntax-error\.ts:\d+:\d+: ERROR/);
    console.log(`validation timing: broken module (syntax error) ${r.seconds.toFixed(1)} s`);
  });

  it('reports a module without a default export', async () => {
    expectFailure(await validateModule(broken('no-default'), { tier: 'smoke' }), 'default-export', null, /has no default export/);
  });

  it('reports a default export that is not an architecture', async () => {
    expectFailure(await validateModule(broken('wrong-export'), { tier: 'smoke' }), 'default-export', null, /not an architecture/);
  });

  it('reports a definition defineArchitecture refuses', async () => {
    expectFailure(await validateModule(broken('bad-definition'), { tier: 'smoke' }), 'import', null, /name must be lower-case/);
  });

  it('reports build() throwing, on every task', async () => {
    const r = await validateModule(broken('throws-build'), { tier: 'smoke' });
    for (const task of ['superposition', 'parity', 'mnist', 'charlm'])
      expectFailure(r, 'build', task, /expert count must be a power of two/);
  });

  it('reports forward() throwing', async () => {
    expectFailure(
      await validateModule(broken('throws-forward'), { tier: 'smoke' }),
      'eval-forward',
      'mnist',
      /router weights not initialised/,
    );
  });

  it('reports a wrong output shape with the shape wanted', async () => {
    expectFailure(await validateModule(broken('wrong-shape'), { tier: 'smoke' }), 'output-shape', 'mnist', /\[500, 9\].*needs \[500, 10\]/);
  });

  it('reports a NaN loss', async () => {
    expectFailure(await validateModule(broken('nan-output'), { tier: 'smoke' }), 'finite-loss', 'parity', /loss is NaN at step 1/);
  });

  it('reports tensors leaked on every step', async () => {
    expectFailure(await validateModule(broken('leaks'), { tier: 'smoke' }), 'leak', 'superposition', /more tensors alive after step 5/);
  });

  it('reports a model over the parameter cap', async () => {
    expectFailure(await validateModule(broken('too-big'), { tier: 'smoke' }), 'param-cap', 'mnist', /the smoke tier allows/);
  });

  it('stops a module that never returns, naming the phase, within 60 s', async () => {
    const r = await validateModule(broken('infinite-loop'), { tier: 'smoke' });
    expectFailure(r, 'time', 'superposition', /during eval-forward on 'superposition': no progress for 20 s/);
    expect(r.failures).toHaveLength(1);
    console.log(`validation timing: never returns (infinite loop) ${r.seconds.toFixed(1)} s`);
  });

  it('stops a module that allocates without bound (wasm memory, outside the V8 heap), within 60 s', async () => {
    const r = await validateModule(broken('unbounded-alloc'), { tier: 'smoke' });
    expectFailure(r, 'memory', 'superposition', /during build on 'superposition': resident memory reached \d+ MB \(limit 2560 MB\)/);
    console.log(`validation timing: unbounded allocation ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB?.toFixed(0)} MB`);
  });

  it('stops a module that fills the JavaScript heap, at the heap cap', async () => {
    const r = await validateModule(broken('unbounded-heap'), { tier: 'smoke' });
    expectFailure(r, 'memory', 'superposition', /during build on 'superposition'.*(heap out of memory|resident memory reached)/);
  });

  it('applies a shorter wall-clock limit when asked', async () => {
    const r = await validateModule(broken('infinite-loop'), { tier: 'smoke', timeLimitSeconds: 3, stallSeconds: 60 });
    expectFailure(r, 'time', 'superposition', /still running after 3 s/);
    expect(r.seconds).toBeLessThan(10);
  });
});
