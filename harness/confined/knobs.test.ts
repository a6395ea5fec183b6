/**
 * Sweep knobs reach a confined run: the child gets the run's architecture knobs with its
 * init, checks them with the same schema the harness parses `--set` with (and against the
 * knobs the architecture declares), and builds with them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchitectureKnobs } from '../architecture.ts';
import { selectBackend } from '../backend.ts';
import { RunFailure } from '../forward.ts';
import { loadArchitecture } from '../load-architecture.ts';
import { runSuite } from '../suite.ts';
import { findTask } from '../tasks/index.ts';
import { confinedRunFor } from './runner.ts';

const settings = { budgetFlops: 2e8, evalPoints: 1, timeLimitSeconds: 60 };

describe('knobs in a confined run', () => {
  it('builds the architecture with the knobs the run sets, and records them', async () => {
    const result = await runSuite({
      tier: 'smoke',
      backend: 'wasm',
      outDir: mkdtempSync(join(tmpdir(), 'mp-confined-knobs-')),
      seedList: [0],
      tasks: ['parity'],
      archs: ['hash'],
      settings,
      confine: true,
      knobs: { experts: 2 },
    });
    const [record] = result.records;
    expect(record?.status, record?.failure?.message).toBe('completed');
    expect(record?.training.confined).toBe(true);
    expect(record?.knobs).toEqual({ experts: 2 });
    // hash's own choice is 8 experts: 2 is the knob, applied in the child's build()
    expect(record?.architecture.hyperparameters.experts).toBe(2);
  });

  it("refuses, in the child, knobs the architecture does not declare and knobs outside the schema's bounds", async () => {
    await selectBackend('wasm');
    const task = findTask('parity');
    const arch = await loadArchitecture('hash');
    const attempt = async (knobs: ArchitectureKnobs) => {
      const data = task.load({ runSeed: 0, dataSeed: 0 });
      const runner = (await confinedRunFor(arch, 'smoke', 'wasm', 60))({
        spec: task.spec,
        size: task.tiers.smoke.size,
        seed: 0,
        scope: 'knobs',
        learningRate: 1e-3,
        knobs,
        data,
      });
      try {
        await runner.start();
        await runner.build();
        return 'built';
      } catch (e) {
        return e instanceof RunFailure ? e.message : String(e);
      } finally {
        runner.dispose();
        data.dispose();
      }
    };
    expect(await attempt({ granularity: 2 })).toMatch(/does not take the knob\(s\) granularity \(it takes experts\)/);
    expect(await attempt({ experts: 0 })).toMatch(/the run's knobs are malformed/);
    expect(await attempt({ experts: 4 })).toBe('built');
  });
});
