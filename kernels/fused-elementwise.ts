/**
 * Fused elementwise kernels (wasm+libxsmm): GELU, LayerNorm and softmax cross-entropy forward
 * and backward, and Sum over leading axes, each one pass of the wrapper's native code
 * (kernels/native/fused.c) over the wasm heap, in place of the 5–20 stock kernels (each
 * allocating a tensor) the composite ops run. Model code reaches them through the public ops it
 * already uses — nn.gelu, nn.layerNorm (harness/nn/layers.ts) and the tasks' crossEntropy
 * (harness/tasks/scoring.ts) — which run these kernels where they are registered for the active
 * backend and the composite tfjs ops elsewhere (plain wasm, wasm+blas, cpu, GPUs).
 *
 * Kernels (float32; names in FUSED_ELEMENTWISE_KERNELS):
 * - FusedGelu {x} → y;  FusedGeluGrad {dy, x} → dx
 * - FusedLayerNorm {x [..., d], gain [d], bias [d]}, attrs {epsilon} → [y, mean [rows], rstd [rows]];
 *   FusedLayerNormGrad {dy, x, gain, mean, rstd} → dx; FusedLayerNormGainGrad {dy, x, mean, rstd}
 *   → dgain; the bias's gradient is Sum(dy) over the rows. Three, each run only where the tape
 *   asks for that gradient, as the composite's backward runs only the kernels it needs
 * - FusedSoftmaxCrossEntropy {logits [N, C], labels int32 [N]} → [logp [N], lse [N]]: the
 *   log-probability of each row's label (what the composite's logSoftmax·oneHot row sum is) and
 *   logΣexp; FusedSoftmaxCrossEntropyGrad {dlogp, logits, labels, lse} → dlogits
 * - FusedMaskedSoftmax {x [..., T, t], mask [T, t]}, attrs {scale} → softmax(x·scale + mask) over the
 *   last axis (attention's probabilities); FusedMaskedSoftmaxGrad {dy, y}, attrs {scale} → dx
 * - Sum (replacing the stock one for float32 over one block of axes that excludes the last: the
 *   bias and gain gradients, which the stock kernel transposes first); anything else → stock.
 *
 * FLOP prices (harness/measure/flops.ts) are what the ledger charges the composite ops for the
 * same work, so a run's FLOP ledger is the same on every backend (as FusedAdam's).
 * The arithmetic differs from the composite's by rounding (an exp polynomial, one 1/σ per row,
 * sums in another order), so the hardware class names the kernel set (FUSED_KERNEL_SET).
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, heapView } from './blas-matmul.ts';
import { isWasmBackend, type WasmBackendInternals } from './wasm-matmul.ts';

export const FUSED_GELU = 'FusedGelu';
export const FUSED_GELU_GRAD = 'FusedGeluGrad';
export const FUSED_LAYER_NORM = 'FusedLayerNorm';
export const FUSED_LAYER_NORM_GRAD = 'FusedLayerNormGrad';
export const FUSED_LAYER_NORM_GAIN_GRAD = 'FusedLayerNormGainGrad';
export const FUSED_SOFTMAX_XENT = 'FusedSoftmaxCrossEntropy';
export const FUSED_SOFTMAX_XENT_GRAD = 'FusedSoftmaxCrossEntropyGrad';
export const FUSED_MASKED_SOFTMAX = 'FusedMaskedSoftmax';
export const FUSED_MASKED_SOFTMAX_GRAD = 'FusedMaskedSoftmaxGrad';
export const FUSED_ELEMENTWISE_KERNELS = [
  FUSED_GELU,
  FUSED_GELU_GRAD,
  FUSED_LAYER_NORM,
  FUSED_LAYER_NORM_GRAD,
  FUSED_LAYER_NORM_GAIN_GRAD,
  FUSED_SOFTMAX_XENT,
  FUSED_SOFTMAX_XENT_GRAD,
  FUSED_MASKED_SOFTMAX,
  FUSED_MASKED_SOFTMAX_GRAD,
  'Sum',
] as const;

/** The native entry points (fused.c), as koffi binds them. */
export interface FusedNative {
  /** mpx_fused_version(): bumped whenever the arithmetic of any kernel changes */
  version: number;
  gelu(n: number, x: Float32Array, y: Float32Array): void;
  geluGrad(n: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  layerNorm(
    rows: number,
    d: number,
    x: Float32Array,
    gain: Float32Array,
    bias: Float32Array,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
  ): void;
  layerNormGrad(
    rows: number,
    d: number,
    dy: Float32Array,
    x: Float32Array,
    gain: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
  ): void;
  layerNormGainGrad(
    rows: number,
    d: number,
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dgain: Float32Array,
  ): void;
  xent(rows: number, classes: number, logits: Float32Array, labels: Int32Array, logp: Float32Array, lse: Float32Array): void;
  xentGrad(
    rows: number,
    classes: number,
    logits: Float32Array,
    labels: Int32Array,
    lse: Float32Array,
    dlogp: Float32Array,
    dx: Float32Array,
  ): void;
  maskedSoftmax(rows: number, t: number, x: Float32Array, mask: Float32Array, maskRows: number, scale: number, y: Float32Array): void;
  maskedSoftmaxGrad(rows: number, t: number, y: Float32Array, dy: Float32Array, scale: number, dx: Float32Array): void;
  sumMid(pre: number, red: number, post: number, x: Float32Array, out: Float32Array): void;
}

/** The kernel set's name in the hardware class: 'fused<version>'. */
export function fusedKernelSet(native: FusedNative): string {
  return `fused${native.version}`;
}

type KoffiLib = { func(signature: string): (...args: unknown[]) => unknown };

/**
 * Binds the fused kernels in an already loaded wrapper; null when the wrapper predates them
 * (built before fused.c existed: `npm run build:native` rebuilds it), so the harness keeps the
 * composite ops rather than failing.
 */
export function bindFusedNative(lib: KoffiLib): FusedNative | null {
  try {
    const version = (lib.func('int mpx_fused_version(void)') as () => number)();
    return {
      version,
      gelu: lib.func('void mpx_gelu(int n, float *x, float *y)') as FusedNative['gelu'],
      geluGrad: lib.func('void mpx_gelu_grad(int n, float *x, float *dy, float *dx)') as FusedNative['geluGrad'],
      layerNorm: lib.func(
        'void mpx_layernorm(int rows, int d, float *x, float *gain, float *bias, float eps, float *y, float *mean, float *rstd)',
      ) as FusedNative['layerNorm'],
      layerNormGrad: lib.func(
        'void mpx_layernorm_grad(int rows, int d, float *dy, float *x, float *gain, float *mean, float *rstd, float *dx)',
      ) as FusedNative['layerNormGrad'],
      layerNormGainGrad: lib.func(
        'void mpx_layernorm_grad_gain(int rows, int d, float *dy, float *x, float *mean, float *rstd, float *dgain)',
      ) as FusedNative['layerNormGainGrad'],
      xent: lib.func(
        'void mpx_xent(int rows, int classes, float *logits, int32_t *labels, float *logp, float *lse)',
      ) as FusedNative['xent'],
      xentGrad: lib.func(
        'void mpx_xent_grad(int rows, int classes, float *logits, int32_t *labels, float *lse, float *dlogp, float *dx)',
      ) as FusedNative['xentGrad'],
      maskedSoftmax: lib.func(
        'void mpx_masked_softmax(int rows, int t, float *x, float *mask, int mrows, float scale, float *y)',
      ) as FusedNative['maskedSoftmax'],
      maskedSoftmaxGrad: lib.func(
        'void mpx_masked_softmax_grad(int rows, int t, float *y, float *dy, float scale, float *dx)',
      ) as FusedNative['maskedSoftmaxGrad'],
      sumMid: lib.func('void mpx_sum_mid(int pre, int red, int post, float *x, float *out)') as FusedNative['sumMid'],
    };
  } catch {
    return null;
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
const sizeOf = (shape: readonly number[]) => shape.reduce((s, d) => s * d, 1);

function wasmOf(backend: unknown, kernel: string): WasmBackendInternals {
  if (!isWasmBackend(backend)) throw new Error(`${kernel}: not the wasm backend`);
  return backend;
}

function input(args: KernelArgs, kernel: string, name: string, dtype: 'float32' | 'int32' = 'float32'): tf.TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`${kernel}: input ${name} missing`);
  if (t.dtype !== dtype) throw new Error(`${kernel}: input ${name} must be ${dtype}, got ${t.dtype}`);
  return t;
}

/**
 * Refuses inputs whose sizes are not `sizes` (the native code reads them by those sizes: a
 * wrong one would read past the tensor), before any output is made.
 */
function sized(kernel: string, checks: Array<[string, tf.TensorInfo, number]>): void {
  for (const [name, t, n] of checks) {
    if (sizeOf(t.shape) !== n) throw new Error(`${kernel}: input ${name} must have ${n} elements, got [${t.shape}]`);
  }
}

/** Outputs first (makeOutput may grow the heap), then views of everything on the heap as it is now. */
function views(backend: WasmBackendInternals, ts: tf.TensorInfo[]): Float32Array[] {
  const heap = backend.wasm.HEAPF32;
  return ts.map((t) => heapView(heap, heapOffset(backend, t), sizeOf(t.shape)));
}
function int32View(backend: WasmBackendInternals, t: tf.TensorInfo): Int32Array {
  return new Int32Array(backend.wasm.HEAPF32.buffer, heapOffset(backend, t) * 4, sizeOf(t.shape));
}

function gelu(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const backend = wasmOf(args.backend, FUSED_GELU);
  const x = input(args, FUSED_GELU, 'x');
  const y = backend.makeOutput([...x.shape], 'float32');
  const [xv, yv] = views(backend, [x, y]) as [Float32Array, Float32Array];
  native.gelu(xv.length, xv, yv);
  return y;
}

function geluGrad(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const backend = wasmOf(args.backend, FUSED_GELU_GRAD);
  const dy = input(args, FUSED_GELU_GRAD, 'dy');
  const x = input(args, FUSED_GELU_GRAD, 'x');
  sized(FUSED_GELU_GRAD, [['dy', dy, sizeOf(x.shape)]]);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const [xv, dyv, dxv] = views(backend, [x, dy, dx]) as [Float32Array, Float32Array, Float32Array];
  native.geluGrad(xv.length, xv, dyv, dxv);
  return dx;
}

/** rows × d of x [..., d], checking a [d] vector for each of `perFeature`. */
function rowsOf(kernel: string, x: tf.TensorInfo, perFeature: tf.TensorInfo[]): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1] ?? 1;
  for (const v of perFeature) {
    if (sizeOf(v.shape) !== d) throw new Error(`${kernel}: gain and bias must have ${d} elements (x's last axis), got [${v.shape}]`);
  }
  return { rows: d === 0 ? 0 : sizeOf(x.shape) / d, d };
}

