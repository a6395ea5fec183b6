/**
 * Grouped matmuls for mixture-of-experts layers (MegaBlocks' idea, without padding): the rows
 * of x are grouped by expert — counts[e] consecutive rows for expert e — and one kernel runs
 * one sgemm per non-empty group, in place on the wasm heap. No split, no concat, no padded
 * rows: the work is exactly the real rows'.
 *
 * - GroupedMatMul      inputs {x [S,k], w0..w{E-1}, b0..b{E-1}?}, attrs {counts, transposeB, bias}
 *                      → y [S,n], y_e = x_e·op(w_e) (+ b_e)
 * - GroupedMatMulGrad  inputs {x [S,k], dy [S,n]}, attrs {counts, bias}
 *                      → [dw_0..dw_{E-1} [k,n], db_0..db_{E-1} [n]?], dw_e = x_eᵀ·dy_e, db_e = Σ rows of dy_e
 *                      (zeros for an empty group, so every expert gets an exact gradient)
 *
 * Where the BLAS has native grouped products (libxsmm's wrapper: Blas.grouped), each kernel is
 * one native call over all experts — no per-expert FFI calls or heap views, the input gradient
 * on a kernel that reads w_e as it lies (kernels/native/xsmm.c); otherwise one sgemm per expert.
 *
 * The op that uses them, with its gradient and a fallback for backends without these
 * kernels, is harness/nn/grouped-matmul.ts. The FLOP ledger (harness/measure/flops.ts)
 * counts them from their shapes: real rows only.
 */
import * as tf from '@tensorflow/tfjs';
import { type Blas, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS } from './blas.ts';
import { heapOffset, heapView } from './blas-matmul.ts';
import { isWasmBackend } from './wasm-matmul.ts';

export const GROUPED_KERNELS = ['GroupedMatMul', 'GroupedMatMulGrad'] as const;

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** counts from attrs, checked against the row count. */
export function groupCounts(attrs: tf.NamedAttrMap | undefined, rows: number, who: string): number[] {
  const counts = attrs?.counts;
  if (!Array.isArray(counts) || counts.some((c) => !Number.isInteger(c) || (c as number) < 0)) {
    throw new Error(`${who}: attrs.counts must be an array of non-negative integers`);
  }
  const total = (counts as number[]).reduce((s, c) => s + c, 0);
  if (total !== rows) throw new Error(`${who}: counts sum to ${total} but x has ${rows} rows`);
  return counts as number[];
}

function groupedMatMul(blas: Blas, args: KernelArgs): tf.TensorInfo {
  const { backend, inputs } = args;
  const x = inputs.x;
  if (x === undefined || x.shape.length !== 2) throw new Error('GroupedMatMul: x must be [rows, k]');
  if (!isWasmBackend(backend)) throw new Error('GroupedMatMul: not the wasm backend');
  const [rows, k] = x.shape as [number, number];
  const counts = groupCounts(args.attrs, rows, 'GroupedMatMul');
  const tB = args.attrs?.transposeB === true;
  const withBias = args.attrs?.bias === true;
  const w0 = inputs.w0;
  if (w0 === undefined) throw new Error('GroupedMatMul: no weights (w0…)');
  const n = (tB ? w0.shape[0] : w0.shape[1]) as number;
  const weightOf = (e: number): tf.TensorInfo => {
    const w = inputs[`w${e}`];
    if (w === undefined || w.shape.length !== 2 || (tB ? w.shape[1] : w.shape[0]) !== k || (tB ? w.shape[0] : w.shape[1]) !== n) {
      throw new Error(`GroupedMatMul: w${e} must be [${tB ? `${n}, ${k}` : `${k}, ${n}`}]`);
    }
    return w;
  };
  const biasOf = (e: number): tf.TensorInfo => {
    const b = inputs[`b${e}`];
    if (b === undefined || b.shape.length !== 1 || b.shape[0] !== n) throw new Error(`GroupedMatMul: b${e} must be [${n}]`);
    return b;
  };
  const out = backend.makeOutput([rows, n], 'float32');
  const xOff = heapOffset(backend, x);
  const yOff = heapOffset(backend, out);
  if (blas.grouped) {
    const wOff = new Int32Array(counts.length);
    const bOff = withBias ? new Int32Array(counts.length) : null;
    counts.forEach((c, e) => {
      if (c === 0) return;
      wOff[e] = heapOffset(backend, weightOf(e));
      if (bOff) bOff[e] = heapOffset(backend, biasOf(e));
    });
    blas.grouped.matmul(backend.wasm.HEAPF32, counts.length, Int32Array.from(counts), k, n, tB ? 1 : 0, xOff, wOff, bOff, yOff);
    return out;
  }
  const heap = backend.wasm.HEAPF32;
  let row = 0;
  counts.forEach((c, e) => {
    if (c === 0) return;
    const w = weightOf(e);
    let beta = 0;
    if (withBias) {
      const bOff = heapOffset(backend, biasOf(e));
      for (let r = 0; r < c; r++) heap.copyWithin(yOff + (row + r) * n, bOff, bOff + n);
      beta = 1;
    }
    blas.sgemm(
      CBLAS_ROW_MAJOR,
      CBLAS_NO_TRANS,
      tB ? CBLAS_TRANS : CBLAS_NO_TRANS,
      c,
      n,
      k,
      1,
      heapView(heap, xOff + row * k, c * k),
      k,
      heapView(heap, heapOffset(backend, w), k * n),
      tB ? k : n,
      beta,
      heapView(heap, yOff + row * n, c * n),
      n,
    );
    row += c;
  });
  return out;
}

