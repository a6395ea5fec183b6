/**
 * The imports run one way (test/layers.ts declares the layers): no circle between modules,
 * no import from a lower layer to a higher one, no production code importing test support.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, describe as describeReport, moduleOf } from './layers.ts';

const ROOT = join(import.meta.dirname, '..');

describe('layers', () => {
  it('has no circles, no upward imports and every module placed', () => {
    const report = checkLayers(ROOT);
    // the graph is real: the loop imports the tasks, the site imports the store
    expect(report.edges.some((e) => e.from === 'harness/train.ts' && e.to === 'harness/tasks')).toBe(true);
    expect(report.edges.some((e) => e.from === 'site/lib' && e.to === 'harness/store')).toBe(true);
    expect(describeReport(report)).toBe('');
  });

  it('finds a circle and an upward import, with the file and line of each', () => {
    const root = mkdtempSync(join(tmpdir(), 'mp-layers-'));
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    put(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', allowImportingTsExtensions: true, noEmit: true },
      }),
    );
    // tasks reaching up into the record schema, and the record schema importing the tasks back
    put('harness/tasks/types.ts', "export const a = 1;\nimport type { R } from '../results/record.ts';\n");
    put('harness/results/record.ts', "import { a } from '../tasks/types.ts';\nexport type R = typeof a;\n");
    put('baselines/dense.ts', "import { a } from '../harness/tasks/types.ts';\nexport default a;\n");
    for (const dir of ['kernels', 'site']) mkdirSync(join(root, dir));
    const report = checkLayers(root);
    expect(report.cycles.map((c) => c.map((e) => `${e.from}>${e.to}`).sort())).toEqual([
      ['harness/results>harness/tasks', 'harness/tasks>harness/results'],
    ]);
    expect(report.upward.map((e) => e.at).sort()).toEqual(['baselines/dense.ts:1', 'harness/tasks/types.ts:2']);
    expect(describeReport(report)).toMatch(/upward: harness\/tasks → harness\/results {2}at harness\/tasks\/types.ts:2/);
  });

  it('names folders and top-level files as modules', () => {
    expect(moduleOf('harness/store/index.ts')).toBe('harness/store');
    expect(moduleOf('harness/train.ts')).toBe('harness/train.ts');
    expect(moduleOf('kernels/blas.ts')).toBe('kernels');
    expect(moduleOf('site/components/Leaderboard.tsx')).toBe('site/components');
  });
});
