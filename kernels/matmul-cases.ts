/**
 * Matmul test cases shared by the kernel tests (wasm-matmul.test.ts, blas-matmul.test.ts):
 * deterministic data and the shapes that reach every path of both kernel families.
 */

/** Deterministic uniform(-1, 1) data (mulberry32), so a failure can be reproduced. */
export function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** Operand shapes for op(A)·op(B) with output [..., m, n] and inner size k. */
export function shapesFor(batchA: number[], batchB: number[], m: number, k: number, n: number, tA: boolean, tB: boolean) {
  return {
    a: [...batchA, ...(tA ? [k, m] : [m, k])],
    b: [...batchB, ...(tB ? [n, k] : [k, n])],
  };
}

export interface Case {
  name: string;
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
}

// Sizes chosen so that the 'cheapest' plan takes both of its paths across the cases
// (checked below); batched cases cover all three batch paths (fold A's batch into rows,
// one 2-D call per batch entry, broadcasting) and inner sizes above the stock loop's
// 48-wide block, where its fused bias/relu handling goes wrong.
export const CASES: Case[] = [
  { name: '2-D square-ish', batchA: [], batchB: [], m: 17, k: 23, n: 19 },
  { name: '2-D wide output', batchA: [], batchB: [], m: 5, k: 40, n: 64 },
  { name: '2-D long inner', batchA: [], batchB: [], m: 6, k: 96, n: 7 },
  { name: '2-D mid-size', batchA: [], batchB: [], m: 64, k: 96, n: 80 },
  { name: 'vector-like', batchA: [], batchB: [], m: 1, k: 33, n: 8 },
  { name: '3-D batched', batchA: [3], batchB: [3], m: 9, k: 13, n: 11 },
  { name: '3-D batched, inner > 48', batchA: [3], batchB: [3], m: 9, k: 100, n: 11 },
  { name: '3-D batched, big output', batchA: [2], batchB: [2], m: 24, k: 4, n: 30 },
  { name: '3-D batched, large entries', batchA: [3], batchB: [3], m: 40, k: 60, n: 30 },
  { name: '3-D, B batch 1 (folded)', batchA: [4], batchB: [1], m: 6, k: 50, n: 7 },
  { name: '3-D, A batch 1 (broadcast)', batchA: [1], batchB: [4], m: 6, k: 50, n: 7 },
  { name: '3-D, A batch 1, large entries', batchA: [1], batchB: [4], m: 36, k: 50, n: 28 },
  { name: '4-D batched', batchA: [2, 3], batchB: [2, 3], m: 5, k: 7, n: 6 },
];

/**
 * BatchMatMul only: tfjs' fused op flattens batch dims first, so it cannot broadcast these.
 * The reference broadcasts the operands explicitly first: stock cpu (and stock wasm) return
 * a tensor with too few elements when both batch shapes broadcast ([2,1] with [1,3]).
 */
export const BROADCAST_CASES: Case[] = [
  { name: '3-D x 2-D', batchA: [4], batchB: [], m: 6, k: 20, n: 7 },
  { name: '4-D x 3-D', batchA: [2, 3], batchB: [3], m: 5, k: 60, n: 4 },
  { name: '4-D x 4-D, both broadcast', batchA: [2, 1], batchB: [1, 3], m: 5, k: 9, n: 4 },
  { name: '4-D x 3-D, large entries', batchA: [2, 3], batchB: [3], m: 40, k: 50, n: 30 },
  { name: '4-D x 4-D, both broadcast, large entries', batchA: [2, 1], batchB: [1, 3], m: 32, k: 40, n: 24 },
];

export const COMBOS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/**
 * max|got − want| / max|want|: relative to the reference's scale, so near-zero entries do not
 * dominate; an all-zero reference (an idle expert's gradient) must be matched absolutely.
 */
export function relErr(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) throw new Error(`${got.length} values where ${want.length} were expected`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] ?? Number.NaN) - (want[i] ?? Number.NaN)));
    scale = Math.max(scale, Math.abs(want[i] ?? 0));
  }
  return diff / (scale || 1);
}
