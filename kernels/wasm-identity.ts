/**
 * `Identity` and same-dtype `Cast` for wasm without a copy: the output shares the input's memory
 * (the backend's reference count goes up, as the stock wasm `Reshape` and the cpu backend's
 * `Identity` do). tfjs clones every tensor a gradient saves (engine.saveTensorsForBackwardMode →
 * clone → Identity) and casts float32 to float32 in most elementwise gradients; the stock wasm
 * kernels copy each time: 232 Identity and 62 Cast copies in one charlm step.
 *
 * Sharing is safe because tensors are immutable: the only kernel that writes into an input
 * (FusedAdam) does so only where the backend's reference count is 1 (fused-adam.ts).
 * Strings, and Cast between dtypes, go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}
const refCounting = (b: unknown): b is RefCounting => typeof (b as Partial<RefCounting> | null)?.incRef === 'function';

type KernelArgs = Parameters<tf.KernelFunc>[0];
export const WASM_IDENTITY_KERNELS = ['Identity', 'Cast'] as const;

let stock: tf.KernelConfig[] | null = null;

function shared(args: KernelArgs, fallback: tf.KernelFunc, dtype: tf.DataType): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  if (!x || x.dtype === 'string' || x.dtype !== dtype || !refCounting(args.backend)) return fallback(args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Registers the sharing Identity and Cast for wasm over the stock ones. Idempotent. */
export function registerWasmIdentity(): string[] {
  if (!stock) {
    const configs = WASM_IDENTITY_KERNELS.map((k) => tf.getKernel(k, 'wasm')).filter((c): c is tf.KernelConfig => c !== undefined);
    if (configs.length !== WASM_IDENTITY_KERNELS.length) return [];
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      const kernelFunc: tf.KernelFunc =
        config.kernelName === 'Cast'
          ? (a) => shared(a, config.kernelFunc, (a.attrs as { dtype?: tf.DataType } | undefined)?.dtype ?? 'float32')
          : (a) => shared(a, config.kernelFunc, a.inputs.x?.dtype ?? 'float32');
      tf.registerKernel({ ...config, kernelFunc });
    }
    stock = configs;
  }
  return [...WASM_IDENTITY_KERNELS];
}

export function unregisterWasmIdentity(): void {
  if (!stock) return;
  for (const config of stock) {
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  stock = null;
}
