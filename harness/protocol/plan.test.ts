import { describe, expect, it } from 'vitest';
import { protocolV1 } from '../../test/support/protocols.ts';
import { makeRun } from '../../test/support/store.ts';
import { reseal } from '../../test/support/submit.ts';
import { stampOf } from '../results/protocol.ts';
import { missingArgs, planLines, planOf, runArgs } from './plan.ts';

const p = protocolV1(); // the known answers below use v1's seeds (1000, 1100, 1200)
const baselines = ['dense', 'dense-block', 'hash'];
const stamped = (arch: string, seed: number, hash = stampOf(p).hash) =>
  reseal(
    makeRun({
      arch,
      task: 'charlm',
      tier: 'cpu',
      seed,
      curve: [
        [1, 3],
        [2, 2.5],
      ],
    }),
    (u) => ({ ...u, protocol: { version: 1, hash } }),
  );

describe('the confirmatory plan', () => {
  it('counts only settled records of this protocol (completed, or refused by the architecture), per group and architecture', () => {
    const records = [
      stamped('dense-block', 1000),
      stamped('dense-block', 1001),
      stamped('hash', 1100),
      stamped('hash', 1101, 'f'.repeat(64)), // another protocol's run does not count
      makeRun({ arch: 'hash', task: 'charlm', tier: 'cpu', seed: 1102, curve: [[1, 3]] }), // exploratory: no stamp
      reseal(makeRun({ arch: 'dense', task: 'charlm', tier: 'cpu', seed: 1103, curve: [[1, 3]], status: 'failed' }), (u) => ({
        ...u,
        protocol: stampOf(p),
      })), // failed: to be run again
      reseal(makeRun({ arch: 'dense-block', task: 'charlm', tier: 'cpu', seed: 1200, curve: [[1, 3]], status: 'refused' }), (u) => ({
        ...u,
        protocol: stampOf(p),
      })), // refused by the architecture: settled
    ];
    const groups = planOf(p, baselines, records, ['charlm']);
    expect(groups.map((g) => g.role)).toEqual(['target-setting', 'comparison', 'placebo']);
    expect(groups[0]?.recorded).toEqual([2]);
    expect(groups[1]?.archs).toEqual(baselines);
    expect(groups[1]?.recorded).toEqual([0, 0, 1]);
    expect(groups[2]?.recorded).toEqual([1]);
    // what is missing is run by name and seed, seed by seed with every architecture that lacks it:
    // hash has s1100, so that seed runs the other two only
    const [target, comparison] = groups;
    if (!comparison || !target) throw new Error('no comparison group');
    expect(missingArgs(p, comparison).map((a) => a.join(' '))).toEqual([
      'run --tier cpu --task charlm --arch dense dense-block --seed 1100',
      ...[1101, 1102, 1103, 1104].map((s) => `run --tier cpu --task charlm --arch dense dense-block hash --seed ${s}`),
    ]);
    // a one-architecture group is one command with its missing seeds
    expect(missingArgs(p, target).map((a) => a.join(' '))).toEqual([
      'run --tier cpu --task charlm --arch dense-block --seed 1002 1003 1004',
    ]);
    expect(planLines(p, groups, baselines).at(-1)).toBe(`4 of ${5 + 5 * 3 + 5} confirmatory runs recorded`);
  });

  it('runs the reference alone on its own seeds and every baseline on the comparison seeds', () => {
    const [target, comparison] = planOf(p, baselines, [], ['charlm']);
    if (!target || !comparison) throw new Error('charlm has no plan');
    expect(runArgs(p, target, baselines).join(' ')).toBe('run --tier cpu --task charlm --arch dense-block --seed 1000 1001 1002 1003 1004');
    expect(runArgs(p, comparison, baselines)).not.toContain('--arch');
  });
});
