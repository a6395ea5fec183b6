/**
 * Executed FLOPs, counted at run time by wrapping every kernel the backend registered and
 * reading the shapes and attributes of each call. Only dispatches through the kernel
 * registry are seen — forward, backward and optimizer alike — so a kernel that calls
 * another internally is counted once. A multiply-add counts as 2 FLOPs.
 */
import * as tf from '@tensorflow/tfjs';

export type FlopKind = 'matmul' | 'conv' | 'elementwise' | 'reduction' | 'softmax' | 'movement';

type Shape = readonly number[];
interface CallInfo {
  inputs: Shape[];
  outputs: Shape[];
  attrs: Record<string, unknown>;
}

// The ledger's arithmetic uses intrinsics captured when this file is evaluated (in the confined
// child, before the module loads) and plain loops: a module that patches Array.prototype.reduce,
// Object.values, Set.prototype.has or Math.max does not change what is counted.
const reflectApply = Reflect.apply;
const objectValues = Object.values;
const isArray = Array.isArray;
const setHas = Set.prototype.has;
const weakMapGet = WeakMap.prototype.get;
const mathMax = Math.max;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const has = (set: Set<string>, name: string): boolean => reflectApply(setHas, set, [name]) as boolean;

/** Product of the first `n` dimensions (all of them by default). */
function size(s: Shape | undefined, n = s?.length ?? 0): number {
  if (!s) return 0;
  let p = 1;
  for (let i = 0; i < n; i++) p *= s[i] as number;
  return p;
}
const last = (s: Shape | undefined, fromEnd: number) => (s ? (s[s.length - fromEnd] ?? 1) : 1);

/** [..., m, n] output, contraction length from A (respecting transposeA). */
function matmulFlops({ inputs, outputs, attrs }: CallInfo): number {
  const k = attrs.transposeA ? last(inputs[0], 2) : last(inputs[0], 1);
  return 2 * size(outputs[0]) * k;
}

function fusedMatmulFlops(call: CallInfo): number {
  const out = size(call.outputs[0]);
  const bias = call.inputs.length > 2 ? out : 0;
  const activation = call.attrs.activation && call.attrs.activation !== 'linear' ? out : 0;
  return matmulFlops(call) + bias + activation;
}

/**
 * Forward conv: 2 · output elements · (filter taps × input channels per output): the filter is
 * [kh, kw, inC, outC] (2-D) or [kd, kh, kw, inC, outC] (3-D). A depthwise filter is
 * [kh, kw, inC, multiplier] and each output channel reads one input channel: taps only.
 */
function convFlops({ inputs, outputs }: CallInfo, depthwise = false): number {
  const filter = inputs[1];
  if (!filter) return 0;
  const perOutput = depthwise ? size(filter, filter.length - 2) : size(filter, filter.length - 1);
  return 2 * size(outputs[0]) * perOutput;
}
/**
 * Backprop to the input costs the forward's MACs (each pairs a dy element with a filter tap and
 * an input channel): 2 · |dy| · taps · inC, whatever the filter's rank — Conv3D's kernel depth
 * included. inputs are [dy, filter].
 */
function convBackpropInputFlops({ inputs, attrs }: CallInfo): number {
  const dy = inputs[0];
  const filter = inputs[1] ?? (attrs.filterShape as Shape | undefined);
  if (!dy || !filter) return 0;
  return (2 * size(dy) * size(filter)) / last(filter, 1);
}
function convBackpropFilterFlops({ inputs, outputs }: CallInfo): number {
  // outputs[0] is the filter gradient [kh, kw, inC, outC]; each tap sums over the dy positions.
  const dy = inputs[1];
  return 2 * size(outputs[0]) * (dy ? size(dy, dy.length - 1) : 0);
}

