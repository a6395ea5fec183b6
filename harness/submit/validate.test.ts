/**
 * Validation in a child process, called directly: a correct module passes within 30 s,
 * and the wall-clock limit holds. Every broken fixture is run through `middlepath submit`
 * in submit.test.ts, which also checks that the store is left unchanged.
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
    const estimates = r.passed.map((p) => `${p.task} ${p.estimatedRunSeconds.toFixed(0)} s`).join(', ');
    console.log(
      `validation timing: correct module (tiny-mlp, smoke) ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB?.toFixed(0)} MB; estimated smoke runs: ${estimates}`,
    );
  });

  it('applies a shorter wall-clock limit when asked', async () => {
    const r = await validateModule(broken('infinite-loop'), { tier: 'smoke', timeLimitSeconds: 3, stallSeconds: 60 });
    expectFailure(r, 'time', 'superposition', /still running after 3 s/);
    expect(r.seconds).toBeLessThan(10);
  });
});
