/**
 * Row movement for the wasm backend: `GatherV2` and `SplitV` as block copies
 * (TypedArray.set, i.e. memcpy) on the wasm heap. MoE dispatch is exactly this — gather the
 * rows routed to the experts, split them into per-expert slices — and the stock kernels were
 * the largest cost after the matmuls: at [1024, 256] a row gather took 6.5 ms (an
 * element-wise C++ loop) and an 8-way split 4.9 ms, against ~0.1–0.3 ms for the copies.
 * The stock GatherV2 is also wrong with batchDims > 0 (it reads the wrong rows after the
 * first batch; a test keeps watch), so every axis and batchDims goes through this one.
 * SplitV likewise on every axis (attention splits its fused q, k, v projection on the last).
 * String tensors go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

let stock: { gather: tf.KernelConfig; split: tf.KernelConfig } | null = null;

/**
 * out[b, o, i…, r] = x[b, o, indices[b, i…], r] with b over the first batchDims axes, o over
 * the axes before `axis`, r over the axes after it: one block copy of r per index.
 */
const gatherKernel: tf.KernelFunc = (args) => {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const attrs = args.attrs as unknown as { axis: number; batchDims?: number };
  if (x.dtype === 'string' || indices.dtype !== 'int32') return (stock as NonNullable<typeof stock>).gather.kernelFunc(args);
  const axis = normAxis(attrs.axis, x.shape.length);
  const batchDims = normAxis(attrs.batchDims ?? 0, indices.shape.length);
  const wasm = args.backend as unknown as WasmBackendLike;
  const batch = sizeOf(x.shape.slice(0, batchDims));
  const outer = sizeOf(x.shape.slice(batchDims, axis));
  const dim = x.shape[axis] ?? 0;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const perBatch = sizeOf(indices.shape.slice(batchDims));
  const out = wasm.makeOutput([...x.shape.slice(0, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)], x.dtype);
  // Views after the allocation: makeOutput may grow the heap and detach earlier views.
  const src = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(indices);
  const dst = wasm.typedArrayFromHeap(out);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outer; o++) {
      const from = (b * outer + o) * dim;
      const to = (b * outer + o) * perBatch;
      for (let i = 0; i < perBatch; i++) {
        const r = ids[b * perBatch + i] as number;
        if (r < 0 || r >= dim) throw new Error(`GatherV2: the index value ${r} is not in [0, ${dim - 1}]`);
        const s0 = (from + r) * inner;
        const d0 = (to + i) * inner;
        if (inner >= 16) dst.set(src.subarray(s0, s0 + inner), d0);
        else for (let j = 0; j < inner; j++) dst[d0 + j] = src[s0 + j] as number;
      }
    }
  }
  return out;
};

/**
 * Pieces along any axis: x viewed as [outer, dim, inner], piece p takes columns [at, at + s) of
 * dim, i.e. `outer` blocks of s·inner values (one block on axis 0). Attention's q, k, v split of
 * the fused projection is on the last axis: 1024 blocks of 64 floats at charlm's cpu tier, which
 * the stock kernel did as one Slice per piece at ~1–2 ms each.
 */
const splitKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis: rawAxis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  if (x.dtype === 'string') return (stock as NonNullable<typeof stock>).split.kernelFunc(args);
  const axis = normAxis(rawAxis, x.shape.length);
  const wasm = args.backend as unknown as WasmBackendLike;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, axis);
  const outer = sizeOf(x.shape.slice(0, axis));
  const dim = x.shape[axis] ?? 0;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outs = sizes.map((s) => wasm.makeOutput([...x.shape.slice(0, axis), s, ...x.shape.slice(axis + 1)], x.dtype));
  // Views after the allocations: makeOutput may grow the heap and detach earlier views.
  const src = wasm.typedArrayFromHeap(x);
  let at = 0;
  for (const [i, s] of sizes.entries()) {
    const dst = wasm.typedArrayFromHeap(outs[i] as tf.TensorInfo);
    const block = s * inner;
    for (let o = 0; o < outer; o++) {
      const s0 = (o * dim + at) * inner;
      const d0 = o * block;
      // a short block copies faster in a loop than through a subarray
      if (block >= 256) dst.set(src.subarray(s0, s0 + block), d0);
      else for (let j = 0; j < block; j++) dst[d0 + j] = src[s0 + j] as number;
    }
    at += s;
  }
  return outs;
};

export const WASM_ROW_KERNELS = ['GatherV2', 'SplitV'] as const;

/** Idempotent; returns the kernel names now provided by this module. */
export function registerWasmRowKernels(): string[] {
  if (!stock) {
    const gather = tf.getKernel('GatherV2', 'wasm');
    const split = tf.getKernel('SplitV', 'wasm');
    if (!gather || !split)
      throw new Error('registerWasmRowKernels: the wasm backend has no GatherV2/SplitV to fall back on — is it loaded?');
    stock = { gather, split };
    tf.unregisterKernel('GatherV2', 'wasm');
    tf.registerKernel({ ...gather, kernelFunc: gatherKernel });
    tf.unregisterKernel('SplitV', 'wasm');
    tf.registerKernel({ ...split, kernelFunc: splitKernel });
  }
  return [...WASM_ROW_KERNELS];
}

/** Puts the stock kernels back. Idempotent. */
export function unregisterWasmRowKernels(): void {
  if (!stock) return;
  for (const config of [stock.gather, stock.split]) {
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  stock = null;
}

export function wasmRowKernelsRegistered(): boolean {
  return stock !== null;
}
