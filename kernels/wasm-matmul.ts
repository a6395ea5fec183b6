/**
 * BatchMatMul and _FusedMatMul for the tfjs wasm backend, registered over the stock ones.
 *
 * Why. In tfjs-backend-wasm 4.22 both kernels end in one C++ routine with two paths:
 * XNNPACK's fully-connected operator, used only when neither operand is transposed and
 * both have batch 1; otherwise a scalar blocked loop. The loop is 10-35x slower, and
 * every backward pass of a matmul takes it (dA = dC·Bᵀ, dB = Aᵀ·dC), as does any
 * batched (3-D) product. The loop is also wrong for _FusedMatMul: it adds bias[n-1] to
 * every row after the first, adds the bias once per 48-wide block of the inner
 * dimension, and clamps relu/relu6 on partial sums (measured; see README.md).
 *
 * What these do instead, so that every product reaches the XNNPACK path:
 *  1. materialise transposed operands with the wasm Transpose kernel (or, when it moves
 *     fewer elements, compute the product transposed and transpose it back);
 *  2. batched products: if B has batch 1, fold A's batch into its rows (one 2-D call, no
 *     copy); otherwise run one 2-D call per batch entry on views into A and B and copy
 *     each result into the output;
 *  3. free every intermediate through the backend (the engine never sees them).
 * The stock configs are kept so unregisterWasmMatMulKernels() can put them back.
 */
import * as tf from '@tensorflow/tfjs';
// Side effect: registers the stock wasm kernels, which getKernel(..., 'wasm') reads below.
import '@tensorflow/tfjs-backend-wasm';

export const WASM_MATMUL_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
export type WasmMatMulKernelName = (typeof WASM_MATMUL_KERNELS)[number];

/**
 * How to place the transposes.
 * - 'operands': always transpose the flagged operand(s), then multiply.
 * - 'cheapest': per call, whichever of the two equivalent plans moves fewer elements:
 *     Aᵀ·B = (Bᵀ·A)ᵀ,  A·Bᵀ = (B·Aᵀ)ᵀ,  Aᵀ·Bᵀ = (B·A)ᵀ,
 *   i.e. transpose the flagged operands, or the unflagged ones plus the product.
 *   _FusedMatMul uses it only without bias/prelu weights (those do not commute with ᵀ).
 */
export type TransposePlan = 'operands' | 'cheapest';

export interface WasmMatMulOptions {
  /** default 'cheapest' (measured faster; see README.md) */
  plan?: TransposePlan;
}

/**
 * The parts of tfjs-backend-wasm's BackendWasm this module relies on. Most are public
 * methods; dataIdMap and wasm.tfjs are internal, needed to make and drop views into a
 * tensor's memory (batched products) without the backend freeing the memory they point to.
 */
export interface WasmBackendInternals {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): tf.TensorInfo;
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number } | undefined;
    delete(dataId: object): boolean;
  };
  wasm: { HEAPF32: Float32Array; tfjs: { disposeData(id: number): void } };
}

export function isWasmBackend(b: unknown): b is WasmBackendInternals {
  if (typeof b !== 'object' || b === null) return false;
  const o = b as Partial<Record<keyof WasmBackendInternals, unknown>>;
  const wasm = o.wasm as { tfjs?: { disposeData?: unknown } } | undefined;
  const map = o.dataIdMap as { get?: unknown; delete?: unknown } | undefined;
  return (
    typeof o.disposeData === 'function' &&
    typeof o.makeOutput === 'function' &&
    typeof map?.get === 'function' &&
    typeof map.delete === 'function' &&
    typeof wasm?.tfjs?.disposeData === 'function'
  );
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * The products the replacement kernels take on: float32 operands of rank ≥ 2, neither empty,
 * on the wasm backend. Anything else goes to the kernel underneath, which rejects it with
 * tfjs's own message.
 */
export function ordinaryOperands(args: KernelArgs): { a: tf.TensorInfo; b: tf.TensorInfo; backend: WasmBackendInternals } | null {
  const { a, b } = args.inputs;
  const { backend } = args;
  const ok =
    a !== undefined &&
    b !== undefined &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.shape.length >= 2 &&
    b.shape.length >= 2 &&
    size(a.shape) > 0 &&
    size(b.shape) > 0 &&
    isWasmBackend(backend);
  return ok ? { a, b, backend } : null;
}

interface State {
  stock: Map<WasmMatMulKernelName, tf.KernelConfig>;
  transpose: tf.KernelFunc;
  plan: TransposePlan;
}

let state: State | null = null;

export function single(out: tf.TensorInfo | tf.TensorInfo[], who: string): tf.TensorInfo {
  if (Array.isArray(out)) {
    if (out.length !== 1 || out[0] === undefined) throw new Error(`${who}: expected one output, got ${out.length}`);
    return out[0];
  }
  return out;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** numpy-style broadcast of two batch shapes; throws like tfjs on a mismatch. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matmul batch shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into `shape` (right-aligned, broadcast) of the output batch position `idx`. */
export function broadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  const off = idx.length - shape.length;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i] ?? 1;
    flat = flat * d + (d === 1 ? 0 : (idx[off + i] ?? 0));
  }
  return flat;
}

