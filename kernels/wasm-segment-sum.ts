/**
 * UnsortedSegmentSum for the wasm backend, which has none — so `tf.gather` (embeddings,
 * expert dispatch) has no gradient there. out[s, ...] = Σ_{i: ids[i] = s} x[i, ...].
 * The sum runs in JS on views of the wasm heap: one pass, O(x.size), no copies.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const wasm = backend as unknown as WasmBackendLike;
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(
      `UnsortedSegmentSum (wasm): segmentIds must be 1-D with one id per row of x; got [${segmentIds.shape}] for x [${x.shape}]`,
    );
  }
  const rows = x.shape[0] ?? 0;
  const inner = rows === 0 ? 0 : x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
  // Heap views, not readSync copies; taken after makeOutput, which may grow (and detach) the heap.
  const values = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  const acc = wasm.typedArrayFromHeap(out);
  acc.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue; // TF drops out-of-range ids
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) acc[dst + j] = (acc[dst + j] as number) + (values[src + j] as number);
  }
  return out;
};

/** Idempotent; returns the kernel names now provided by this module. */
export function registerWasmSegmentSum(): string[] {
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
  }
  return ['UnsortedSegmentSum'];
}