function layerNorm(native: FusedNative, args: KernelArgs): tf.TensorInfo[] {
  const backend = wasmOf(args.backend, FUSED_LAYER_NORM);
  const x = input(args, FUSED_LAYER_NORM, 'x');
  const gain = input(args, FUSED_LAYER_NORM, 'gain');
  const bias = input(args, FUSED_LAYER_NORM, 'bias');
  const epsilon = args.attrs?.epsilon;
  if (typeof epsilon !== 'number') throw new Error(`${FUSED_LAYER_NORM}: attrs.epsilon must be a number`);
  const { rows, d } = rowsOf(FUSED_LAYER_NORM, x, [gain, bias]);
  const y = backend.makeOutput([...x.shape], 'float32');
  const mean = backend.makeOutput([rows], 'float32');
  const rstd = backend.makeOutput([rows], 'float32');
  const [xv, gv, bv, yv, mv, rv] = views(backend, [x, gain, bias, y, mean, rstd]) as Float32Array[];
  native.layerNorm(
    rows,
    d,
    xv as Float32Array,
    gv as Float32Array,
    bv as Float32Array,
    epsilon,
    yv as Float32Array,
    mv as Float32Array,
    rv as Float32Array,
  );
  return [y, mean, rstd];
}

function layerNormGrad(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const k = FUSED_LAYER_NORM_GRAD;
  const backend = wasmOf(args.backend, k);
  const [dy, x, gain, mean, rstd] = ['dy', 'x', 'gain', 'mean', 'rstd'].map((n) => input(args, k, n)) as [
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
  ];
  const { rows, d } = rowsOf(k, x, [gain]);
  sized(k, [
    ['dy', dy, rows * d],
    ['mean', mean, rows],
    ['rstd', rstd, rows],
  ]);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const [dyv, xv, gv, mv, rv, dxv] = views(backend, [dy, x, gain, mean, rstd, dx]) as Float32Array[];
  native.layerNormGrad(
    rows,
    d,
    dyv as Float32Array,
    xv as Float32Array,
    gv as Float32Array,
    mv as Float32Array,
    rv as Float32Array,
    dxv as Float32Array,
  );
  return dx;
}

