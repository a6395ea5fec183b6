// Determinism on the pure-JS cpu backend (one backend per process, hence its own file).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runSuite } from './suite.ts';

it('gives the same loss curve for the same seed on the cpu backend', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mp-cpu-'));
  const opts = {
    tier: 'smoke',
    backend: 'cpu',
    outDir: out,
    seeds: 1,
    tasks: ['superposition'],
    archs: ['dense'],
    settings: { budgetFlops: 2e8, evalPoints: 3 },
  } as const;
  const a = await runSuite(opts);
  const b = await runSuite({ ...opts, force: true });
  const curve = (r: (typeof a.records)[number] | undefined) => r?.curve.map((p) => [p.trainLoss, p.quality]);
  expect(a.records[0]?.backend.name).toBe('cpu');
  expect(a.records[0]?.curve).toHaveLength(4);
  expect(curve(a.records[0])).toEqual(curve(b.records[0]));
});
