/**
 * BatchMatMul and _FusedMatMul for the wasm backend through the system BLAS (kernels/blas.ts):
 * cblas_sgemm reads the operands and writes the product in place on the wasm heap — views
 * over `HEAPF32`, transposes passed as flags, no copies. Registered over whatever wasm matmul
 * kernels are registered (normally kernels/wasm-matmul.ts), which stay the fallback for
 * anything unusual (non-float32, empty, rank < 2) and come back on unregister.
 *
 * Batched products: when B has batch 1 and A is not transposed, A's batch is folded into its
 * rows (one sgemm); otherwise one sgemm per output batch entry on offsets into A and B
 * (numpy broadcasting of the batch shapes). _FusedMatMul: the output is pre-filled with the
 * broadcast bias and sgemm accumulates onto it (beta = 1); the activation runs in place after.
 */
import * as tf from '@tensorflow/tfjs';
import { type Blas, type BlasInfo, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS } from './blas.ts';
import { broadcastIndex, broadcastShapes, ordinaryOperands, size, type WasmBackendInternals } from './wasm-matmul.ts';

export const BLAS_MATMUL_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
type Name = (typeof BLAS_MATMUL_KERNELS)[number];

/** Element offset (in floats) of a tensor's data on the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d === undefined) throw new Error('tensor has no wasm data');
  return d.memoryOffset / 4;
}

/** A Float32Array over `count` floats of the heap at element `offset` (valid until the heap grows). */
export function heapView(heap: Float32Array, offset: number, count: number): Float32Array {
  return new Float32Array(heap.buffer, offset * 4, count);
}

/**
 * Writes `src` (shape `srcShape`, at heap element `srcOff`) broadcast to `outShape` into the
 * heap at `outOff`, or applies `fn(out, src)` elementwise when given. Fast paths for a
 * scalar and for a row vector along the last axis (a bias); a general strided walk otherwise.
 */
function broadcastOnto(
  heap: Float32Array,
  outOff: number,
  outShape: readonly number[],
  srcOff: number,
  srcShape: readonly number[],
  fn?: (out: number, src: number) => number,
): void {
  const total = size(outShape);
  const n = outShape[outShape.length - 1] ?? 1;
  const srcSize = size(srcShape);
  if (srcSize === 1) {
    const v = heap[srcOff] as number;
    if (!fn) heap.fill(v, outOff, outOff + total);
    else for (let i = outOff; i < outOff + total; i++) heap[i] = fn(heap[i] as number, v);
    return;
  }
  if (srcSize === n && (srcShape[srcShape.length - 1] ?? 1) === n) {
    if (!fn) {
      heap.copyWithin(outOff, srcOff, srcOff + n);
      // doubling copies: log2(rows) memmoves
      for (let filled = n; filled < total; filled *= 2) heap.copyWithin(outOff + filled, outOff, outOff + Math.min(filled, total - filled));
      return;
    }
    for (let i = 0; i < total; i++) heap[outOff + i] = fn(heap[outOff + i] as number, heap[srcOff + (i % n)] as number);
    return;
  }
  // General: strides of src within the (right-aligned) output shape; 0 where src broadcasts.
  const r = outShape.length;
  const strides = new Array<number>(r).fill(0);
  let stride = 1;
  for (let i = srcShape.length - 1; i >= 0; i--) {
    const d = srcShape[i] ?? 1;
    const j = r - srcShape.length + i;
    if (d !== 1) {
      if (d !== outShape[j]) throw new Error(`shape [${srcShape}] does not broadcast to [${outShape}]`);
      strides[j] = stride;
    }
    stride *= d;
  }
  const idx = new Array<number>(r).fill(0);
  let s = 0;
  for (let i = 0; i < total; i++) {
    const v = heap[srcOff + s] as number;
    heap[outOff + i] = fn ? fn(heap[outOff + i] as number, v) : v;
    for (let d = r - 1; d >= 0; d--) {
      const next = (idx[d] as number) + 1;
      s += strides[d] as number;
      if (next < (outShape[d] as number)) {
        idx[d] = next;
        break;
      }
      s -= (strides[d] as number) * (outShape[d] as number);
      idx[d] = 0;
    }
  }
}