function layerNormGainGrad(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const k = FUSED_LAYER_NORM_GAIN_GRAD;
  const backend = wasmOf(args.backend, k);
  const [dy, x, mean, rstd] = ['dy', 'x', 'mean', 'rstd'].map((n) => input(args, k, n)) as [
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
  ];
  const { rows, d } = rowsOf(k, x, []);
  sized(k, [
    ['dy', dy, rows * d],
    ['mean', mean, rows],
    ['rstd', rstd, rows],
  ]);
  const dgain = backend.makeOutput([d], 'float32');
  const [dyv, xv, mv, rv, gv] = views(backend, [dy, x, mean, rstd, dgain]) as Float32Array[];
  native.layerNormGainGrad(rows, d, dyv as Float32Array, xv as Float32Array, mv as Float32Array, rv as Float32Array, gv as Float32Array);
  return dgain;
}

function xent(native: FusedNative, args: KernelArgs): tf.TensorInfo[] {
  const backend = wasmOf(args.backend, FUSED_SOFTMAX_XENT);
  const logits = input(args, FUSED_SOFTMAX_XENT, 'logits');
  const labels = input(args, FUSED_SOFTMAX_XENT, 'labels', 'int32');
  const [rows, classes] = logits.shape as [number, number];
  if (logits.shape.length !== 2 || sizeOf(labels.shape) !== rows)
    throw new Error(`${FUSED_SOFTMAX_XENT}: logits must be [N, C] and labels [N], got [${logits.shape}] and [${labels.shape}]`);
  const logp = backend.makeOutput([rows], 'float32');
  const lse = backend.makeOutput([rows], 'float32');
  const [lv, pv, sv] = views(backend, [logits, logp, lse]) as [Float32Array, Float32Array, Float32Array];
  native.xent(rows, classes, lv, int32View(backend, labels), pv, sv);
  return [logp, lse];
}