let ones = new Float32Array(0);
/** A vector of at least `n` ones (kept between calls). */
function onesOf(n: number): Float32Array {
  if (ones.length < n) ones = new Float32Array(Math.max(n, 2 * ones.length)).fill(1);
  return ones;
}

function groupedMatMulGrad(blas: Blas, args: KernelArgs): tf.TensorInfo[] {
  const { backend, inputs } = args;
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined || x.shape.length !== 2 || dy.shape.length !== 2 || x.shape[0] !== dy.shape[0]) {
    throw new Error('GroupedMatMulGrad: x [rows, k] and dy [rows, n] needed');
  }
  if (!isWasmBackend(backend)) throw new Error('GroupedMatMulGrad: not the wasm backend');
  const [rows, k] = x.shape as [number, number];
  const n = dy.shape[1] as number;
  const counts = groupCounts(args.attrs, rows, 'GroupedMatMulGrad');
  const withBias = args.attrs?.bias === true;
  const dws = counts.map(() => backend.makeOutput([k, n], 'float32'));
  const dbs = withBias ? counts.map(() => backend.makeOutput([n], 'float32')) : [];
  const xOff = heapOffset(backend, x);
  const dyOff = heapOffset(backend, dy);
  if (blas.grouped) {
    const offsets = (ts: tf.TensorInfo[]) => Int32Array.from(ts, (t) => heapOffset(backend, t));
    blas.grouped.grad(
      backend.wasm.HEAPF32,
      counts.length,
      Int32Array.from(counts),
      k,
      n,
      xOff,
      dyOff,
      offsets(dws),
      withBias ? offsets(dbs) : null,
    );
    return [...dws, ...dbs];
  }
  const heap = backend.wasm.HEAPF32; // after every allocation
  let row = 0;
  counts.forEach((c, e) => {
    const dwOff = heapOffset(backend, dws[e] as tf.TensorInfo);
    if (c === 0) heap.fill(0, dwOff, dwOff + k * n);
    else {
      blas.sgemm(
        CBLAS_ROW_MAJOR,
        CBLAS_TRANS,
        CBLAS_NO_TRANS,
        k,
        n,
        c,
        1,
        heapView(heap, xOff + row * k, c * k),
        k,
        heapView(heap, dyOff + row * n, c * n),
        n,
        0,
        heapView(heap, dwOff, k * n),
        n,
      );
    }
    if (withBias) {
      const dbOff = heapOffset(backend, dbs[e] as tf.TensorInfo);
      if (c === 0) heap.fill(0, dbOff, dbOff + n);
      // db_e = 1ᵀ·dy_e: the column sums as a 1-row sgemm (a JS loop over the heap was ~5× slower)
      else
        blas.sgemm(
          CBLAS_ROW_MAJOR,
          CBLAS_NO_TRANS,
          CBLAS_NO_TRANS,
          1,
          n,
          c,
          1,
          onesOf(c),
          c,
          heapView(heap, dyOff + row * n, c * n),
          n,
          0,
          heapView(heap, dbOff, n),
          n,
        );
    }
    row += c;
  });
  return [...dws, ...dbs];
}

let registered = false;

/** Registers GroupedMatMul and GroupedMatMulGrad for wasm, on this BLAS. Idempotent. */
export function registerBlasGroupedKernels(blas: Blas): string[] {
  if (!registered) {
    tf.registerKernel({ kernelName: 'GroupedMatMul', backendName: 'wasm', kernelFunc: (args) => groupedMatMul(blas, args) });
    tf.registerKernel({ kernelName: 'GroupedMatMulGrad', backendName: 'wasm', kernelFunc: (args) => groupedMatMulGrad(blas, args) });
    registered = true;
  }
  return [...GROUPED_KERNELS];
}

/** Removes them; the op falls back to per-expert matmuls. Idempotent. */
export function unregisterBlasGroupedKernels(): void {
  if (!registered) return;
  for (const name of GROUPED_KERNELS) tf.unregisterKernel(name, 'wasm');
  registered = false;
}