const ELEMENTWISE = new Set([
  'Abs',
  'Acos',
  'Acosh',
  'Add',
  'Asin',
  'Asinh',
  'Atan',
  'Atan2',
  'Atanh',
  'BiasAdd',
  'Ceil',
  'ClipByValue',
  'Cos',
  'Cosh',
  'Digamma',
  'Elu',
  'EluGrad',
  'Equal',
  'Erf',
  'Exp',
  'Expm1',
  'Floor',
  'FloorDiv',
  'Greater',
  'GreaterEqual',
  'IsFinite',
  'IsInf',
  'IsNan',
  'LeakyRelu',
  'Less',
  'LessEqual',
  'Log',
  'Log1p',
  'LogicalAnd',
  'LogicalNot',
  'LogicalOr',
  'LogicalXor',
  'Maximum',
  'Minimum',
  'Mod',
  'Multiply',
  'Neg',
  'NotEqual',
  'Pow',
  'Prelu',
  'RealDiv',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Round',
  'Rsqrt',
  'Select',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Sqrt',
  'Square',
  'SquaredDifference',
  'Step',
  'Sub',
  'Tan',
  'Tanh',
]);
const REDUCTIONS = new Set([
  'All',
  'Any',
  'ArgMax',
  'ArgMin',
  'Max',
  'Mean',
  'Min',
  'Prod',
  'Sum',
  'UnsortedSegmentSum',
  'Cumsum',
  'Cumprod',
  'EuclideanNorm',
]);

/**
 * Kernels that only move, copy, index, cast or fill data: priced at zero, by name. A kernel
 * in no list here has no price, and the counter refuses it in training (below): compute
 * the budget never saw would otherwise buy quality for free.
 */
export const MOVEMENT = new Set([
  'BatchToSpaceND',
  'BroadcastArgs',
  'Cast',
  'Concat',
  'DepthToSpace',
  'ExpandDims',
  'Fill',
  'FlipLeftRight',
  'GatherNd',
  'GatherV2',
  'Identity',
  'LinSpace',
  'MirrorPad',
  'OneHot',
  'OnesLike',
  'Pack',
  'PadV2',
  'Range',
  'Reshape',
  'Reverse',
  'ScatterNd',
  'Slice',
  'SpaceToBatchND',
  'SplitV',
  'StridedSlice',
  'TensorScatterUpdate',
  'Tile',
  'Transpose',
  'Unpack',
  'ZerosLike',
]);

/** A kernel with no FLOP price was dispatched in training. */
export class UnpricedKernelError extends Error {
  override name = 'UnpricedKernelError';
  constructor(readonly kernelName: string) {
    super(
      `kernel ${kernelName} has no FLOP price, so its compute would go uncounted: build the model from kernels the harness prices (matmuls, convolutions, elementwise ops, reductions, softmax, data movement; harness/measure/flops.ts lists them), or propose a price for ${kernelName} there`,
    );
  }
}

/**
 * What one kernel call costs and of which kind; `movement` kernels (reshape, gather,
 * concat…) cost 0; null for a kernel with no price.
 */