function xentGrad(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const k = FUSED_SOFTMAX_XENT_GRAD;
  const backend = wasmOf(args.backend, k);
  const dlogp = input(args, k, 'dlogp');
  const logits = input(args, k, 'logits');
  const labels = input(args, k, 'labels', 'int32');
  const lse = input(args, k, 'lse');
  const [rows, classes] = logits.shape as [number, number];
  if (logits.shape.length !== 2) throw new Error(`${k}: logits must be [N, C], got [${logits.shape}]`);
  sized(k, [
    ['labels', labels, rows],
    ['lse', lse, rows],
    ['dlogp', dlogp, rows],
  ]);
  const dx = backend.makeOutput([rows, classes], 'float32');
  const [lv, sv, dv, dxv] = views(backend, [logits, lse, dlogp, dx]) as [Float32Array, Float32Array, Float32Array, Float32Array];
  native.xentGrad(rows, classes, lv, int32View(backend, labels), sv, dv, dxv);
  return dx;
}

function scaleOf(args: KernelArgs, kernel: string): number {
  const scale = args.attrs?.scale;
  if (typeof scale !== 'number') throw new Error(`${kernel}: attrs.scale must be a number`);
  return scale;
}

function maskedSoftmax(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const k = FUSED_MASKED_SOFTMAX;
  const backend = wasmOf(args.backend, k);
  const x = input(args, k, 'x');
  const mask = input(args, k, 'mask');
  const t = x.shape[x.shape.length - 1] ?? 0;
  const maskRows = mask.shape[0] ?? 0;
  // checked before the output is made, so a refusal leaves nothing allocated
  if (
    x.shape.length < 2 ||
    mask.shape.length !== 2 ||
    mask.shape[1] !== t ||
    maskRows < 1 ||
    (x.shape[x.shape.length - 2] ?? 1) % maskRows !== 0
  )
    throw new Error(`${k}: mask must be [rows, ${t}] with rows dividing x's second-last axis, for x [${x.shape}]; got [${mask.shape}]`);
  const scale = scaleOf(args, k);
  const y = backend.makeOutput([...x.shape], 'float32');
  const [xv, mv, yv] = views(backend, [x, mask, y]) as [Float32Array, Float32Array, Float32Array];
  native.maskedSoftmax(t === 0 ? 0 : xv.length / t, t, xv, mv, maskRows, scale, yv);
  return y;
}