/** Swaps the last two dimensions: the layout change behind a matmul transpose flag. */
function transposeLast2(s: State, x: tf.TensorInfo, backend: WasmBackendInternals): tf.TensorInfo {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return single(s.transpose({ inputs: { x }, backend, attrs: { perm } }), 'Transpose');
}

/**
 * Which layout plan a call takes: 'operands' transposes the flagged operand(s) and
 * multiplies; 'output' multiplies op(B)ᵀ·op(A)ᵀ (flagged operands used as stored, the
 * others transposed) and transposes the product. 'none' when no flag is set.
 * Exported for the tests, so both paths are known to be exercised.
 */
export function matMulLayoutPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
  plan: TransposePlan,
): 'none' | 'operands' | 'output' {
  if (!transposeA && !transposeB) return 'none';
  if (plan === 'operands') return 'operands';
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (m === undefined || n === undefined) throw new Error('matmul operands must have rank >= 2');
  // Element counts stand in for transpose cost (the wasm Transpose is memory-bound).
  // Batch dims may broadcast, so the product's batch is the larger of the two.
  const sa = size(aShape);
  const sb = size(bShape);
  const sc = Math.max(size(aShape.slice(0, -2)), size(bShape.slice(0, -2))) * m * n;
  const direct = (transposeA ? sa : 0) + (transposeB ? sb : 0);
  const swapped = (transposeA ? 0 : sa) + (transposeB ? 0 : sb) + sc;
  return swapped < direct ? 'output' : 'operands';
}

// Rough costs in µs on the build machine (Zen 4, one wasm thread), fitted from
// kernels/bench.ts-style timings: the stock scalar loop per multiply-add; the XNNPACK
// route per 2-D call, per weight packed (B is repacked on every call: fresh tensor ids)
// and per multiply-add; the wasm Transpose per element moved.
const LOOP_US_PER_MAC = 1.1e-3;
const XNN_US_PER_CALL = 6;
const XNN_US_PER_WEIGHT = 4e-3;
const XNN_US_PER_MAC = 1.3e-4;
const TRANSPOSE_US_PER_ELEMENT = 5e-3;

/**
 * Where a product should run: 'xnnpack' (transpose/split so the stock kernel takes its
 * XNNPACK path) or 'loop' (hand it to the stock kernel as is, which uses its scalar loop
 * for any transposed or batched product). The loop wins only for tiny products, where
 * the per-call overhead of the XNNPACK route dominates, and never when both batch shapes
 * broadcast. Exported for the tests.
 */
export function wasmMatMulRoute(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): 'xnnpack' | 'loop' {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = (transposeA ? aShape[ra - 1] : aShape[ra - 2]) ?? 1;
  const k = (transposeA ? aShape[ra - 2] : aShape[ra - 1]) ?? 1;
  const n = (transposeB ? bShape[rb - 2] : bShape[rb - 1]) ?? 1;
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batchA = size(aBatch);
  const batchB = size(bBatch);
  if (batchA <= 1 && batchB <= 1 && !transposeA && !transposeB) return 'xnnpack'; // stock is XNNPACK already
  const outBatch = size(broadcastShapes(aBatch, bBatch));
  // When both batch shapes broadcast ([2,1] with [1,3]) the stock kernel sizes its output
  // by the larger operand batch and returns too few elements: never hand those to it.
  if (outBatch !== Math.max(batchA, batchB)) return 'xnnpack';
  const calls = batchB <= 1 ? 1 : outBatch;
  const rowsPerCall = batchB <= 1 ? batchA * m : m;
  const moved = Math.min(
    (transposeA ? size(aShape) : 0) + (transposeB ? size(bShape) : 0),
    (transposeA ? 0 : size(aShape)) + (transposeB ? 0 : size(bShape)) + outBatch * m * n,
  );
  const xnn =
    TRANSPOSE_US_PER_ELEMENT * moved + calls * (XNN_US_PER_CALL + XNN_US_PER_WEIGHT * k * n + XNN_US_PER_MAC * rowsPerCall * k * n);
  const loop = LOOP_US_PER_MAC * outBatch * m * k * n;
  return loop < xnn ? 'loop' : 'xnnpack';
}