export function costOf(kernelName: string, call: CallInfo): { kind: FlopKind; flops: number } | null {
  switch (kernelName) {
    case 'BatchMatMul':
      return { kind: 'matmul', flops: matmulFlops(call) };
    case '_FusedMatMul':
      return { kind: 'matmul', flops: fusedMatmulFlops(call) };
    case 'Conv2D':
    case 'FusedConv2D':
    case 'Conv3D':
      return { kind: 'conv', flops: convFlops(call) };
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D':
      return { kind: 'conv', flops: convFlops(call, true) };
    case 'Conv2DBackpropInput':
    case 'Conv3DBackpropInputV2':
      return { kind: 'conv', flops: convBackpropInputFlops(call) };
    case 'Conv2DBackpropFilter':
    case 'Conv3DBackpropFilterV2':
      return { kind: 'conv', flops: convBackpropFilterFlops(call) };
    case 'Softmax':
      // exp, sum and divide per element (as Chinchilla's 3·H·S² counts it)
      return { kind: 'softmax', flops: 3 * size(call.outputs[0]) };
    case 'GroupedMatMul': {
      // kernels/blas-grouped.ts: x [S, k] → [S, n], one product per expert's rows; real rows only (no padding exists)
      const out = size(call.outputs[0]);
      return { kind: 'matmul', flops: 2 * out * last(call.inputs[0], 1) + (call.attrs.bias === true ? out : 0) };
    }
    case 'GroupedMatMulGrad': {
      // dW_e = x_eᵀ·dy_e over every expert's real rows, plus the bias gradients' row sums
      const dy = size(call.inputs[1]);
      return { kind: 'matmul', flops: 2 * dy * last(call.inputs[0], 1) + (call.attrs.bias === true ? dy : 0) };
    }
    case 'AddN':
      return { kind: 'elementwise', flops: mathMax(0, call.inputs.length - 1) * size(call.outputs[0]) };
    case 'TopK':
      // one comparison per input element (routers pick their experts with it)
      return { kind: 'reduction', flops: size(call.inputs[0]) };
    case 'FusedAdam':
      // kernels/fused-adam.ts: Adam's update in one pass, priced as tfjs's 14 elementwise kernels per element
      return { kind: 'elementwise', flops: 14 * size(call.inputs[0]) };
    // kernels/fused-elementwise.ts, each priced as what this ledger charges the composite ops it
    // replaces (harness/nn/layers.ts, harness/tasks/scoring.ts), so the total is the same on every backend
    // (all 'elementwise': the composites' reductions are part of each fused pass):
    case 'FusedGelu':
      // square, mul, mul, add, mul, tanh, add, mul, mul
      return { kind: 'elementwise', flops: 9 * size(call.outputs[0]) };
    case 'FusedGeluGrad':
      // the gradients of those nine kernels, chained
      return { kind: 'elementwise', flops: 15 * size(call.inputs[1]) };
    case 'FusedLayerNorm': {
      // moments (mean, sub, square, mean), then sub, div, mul, add per element; add ε and sqrt per row
      const n = size(call.inputs[0]);
      return { kind: 'elementwise', flops: 8 * n + 2 * (n / mathMax(1, last(call.inputs[0], 1))) };
    }
    case 'FusedLayerNormGrad': {
      // the composite's backward to x: 14 per element, 9 per row
      const n = size(call.inputs[1]);
      return { kind: 'elementwise', flops: 14 * n + 9 * (n / mathMax(1, last(call.inputs[1], 1))) };
    }
    case 'FusedLayerNormGainGrad':
      // the composite's backward to the gain: a product and a row sum per element (the bias's is a Sum)
      return { kind: 'elementwise', flops: 2 * size(call.inputs[1]) };
    case 'FusedSoftmaxCrossEntropy': {
      // logSoftmax (max, sub, exp, sum, sub per element; log per row), times the one-hot, row sum
      const n = size(call.inputs[0]);
      return { kind: 'elementwise', flops: 7 * n + size(call.outputs[0]) };
    }
    case 'FusedSoftmaxCrossEntropyGrad':
      // that forward's gradient per element of the logits
      return { kind: 'elementwise', flops: 6 * size(call.outputs[0]) };
    case 'FusedMaskedSoftmax':
      // attention's scale and mask (a product and a sum per element), then softmax (3 per element)
      return { kind: 'softmax', flops: 5 * size(call.outputs[0]) };
    case 'FusedMaskedSoftmaxGrad':
      // softmax's gradient (product, row sum, product, difference) and the scale's, per element
      return { kind: 'elementwise', flops: 5 * size(call.outputs[0]) };
    case 'FusedBatchNorm':
      // subtract the mean, divide by the deviation, scale, shift
      return { kind: 'elementwise', flops: 4 * size(call.outputs[0]) };
  }
  if (has(ELEMENTWISE, kernelName)) return { kind: 'elementwise', flops: size(call.outputs[0]) };
  if (has(REDUCTIONS, kernelName)) return { kind: 'reduction', flops: size(call.inputs[0]) };
  if (has(MOVEMENT, kernelName)) return { kind: 'movement', flops: 0 };
  return null;
}

/** Values read back from tensors into JavaScript (dataSync, data, arraySync, array…): calls and bytes. */
export interface Readbacks {
  calls: number;
  bytes: number;
}

export interface FlopTotals {
  total: number;
  byKind: Record<FlopKind, number>;
  /** kernel dispatches seen */
  calls: number;
  /** readbacks by the architecture's code while counting (build() and training steps); the harness's own reads are not counted */
  readbacks: Readbacks;
}

const zeroKinds = (): Record<FlopKind, number> => ({ matmul: 0, conv: 0, elementwise: 0, reduction: 0, softmax: 0, movement: 0 });

export interface FlopCounter {
  /** counts only while true (training steps); evaluation is not training compute */
  active: boolean;
  /** true while the architecture has no business computing (the confined child between requests) */
  idle: boolean;
  /** the first kernel dispatched while idle, or null: the child refuses the next request with it */
  idleDispatch: string | null;
  readonly totals: FlopTotals;
  reset(): void;
  /** restore the unwrapped kernels */
  uninstall(): void;
}