function maskedSoftmaxGrad(native: FusedNative, args: KernelArgs): tf.TensorInfo {
  const k = FUSED_MASKED_SOFTMAX_GRAD;
  const backend = wasmOf(args.backend, k);
  const dy = input(args, k, 'dy');
  const y = input(args, k, 'y');
  const t = y.shape[y.shape.length - 1] ?? 0;
  sized(k, [['dy', dy, sizeOf(y.shape)]]);
  const scale = scaleOf(args, k);
  const dx = backend.makeOutput([...y.shape], 'float32');
  const [yv, dyv, dxv] = views(backend, [y, dy, dx]) as [Float32Array, Float32Array, Float32Array];
  native.maskedSoftmaxGrad(t === 0 ? 0 : yv.length / t, t, yv, dyv, scale, dxv);
  return dx;
}

/**
 * Sum over one contiguous block of axes that is not the last: x viewed as [pre, red, post]
 * with post > 1. Null (the stock kernel runs) for anything else.
 */
export function sumBlock(shape: readonly number[], axis: number | number[]): { pre: number; red: number; post: number } | null {
  const rank = shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) return null;
  const first = axes[0] as number;
  const lastAxis = axes[axes.length - 1] as number;
  if (lastAxis - first + 1 !== axes.length || lastAxis === rank - 1) return null;
  const post = sizeOf(shape.slice(lastAxis + 1));
  if (post <= 1) return null;
  return { pre: sizeOf(shape.slice(0, first)), red: sizeOf(shape.slice(first, lastAxis + 1)), post };
}

function sum(native: FusedNative, stock: tf.KernelFunc, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  const attrs = (args.attrs ?? {}) as { axis?: number | number[] | null; keepDims?: boolean };
  // no axis (null or undefined) sums everything: the stock kernel's one-row reduction
  const block = x && x.dtype === 'float32' && attrs.axis != null ? sumBlock(x.shape, attrs.axis) : null;
  if (!x || !block || block.red === 0 || !isWasmBackend(args.backend)) return stock(args);
  const backend = args.backend;
  const rank = x.shape.length;
  const axes = (Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis as number]).map((a) => (a < 0 ? a + rank : a));
  const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (attrs.keepDims ? [1] : []) : [d]));
  const out = backend.makeOutput(outShape, 'float32');
  const [xv, ov] = views(backend, [x, out]) as [Float32Array, Float32Array];
  native.sumMid(block.pre, block.red, block.post, xv, ov);
  return out;
}

let registered: { stockSum: tf.KernelConfig } | null = null;
let gradientsRegistered = false;

