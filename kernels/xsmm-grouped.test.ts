/**
 * The wrapper's grouped expert products (xsmm.c: mpx_grouped_matmul, mpx_grouped_matmul_grad)
 * against a float64 reference, on a heap laid out as the wasm backend's is: ragged groups,
 * empty experts, one row, a group past the few-rows kernel's limit, inner and outer sizes that
 * are no multiple of the vector width, with and without bias, and nothing written outside the
 * outputs. The same kernels through tfjs (GroupedMatMul, a MoE layer) are in blas-suite.ts.
 */
import { describe, expect, it } from 'vitest';
import { randomData } from './matmul-cases.ts';
import { loadXsmm, type Xsmm } from './xsmm.ts';

let xsmm: Xsmm | null = null;
let why = '';
try {
  xsmm = await loadXsmm();
} catch (e) {
  why = (e as Error).message;
}
if (xsmm === null && process.env.MIDDLEPATH_REQUIRE_XSMM === '1') throw new Error(`MIDDLEPATH_REQUIRE_XSMM=1 (CI) but: ${why}`);

const SENTINEL = -12345.5;

/** A heap of sentinels with regions placed one after another, 7 floats apart (so nothing is aligned). */
function layout(sizes: number[]): { heap: Float32Array; at: number[] } {
  const at: number[] = [];
  let end = 3;
  for (const s of sizes) {
    at.push(end);
    end += s + 7;
  }
  return { heap: new Float32Array(end).fill(SENTINEL), at };
}

/** max |got − want| ÷ max |want| */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return scale === 0 ? err : err / scale;
}

/** every float outside [at[i], at[i] + sizes[i]) for the given regions is still the sentinel, except inputs */
function untouchedOutside(heap: Float32Array, regions: Array<[number, number]>): boolean {
  const mine = new Uint8Array(heap.length);
  for (const [at, size] of regions) mine.fill(1, at, at + size);
  return heap.every((v, i) => mine[i] === 1 || v === SENTINEL);
}

const CASES: Array<[string, number[], number, number]> = [
  ['ragged groups with empty experts', [3, 0, 17, 1, 9, 0], 37, 29],
  ['expert-sized rows, k and n multiples of 16', [8, 7, 9, 8], 64, 48],
  ['one row in all', [0, 1, 0], 21, 5],
  ['a group past the few-rows kernel (45 rows)', [45, 2], 33, 19],
  ['long inner dimension with a tail', [6, 11], 1030, 12],
  ['every row in one expert', [0, 0, 13], 16, 70],
];

describe.skipIf(xsmm === null)(`grouped expert products (${xsmm ? `libxsmm ${xsmm.version}` : `skipped: ${why}`})`, () => {
  it.each(CASES)('%s: forward, both weight layouts, with and without bias, agrees with float64', (_, counts, k, n) => {
    if (!xsmm) return;
    const E = counts.length;
    const S = counts.reduce((a, b) => a + b, 0);
    let seed = 31 + k;
    for (const tB of [0, 1]) {
      for (const bias of [false, true]) {
        const { heap, at } = layout([S * k, ...counts.map(() => k * n), ...counts.map(() => n), S * n]);
        const [xAt, ...rest] = at as [number, ...number[]];
        const wAt = rest.slice(0, E);
        const bAt = rest.slice(E, 2 * E);
        const yAt = rest[2 * E] as number;
        heap.set(randomData(S * k, seed++), xAt);
        for (const o of wAt) heap.set(randomData(k * n, seed++), o);
        for (const o of bAt) heap.set(randomData(n, seed++), o);
        const before = new Float32Array(heap);
        const fast = xsmm.grouped.matmul(
          heap,
          E,
          Int32Array.from(counts),
          k,
          n,
          tB,
          xAt,
          Int32Array.from(wAt),
          bias ? Int32Array.from(bAt) : null,
          yAt,
        );
        expect(fast).toBe(1);
        const want = new Float64Array(S * n);
        let row = 0;
        counts.forEach((c, e) => {
          const w = wAt[e] as number;
          for (let i = row; i < row + c; i++)
            for (let j = 0; j < n; j++) {
              let s = bias ? (heap[(bAt[e] as number) + j] as number) : 0;
              for (let p = 0; p < k; p++) s += (heap[xAt + i * k + p] as number) * (heap[w + (tB ? j * k + p : p * n + j)] as number);
              want[i * n + j] = s;
            }
          row += c;
        });
        expect(relErr(heap.subarray(yAt, yAt + S * n), want)).toBeLessThanOrEqual(2e-6 * Math.sqrt(k) + 1e-6);
        // the inputs are unchanged and nothing outside y was written
        expect(heap.subarray(0, yAt)).toEqual(before.subarray(0, yAt));
        expect(untouchedOutside(heap, [[0, yAt + S * n]])).toBe(true);
      }
    }
  });

  it.each(CASES)('%s: weight and bias gradients agree with float64, zeros for an empty expert', (_, counts, k, n) => {
    if (!xsmm) return;
    const E = counts.length;
    const S = counts.reduce((a, b) => a + b, 0);
    for (const bias of [false, true]) {
      const { heap, at } = layout([S * k, S * n, ...counts.map(() => k * n), ...counts.map(() => n)]);
      const [xAt, dyAt, ...rest] = at as [number, number, ...number[]];
      const dwAt = rest.slice(0, E);
      const dbAt = rest.slice(E);
      heap.set(randomData(S * k, 7 + k), xAt);
      heap.set(randomData(S * n, 8 + n), dyAt);
      // outputs start as garbage: the kernel must overwrite, not accumulate
      for (const o of dwAt) heap.fill(Number.NaN, o, o + k * n);
      for (const o of dbAt) heap.fill(Number.NaN, o, o + n);
      const fast = xsmm.grouped.grad(
        heap,
        E,
        Int32Array.from(counts),
        k,
        n,
        xAt,
        dyAt,
        Int32Array.from(dwAt),
        bias ? Int32Array.from(dbAt) : null,
      );
      expect(fast).toBe(1);
      let row = 0;
      counts.forEach((c, e) => {
        const dw = new Float64Array(k * n);
        const db = new Float64Array(n);
        for (let i = row; i < row + c; i++)
          for (let j = 0; j < n; j++) {
            const g = heap[dyAt + i * n + j] as number;
            db[j] = (db[j] as number) + g;
            for (let p = 0; p < k; p++) dw[p * n + j] = (dw[p * n + j] as number) + (heap[xAt + i * k + p] as number) * g;
          }
        const gotW = heap.subarray(dwAt[e] as number, (dwAt[e] as number) + k * n);
        if (c === 0) expect(gotW.every((v) => v === 0)).toBe(true);
        else expect(relErr(gotW, dw)).toBeLessThanOrEqual(2e-6 * Math.sqrt(c) + 1e-6);
        const gotB = heap.subarray(dbAt[e] as number, (dbAt[e] as number) + n);
        if (!bias)
          expect(gotB.every((v) => Number.isNaN(v))).toBe(true); // not asked: not written
        else if (c === 0) expect(gotB.every((v) => v === 0)).toBe(true);
        else expect(relErr(gotB, db)).toBeLessThanOrEqual(2e-6 * Math.sqrt(c) + 1e-6);
        row += c;
      });
      const regions: Array<[number, number]> = [
        [xAt, S * k],
        [dyAt, S * n],
        ...dwAt.map((o): [number, number] => [o, k * n]),
        ...dbAt.map((o): [number, number] => [o, n]),
      ];
      expect(untouchedOutside(heap, regions)).toBe(true);
    }
  });
});