type TensorLike = { shape: number[] };
function shapesOf(v: unknown): Shape[] {
  const out: Shape[] = [];
  if (isArray(v)) {
    for (let i = 0; i < v.length; i++) out[i] = (v[i] as TensorLike).shape;
  } else if (v && typeof v === 'object' && 'shape' in v) out[0] = (v as TensorLike).shape;
  return out;
}
function inputShapes(inputs: unknown): Shape[] {
  const out: Shape[] = [];
  const all = objectValues((inputs ?? {}) as object) as unknown[];
  for (let i = 0; i < all.length; i++) {
    const t = all[i];
    if (t != null) out[out.length] = (t as TensorLike).shape;
  }
  return out;
}

/** The counter readbacks go to (the one installed last), and whether the harness itself is reading. */
let readbackCounter: FlopCounter | null = null;
let harnessReading = 0;

/** Run `fn`, whose reads of tensor values are the harness's own (a loss, a sampled density), uncounted. */
export function harnessReads<T>(fn: () => T): T {
  harnessReading++;
  try {
    return fn();
  } finally {
    harnessReading--;
  }
}

let readbackHooked = false;
/**
 * Count readbacks at the engine, where every Tensor.dataSync/data/arraySync/array/buffer
 * lands (engine.readSync, engine.read): own properties of the engine, neither writable nor
 * configurable, so that a module cannot unhook them. Once per process.
 */
export function installReadbackHook(): void {
  if (readbackHooked) return;
  const engine = tf.engine() as unknown as Record<string, unknown> & { state: { tensorInfo: WeakMap<object, { bytes?: number }> } };
  const proto = getPrototypeOf(engine) as Record<string, (...a: unknown[]) => unknown>;
  const count = (dataId: unknown) => {
    const c = readbackCounter;
    if (!c?.active || harnessReading > 0) return;
    const info = reflectApply(weakMapGet, engine.state.tensorInfo, [dataId]) as { bytes?: number } | undefined;
    c.totals.readbacks.calls++;
    c.totals.readbacks.bytes += info?.bytes ?? 0;
  };
  for (const key of ['readSync', 'read'] as const) {
    const original = proto[key];
    if (typeof original !== 'function') continue;
    defineProperty(engine, key, {
      value: function (this: unknown, dataId: unknown, ...rest: unknown[]) {
        count(dataId);
        return reflectApply(original, this, [dataId, ...rest]);
      },
      writable: false,
      enumerable: false,
      configurable: false, // for good: a module cannot unhook it (assigning it throws)
    });
  }
  readbackHooked = true;
}

/**
 * Wrap every kernel registered for `backendName` with a counter. Call after the backend is
 * set and custom kernels are registered; call uninstall() before changing kernels again.
 */
export function installFlopCounter(backendName: string): FlopCounter {
  const originals = tf.getKernelsForBackend(backendName);
  const totals: FlopTotals = { total: 0, byKind: zeroKinds(), calls: 0, readbacks: { calls: 0, bytes: 0 } };
  const counter: FlopCounter = {
    active: false,
    idle: false,
    idleDispatch: null,
    totals,
    reset() {
      totals.total = 0;
      totals.calls = 0;
      totals.byKind = zeroKinds();
      totals.readbacks = { calls: 0, bytes: 0 };
    },
    uninstall() {
      if (readbackCounter === counter) readbackCounter = null;
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, backendName);
        tf.registerKernel(config);
      }
    },
  };
  for (const config of originals) {
    const { kernelName, kernelFunc } = config;
    const wrapped: tf.KernelFunc = (args) => {
      const result = kernelFunc(args);
      if (counter.active) {
        const cost = costOf(kernelName, {
          inputs: inputShapes(args.inputs),
          outputs: shapesOf(result),
          attrs: (args.attrs ?? {}) as Record<string, unknown>,
        });
        if (!cost) throw new UnpricedKernelError(kernelName);
        totals.total += cost.flops;
        totals.byKind[cost.kind] += cost.flops;
        totals.calls++;
      } else if (counter.idle) counter.idleDispatch ??= kernelName;
      return result;
    };
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: wrapped });
  }
  installReadbackHook();
  readbackCounter = counter;
  return counter;
}