/** A float32 tensor header over `count` elements at element `offset` of `base`'s memory. */
function view(backend: WasmBackendInternals, base: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  const data = backend.dataIdMap.get(base.dataId);
  if (data === undefined) throw new Error('matmul operand has no wasm data');
  return backend.makeOutput(shape, 'float32', data.memoryOffset + offset * 4);
}

/** Drops a view made by view(): unregisters it without freeing the memory it points into. */
function dropView(backend: WasmBackendInternals, v: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(v.dataId);
  if (data === undefined) return;
  // Tells the C++ side the id is gone (it also drops XNNPACK operators cached on it).
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(v.dataId);
}

/**
 * A·B with no transposes, through the stock kernel's XNNPACK path. `extra` holds the
 * pass-through inputs (bias, prelu weights) and `attrs` the stock attrs with flags off.
 * Returns a new tensor owned by the caller.
 */
function multiply(
  stockFunc: tf.KernelFunc,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  extra: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  backend: WasmBackendInternals,
  who: string,
): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = a.shape[ra - 2] ?? 1;
  const k = a.shape[ra - 1] ?? 1;
  const n = b.shape[rb - 1] ?? 1;
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  const batchA = size(aBatchShape);
  const batchB = size(bBatchShape);
  const outBatchShape = broadcastShapes(aBatchShape, bBatchShape);
  const outShape = [...outBatchShape, m, n];
  const run = (x: tf.TensorInfo, y: tf.TensorInfo) => single(stockFunc({ inputs: { ...extra, a: x, b: y }, backend, attrs }), who);

  if (batchA <= 1 && batchB <= 1) {
    // Already on the fast path; keep the stock kernel's own shape handling.
    return run(a, b);
  }
  const prelu = extra.preluActivationWeights;
  if (prelu !== undefined && size(prelu.shape) !== n && size(prelu.shape) !== m * n) {
    // Weights that vary along the batch cannot be split per 2-D call; leave it to stock.
    return run(a, b);
  }
  if (batchB === 1) {
    // Shared B (e.g. a dense layer over [batch, seq, d]): fold A's batch into its rows.
    // A is contiguous, so this is a header change, not a copy.
    const a2: tf.TensorInfo = { dataId: a.dataId, dtype: a.dtype, shape: [1, batchA * m, k] };
    const b2: tf.TensorInfo = { dataId: b.dataId, dtype: b.dtype, shape: [1, k, n] };
    const out = run(a2, b2);
    out.shape = outShape;
    return out;
  }
  // One 2-D product per output batch entry, on views into A and B.
  const outBatch = size(outBatchShape);
  const out = backend.makeOutput(outShape, 'float32');
  const outData = backend.dataIdMap.get(out.dataId);
  if (outData === undefined) throw new Error(`${who}: output has no wasm data`);
  const idx = new Array<number>(outBatchShape.length).fill(0);
  try {
    for (let o = 0; o < outBatch; o++) {
      const ia = broadcastIndex(idx, aBatchShape);
      const ib = broadcastIndex(idx, bBatchShape);
      const av = view(backend, a, ia * m * k, [1, m, k]);
      const bv = view(backend, b, ib * k * n, [1, k, n]);
      let r: tf.TensorInfo | null = null;
      try {
        r = run(av, bv);
        const rData = backend.dataIdMap.get(r.dataId);
        if (rData === undefined) throw new Error(`${who}: result has no wasm data`);
        // Read HEAPF32 only now: the stock kernel's allocation may have grown the heap.
        const heap = backend.wasm.HEAPF32;
        const src = rData.memoryOffset / 4;
        heap.copyWithin(outData.memoryOffset / 4 + o * m * n, src, src + m * n);
      } finally {
        if (r !== null) backend.disposeData(r.dataId);
        dropView(backend, av);
        dropView(backend, bv);
      }
      // Advance the output batch index, last axis fastest.
      for (let d = idx.length - 1; d >= 0; d--) {
        const next = (idx[d] ?? 0) + 1;
        if (next < (outBatchShape[d] ?? 1)) {
          idx[d] = next;
          break;
        }
        idx[d] = 0;
      }
    }
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  }
  return out;
}

/**
 * op(A)·op(B) for either kernel. `swapAllowed`: the transposed-product plan is valid.
 * `loopIsSafe`: the stock scalar loop gives right answers for this call (it does not for
 * fused bias or clamping activations), so it may be used where it is faster.
 */
