import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../results/record.ts';
import { UNCOUNTED_COMPUTE_FACTOR, uncountedCompute, uncountedComputeFlags, uncountedComputeVerdict } from './uncounted.ts';

/** The fields the flag reads, on an otherwise empty record. */
function rec(o: {
  name: string;
  baseline?: boolean;
  seconds: number;
  flops: number;
  steps?: number;
  readbackBytes?: number;
  hw?: string;
  task?: string;
  status?: RunRecord['status'];
}): RunRecord {
  return {
    id: o.name,
    status: o.status ?? 'completed',
    task: { id: o.task ?? 'mnist', tier: 'cpu', seed: 0, variantSeed: null, metric: { name: 'accuracy', unit: '%', higherIsBetter: true } },
    architecture: { name: o.name, origin: o.baseline ? 'baseline' : `submissions/${o.name}.ts` },
    training: { wallSeconds: o.seconds, steps: o.steps ?? 100 },
    flops: { executed: o.flops },
    readbacks: o.readbackBytes === undefined ? undefined : { calls: o.steps ?? 100, bytes: o.readbackBytes },
    hardwareClass: o.hw ?? 'cpu ×1 · wasm',
  } as unknown as RunRecord;
}

describe('uncounted compute', () => {
  const baselines = [
    rec({ name: 'dense', baseline: true, seconds: 10, flops: 1e10, readbackBytes: 0 }),
    rec({ name: 'topk', baseline: true, seconds: 20, flops: 1e10, readbackBytes: 100 * 4096 }),
    rec({ name: 'hash', baseline: true, seconds: 12, flops: 1e10, readbackBytes: 0 }),
  ];

  it("leaves a run within the slowest baseline's seconds per counted FLOP, plus the margin, alone", () => {
    expect(uncountedCompute(rec({ name: 'mine', seconds: 20, flops: 1e10 }), baselines)).toBeNull();
    expect(uncountedCompute(rec({ name: 'mine', seconds: 20 * UNCOUNTED_COMPUTE_FACTOR, flops: 1e10 }), baselines)).toBeNull();
    // a ledger divided by 4 on a dense-like model (issue 24's attack) is well past it
    expect(uncountedCompute(rec({ name: 'mine', seconds: 12, flops: 1e10 / 4 }), baselines)?.kind).toBe('uncounted-compute');
  });

  it('flags a run far slower per counted FLOP as uncounted compute, with the figures', () => {
    const f = uncountedCompute(rec({ name: 'mine', seconds: 12, flops: 1e9, readbackBytes: 0 }), baselines);
    expect(f?.kind).toBe('uncounted-compute');
    expect(f?.ratio).toBeCloseTo(6);
    expect(f?.baselines).toBe(3);
    expect(f?.message).toMatch(
      /^mine on mnist \(cpu, cpu ×1 · wasm\): uncounted compute\? 6\.0× the training seconds per counted FLOP of the slowest/,
    );
  });

  it('calls it readback compute when the run also read back far more per step than any baseline', () => {
    const f = uncountedCompute(rec({ name: 'mine', seconds: 12, flops: 1e9, readbackBytes: 100 * 1e6 }), baselines);
    expect(f?.kind).toBe('readback-compute');
    expect(f?.readbackBytesPerStep).toBe(1e6);
    expect(f?.baselineReadbackBytesPerStep).toBe(4096);
    expect(f?.message).toMatch(/readback compute — .* 1,000,000 bytes per step back into JavaScript \(baselines at most 4,096\)/);
    // reading back as much as a baseline's routing does is not readback compute
    expect(uncountedCompute(rec({ name: 'mine', seconds: 12, flops: 1e9, readbackBytes: 100 * 4096 }), baselines)?.kind).toBe(
      'uncounted-compute',
    );
  });

  it('flags heavy readbacks at a normal pace too: values kept in JavaScript can be used at evaluation, where nothing counts', () => {
    const kept = rec({ name: 'mine', seconds: 12, flops: 1e10, readbackBytes: 100 * 1e6 });
    const f = uncountedCompute(kept, baselines);
    expect(f?.kind).toBe('readback-heavy');
    expect(f?.message).toMatch(
      /readback-heavy — it read 1,000,000 bytes per step back into JavaScript \(baselines at most 4,096\), at 0\.6×/,
    );
    const verdict = uncountedComputeVerdict([kept], baselines, false);
    expect(verdict.reasons).toEqual([expect.stringMatching(/readback-heavy.*--accept-slow/)]);
    expect(uncountedComputeVerdict([kept], baselines, true).reasons).toEqual([]);
    // a routing readback within the baselines' own is no flag
    expect(uncountedCompute(rec({ name: 'mine', seconds: 12, flops: 1e10, readbackBytes: 100 * 4096 }), baselines)).toBeNull();
  });

  it('compares only with completed baselines of the same hardware class, task and tier; never flags a baseline', () => {
    const slow = { seconds: 12, flops: 1e9 };
    expect(uncountedCompute(rec({ name: 'mine', ...slow, hw: 'NVIDIA H200 ×1 · webgpu' }), baselines)).toBeNull();
    expect(uncountedCompute(rec({ name: 'mine', ...slow, task: 'charlm' }), baselines)).toBeNull();
    expect(
      uncountedCompute(rec({ name: 'mine', ...slow }), [rec({ name: 'dense', baseline: true, seconds: 1, flops: 1e10, status: 'failed' })]),
    ).toBeNull();
    expect(uncountedCompute(rec({ name: 'dense', baseline: true, ...slow }), baselines)).toBeNull();
    expect(uncountedComputeFlags([...baselines, rec({ name: 'mine', ...slow })]).map((x) => x.record.architecture.name)).toEqual(['mine']);
  });

  it('verify refuses readback compute always, uncounted compute unless the maintainer accepts it, and says what it could not check', () => {
    const honest = rec({ name: 'mine', seconds: 12, flops: 1e10 });
    const slow = rec({ name: 'mine', seconds: 12, flops: 1e9 });
    const readback = rec({ name: 'mine', seconds: 12, flops: 1e9, readbackBytes: 100 * 1e6 });
    const passed = uncountedComputeVerdict([honest], baselines, false);
    expect(passed.reasons).toEqual([]);
    expect(passed.notes).toEqual([
      expect.stringMatching(/^uncounted compute checked for mnist seed 0: [\d.]+× the slowest baseline's seconds/),
    ]);

    const refused = uncountedComputeVerdict([slow, readback], baselines, false);
    expect(refused.reasons).toHaveLength(2);
    expect(refused.reasons[0]).toMatch(/^mnist seed 0: mine on mnist .*uncounted compute\?.*--accept-slow/);
    expect(refused.reasons[1]).toMatch(/^mnist seed 0: .*readback compute/);

    const accepted = uncountedComputeVerdict([slow, readback], baselines, true);
    expect(accepted.reasons).toEqual([refused.reasons[1]]);
    expect(accepted.notes).toEqual([expect.stringMatching(/^mnist seed 0: accepted with --accept-slow: .*uncounted compute\?/)]);

    // no baselines of its hardware class: not checked, and the verdict says so once per slice
    const elsewhere = { ...slow, hardwareClass: 'NVIDIA H200 ×1 · webgpu' } as RunRecord;
    const unchecked = uncountedComputeVerdict([elsewhere, elsewhere], baselines, false);
    expect(unchecked.reasons).toEqual([]);
    expect(unchecked.notes).toEqual([
      expect.stringMatching(/^uncounted compute not checked for mnist \(cpu, NVIDIA H200 ×1 · webgpu\): the store holds no baseline runs/),
    ]);
  });
});