/** tfjs's fused activations, in place over heap[off, off + count). */
export function activateInPlace(heap: Float32Array, off: number, count: number, activation: string, leakyAlpha: number): void {
  const end = off + count;
  switch (activation) {
    case 'linear':
    case 'prelu': // applied by the caller with its weights
      return;
    case 'relu':
      for (let i = off; i < end; i++) if ((heap[i] as number) < 0) heap[i] = 0;
      return;
    case 'relu6':
      for (let i = off; i < end; i++) heap[i] = Math.min(6, Math.max(0, heap[i] as number));
      return;
    case 'elu':
      for (let i = off; i < end; i++) {
        const v = heap[i] as number;
        if (v < 0) heap[i] = Math.expm1(v);
      }
      return;
    case 'leakyrelu':
      for (let i = off; i < end; i++) {
        const v = heap[i] as number;
        if (v < 0) heap[i] = leakyAlpha * v;
      }
      return;
    case 'sigmoid':
      for (let i = off; i < end; i++) heap[i] = 1 / (1 + Math.exp(-(heap[i] as number)));
      return;
    default:
      throw new Error(`_FusedMatMul: unknown activation '${activation}'`);
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function blasMatMul(blas: Blas, fallback: tf.KernelFunc, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { bias, preluActivationWeights: prelu } = args.inputs;
  const attrs = args.attrs ?? {};
  const operands = ordinaryOperands(args);
  if (operands === null || (bias !== undefined && bias.dtype !== 'float32') || (prelu !== undefined && prelu.dtype !== 'float32')) {
    return fallback(args);
  }
  const { a, b, backend } = operands;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = (tA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const k = (tA ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const kb = (tB ? b.shape[rb - 1] : b.shape[rb - 2]) as number;
  const n = (tB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  if (k !== kb) return fallback(args); // the wasm kernel rejects it with tfjs's message
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  const outBatchShape = broadcastShapes(aBatchShape, bBatchShape);
  const outShape = [...outBatchShape, m, n];
  const out = backend.makeOutput(outShape, 'float32');
  // Read the heap only after makeOutput: an allocation may have grown (replaced) it.
  const heap = backend.wasm.HEAPF32;
  const aOff = heapOffset(backend, a);
  const bOff = heapOffset(backend, b);
  const cOff = heapOffset(backend, out);
  const total = size(outShape);
  let beta = 0;
  if (bias !== undefined) {
    broadcastOnto(heap, cOff, outShape, heapOffset(backend, bias), bias.shape);
    beta = 1;
  }
  const opA = tA ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const opB = tB ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const lda = tA ? m : k;
  const ldb = tB ? k : n;
  const batchA = size(aBatchShape);
  const batchB = size(bBatchShape);
  const outBatch = size(outBatchShape);
  if (batchB === 1 && !tA && batchA === outBatch) {
    // B shared by every batch entry and A's rows contiguous: one product of batchA·m rows.
    blas.sgemm(
      CBLAS_ROW_MAJOR,
      opA,
      opB,
      outBatch * m,
      n,
      k,
      1,
      heapView(heap, aOff, outBatch * m * k),
      k,
      heapView(heap, bOff, k * n),
      ldb,
      beta,
      heapView(heap, cOff, total),
      n,
    );
  } else {
    const idx = new Array<number>(outBatchShape.length).fill(0);
    for (let o = 0; o < outBatch; o++) {
      const ia = broadcastIndex(idx, aBatchShape);
      const ib = broadcastIndex(idx, bBatchShape);
      blas.sgemm(
        CBLAS_ROW_MAJOR,
        opA,
        opB,
        m,
        n,
        k,
        1,
        heapView(heap, aOff + ia * m * k, m * k),
        lda,
        heapView(heap, bOff + ib * k * n, k * n),
        ldb,
        beta,
        heapView(heap, cOff + o * m * n, m * n),
        n,
      );
      for (let d = idx.length - 1; d >= 0; d--) {
        const next = (idx[d] as number) + 1;
        if (next < (outBatchShape[d] as number)) {
          idx[d] = next;
          break;
        }
        idx[d] = 0;
      }
    }
  }
  const activation = String(attrs.activation ?? 'linear');
  if (activation === 'prelu') {
    if (prelu === undefined) throw new Error('_FusedMatMul: prelu activation without preluActivationWeights');
    broadcastOnto(heap, cOff, outShape, heapOffset(backend, prelu), prelu.shape, (v, w) => (v < 0 ? v * w : v));
  } else {
    const alpha = typeof attrs.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
    activateInPlace(heap, cOff, total, activation, alpha);
  }
  return out;
}

interface State {
  fallback: Map<Name, tf.KernelConfig>;
  info: BlasInfo;
}
let state: State | null = null;

/**
 * Registers the BLAS BatchMatMul and _FusedMatMul over the wasm ones registered now (kept as
 * the fallback and restored by unregisterBlasMatMulKernels). Idempotent. Register before the
 * FLOP counter wraps the kernels, as with every custom kernel.
 */
export function registerBlasMatMulKernels(blas: Blas): Name[] {
  if (state !== null) return [...BLAS_MATMUL_KERNELS];
  const fallback = new Map<Name, tf.KernelConfig>();
  for (const name of BLAS_MATMUL_KERNELS) {
    const c: tf.KernelConfig | undefined = tf.getKernel(name, 'wasm');
    if (c === undefined) throw new Error(`wasm ${name} kernel is not registered`);
    fallback.set(name, c);
  }
  for (const [name, c] of fallback) {
    tf.unregisterKernel(name, 'wasm');
    // keeps setupFunc/disposeFunc, which bind the wasm functions the fallback calls
    tf.registerKernel({ ...c, kernelFunc: (args) => blasMatMul(blas, c.kernelFunc, args) });
  }
  state = { fallback, info: blas.info };
  return [...BLAS_MATMUL_KERNELS];
}

/** Puts back the kernels registered before registerBlasMatMulKernels. Idempotent. */
export function unregisterBlasMatMulKernels(): void {
  if (state === null) return;
  for (const [name, c] of state.fallback) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(c);
  }
  state = null;
}

export function blasMatMulKernelsRegistered(): boolean {
  return state !== null;
}

/** The BLAS the registered kernels run on, or null when they are not registered. */
export function blasInUse(): BlasInfo | null {
  return state?.info ?? null;
}