function matMulKernel(
  s: State,
  stockFunc: tf.KernelFunc,
  args: KernelArgs,
  who: string,
  swapAllowed: boolean,
  loopIsSafe: boolean,
): tf.TensorInfo | tf.TensorInfo[] {
  const attrs = args.attrs ?? {};
  const { a: _a, b: _b, ...extra } = args.inputs;
  // Anything unusual goes to the stock kernel, which rejects it with its own message.
  const operands = ordinaryOperands(args);
  if (operands === null) return stockFunc(args);
  const { a, b, backend } = operands;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  if (loopIsSafe && wasmMatMulRoute(a.shape, b.shape, tA, tB) === 'loop') return stockFunc(args);
  const noT = { ...attrs, transposeA: false, transposeB: false };
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => {
    temps.push(t);
    return t;
  };
  try {
    const layout = matMulLayoutPlan(a.shape, b.shape, tA, tB, swapAllowed ? s.plan : 'operands');
    if (layout === 'output') {
      // op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ: operands whose flag is set are used as stored.
      const left = tB ? b : keep(transposeLast2(s, b, backend));
      const right = tA ? a : keep(transposeLast2(s, a, backend));
      const ct = keep(multiply(stockFunc, left, right, extra, noT, backend, who));
      return transposeLast2(s, ct, backend);
    }
    const a2 = tA ? keep(transposeLast2(s, a, backend)) : a;
    const b2 = tB ? keep(transposeLast2(s, b, backend)) : b;
    return multiply(stockFunc, a2, b2, extra, noT, backend, who);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function stockOf(s: State, name: WasmMatMulKernelName): tf.KernelConfig {
  const c = s.stock.get(name);
  if (c === undefined) throw new Error(`stock wasm ${name} was not captured`);
  return c;
}

function makeConfigs(s: State): tf.KernelConfig[] {
  const bmm = stockOf(s, 'BatchMatMul');
  const fused = stockOf(s, '_FusedMatMul');
  return [
    {
      ...bmm, // keeps setupFunc/disposeFunc: they bind the wasm function the stock kernelFunc calls
      kernelFunc: (args) => matMulKernel(s, bmm.kernelFunc, args, 'BatchMatMul', true, true),
    },
    {
      ...fused,
      kernelFunc: (args) => {
        const plain = args.inputs.bias === undefined && args.inputs.preluActivationWeights === undefined;
        const linear = (args.attrs?.activation ?? 'linear') === 'linear';
        return matMulKernel(
          s,
          fused.kernelFunc,
          args,
          '_FusedMatMul',
          // bias and prelu weights broadcast along the product's last axis, so they do not
          // survive computing the product transposed; elementwise activations do.
          plain,
          // The stock loop mishandles bias and clamps activations on partial sums.
          plain && linear,
        );
      },
    },
  ];
}

/**
 * Registers the BatchMatMul and _FusedMatMul above over the stock wasm ones.
 * Idempotent: a second call only changes the plan. Works before or after the wasm
 * backend is initialised. Returns the kernel names now registered.
 */
export function registerWasmMatMulKernels(options: WasmMatMulOptions = {}): WasmMatMulKernelName[] {
  const plan = options.plan ?? 'cheapest';
  if (state !== null) {
    state.plan = plan;
    return [...WASM_MATMUL_KERNELS];
  }
  // getKernel's declared type says it always returns, but it yields undefined when absent.
  const transposeCfg: tf.KernelConfig | undefined = tf.getKernel('Transpose', 'wasm');
  if (transposeCfg === undefined) throw new Error('wasm Transpose kernel is not registered');
  const stock = new Map<WasmMatMulKernelName, tf.KernelConfig>();
  for (const name of WASM_MATMUL_KERNELS) {
    const c: tf.KernelConfig | undefined = tf.getKernel(name, 'wasm');
    if (c === undefined) throw new Error(`wasm ${name} kernel is not registered`);
    stock.set(name, c);
  }
  const s: State = { stock, transpose: transposeCfg.kernelFunc, plan };
  for (const cfg of makeConfigs(s)) {
    tf.unregisterKernel(cfg.kernelName, 'wasm');
    tf.registerKernel(cfg);
  }
  state = s;
  return [...WASM_MATMUL_KERNELS];
}

/** Puts the stock wasm kernels back. Idempotent. */
export function unregisterWasmMatMulKernels(): void {
  if (state === null) return;
  for (const name of WASM_MATMUL_KERNELS) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(stockOf(state, name));
  }
  state = null;
}

/** Whether the replacement kernels are currently registered. */
export function wasmMatMulKernelsRegistered(): boolean {
  return state !== null;
}
