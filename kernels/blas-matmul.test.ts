/**
 * The BLAS kernels (wasm+blas) against the wasm kernels (the shared suite: blas-suite.ts).
 * Needs a system BLAS (Debian: libopenblas0, which .ci/run installs); without one the suite is
 * skipped with the reason — except with MIDDLEPATH_REQUIRE_BLAS=1 (.ci/run sets it), where its
 * absence fails the run.
 */
import { describe, expect, it } from 'vitest';
import { type Blas, blasThreadsWanted, loadBlas } from './blas.ts';
import { blasKernelSuite } from './blas-suite.ts';

let blas: Blas | null = null;
let why = '';
try {
  blas = await loadBlas();
} catch (e) {
  why = (e as Error).message;
}
if (blas === null && process.env.MIDDLEPATH_REQUIRE_BLAS === '1') throw new Error(`MIDDLEPATH_REQUIRE_BLAS=1 (CI) but: ${why}`);

describe('MIDDLEPATH_BLAS_THREADS', () => {
  it('is read, and rejected with a clear message when malformed', () => {
    const env = (v?: string) => ({ ...process.env, MIDDLEPATH_BLAS_THREADS: v });
    expect(blasThreadsWanted(env('1'))).toBe(1);
    expect(blasThreadsWanted(env(undefined))).toBeGreaterThanOrEqual(1);
    expect(() => blasThreadsWanted(env('two'))).toThrow(/integer ≥ 1, got 'two'/);
  });
});

blasKernelSuite({ title: 'BLAS', blas, why, backend: 'wasm+blas', library: /^wasm\+(openblas|blis|accelerate)/ });