/** The gradients (global in tfjs, used only where the kernels ran). */
function registerGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: FUSED_GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => tf.engine().runKernel(FUSED_GELU_GRAD, { dy: dy as tf.Tensor, x: saved[0] as tf.Tensor }) as tf.Tensor,
    }),
  });
  tf.registerGradient({
    kernelName: FUSED_LAYER_NORM,
    inputsToSave: ['x', 'gain'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gain, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0] as tf.Tensor;
      const run = (kernel: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(kernel, inputs) as tf.Tensor;
      return {
        x: () => run(FUSED_LAYER_NORM_GRAD, { dy, x, gain, mean, rstd }),
        gain: () => run(FUSED_LAYER_NORM_GAIN_GRAD, { dy, x, mean, rstd }).reshape(gain.shape),
        bias: () =>
          tf
            .sum(
              dy,
              dy.shape.slice(0, -1).map((_, i) => i),
            )
            .reshape(gain.shape),
      };
    },
  });
  tf.registerGradient({
    kernelName: FUSED_SOFTMAX_XENT,
    inputsToSave: ['logits', 'labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [logits, labels, lse] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dlogp = (dys as tf.Tensor[])[0] as tf.Tensor;
      return {
        logits: () => tf.engine().runKernel(FUSED_SOFTMAX_XENT_GRAD, { dlogp, logits, labels, lse }) as tf.Tensor,
        labels: () => tf.zeros(labels.shape), // labels carry no gradient (float32 zeros, as the tape requires)
      };
    },
  });
  tf.registerGradient({
    kernelName: FUSED_MASKED_SOFTMAX,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [tf.Tensor];
      const scale = (attrs as { scale: number }).scale;
      const run = (s: number) => tf.engine().runKernel(FUSED_MASKED_SOFTMAX_GRAD, { dy: dy as tf.Tensor, y }, { scale: s }) as tf.Tensor;
      return {
        x: () => run(scale),
        // the mask is a constant in attention; were it trained, its gradient is the unscaled one summed over the broadcast axes
        mask: () => {
          const d = run(1);
          return tf
            .sum(
              d,
              d.shape.slice(0, -2).map((_, i) => i),
            )
            .reshape([-1, y.shape[y.shape.length - 1] as number]);
        },
      };
    },
  });
  gradientsRegistered = true;
}

/** Registers the fused kernels (and the Sum over leading axes) for wasm on the wrapper. Idempotent. */
export function registerFusedElementwise(native: FusedNative): string[] {
  if (!registered) {
    const stockSum = tf.getKernel('Sum', 'wasm');
    if (!stockSum) throw new Error('registerFusedElementwise: the wasm backend has no Sum kernel to fall back on');
    registerGradients();
    const reg = (kernelName: string, kernelFunc: tf.KernelFunc) => tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    reg(FUSED_GELU, (a) => gelu(native, a));
    reg(FUSED_GELU_GRAD, (a) => geluGrad(native, a));
    reg(FUSED_LAYER_NORM, (a) => layerNorm(native, a));
    reg(FUSED_LAYER_NORM_GRAD, (a) => layerNormGrad(native, a));
    reg(FUSED_LAYER_NORM_GAIN_GRAD, (a) => layerNormGainGrad(native, a));
    reg(FUSED_SOFTMAX_XENT, (a) => xent(native, a));
    reg(FUSED_SOFTMAX_XENT_GRAD, (a) => xentGrad(native, a));
    reg(FUSED_MASKED_SOFTMAX, (a) => maskedSoftmax(native, a));
    reg(FUSED_MASKED_SOFTMAX_GRAD, (a) => maskedSoftmaxGrad(native, a));
    tf.unregisterKernel('Sum', 'wasm');
    tf.registerKernel({ ...stockSum, kernelFunc: (a) => sum(native, stockSum.kernelFunc, a) });
    registered = { stockSum };
  }
  return [...FUSED_ELEMENTWISE_KERNELS];
}

export function unregisterFusedElementwise(): void {
  if (!registered) return;
  for (const k of FUSED_ELEMENTWISE_KERNELS) tf.unregisterKernel(k, 'wasm');
  tf.registerKernel(registered.stockSum);
  registered = null;
}

export function fusedElementwiseRegistered(): boolean {
  return registered !== null;
}
