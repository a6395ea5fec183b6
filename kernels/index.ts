/**
 * Entry point for the harness: registers the custom kernels that apply to a backend.
 * Each kernel family lives in its own module with its own register/unregister pair.
 */
import { registerWasmMatMulKernels, unregisterWasmMatMulKernels } from './wasm-matmul.ts';
import { registerWasmRowKernels, unregisterWasmRowKernels } from './wasm-rows.ts';
import { registerWasmSegmentSum } from './wasm-segment-sum.ts';

export type { TransposePlan, WasmMatMulKernelName, WasmMatMulOptions } from './wasm-matmul.ts';
export {
  registerWasmMatMulKernels,
  unregisterWasmMatMulKernels,
  WASM_MATMUL_KERNELS,
  wasmMatMulKernelsRegistered,
} from './wasm-matmul.ts';
export { registerWasmRowKernels, unregisterWasmRowKernels, WASM_ROW_KERNELS, wasmRowKernelsRegistered } from './wasm-rows.ts';
export { useWasmBackend, wasmDistDir } from './wasm-setup.ts';

/**
 * Registers every custom kernel for `backendName` and returns the kernel names registered
 * (on wasm: BatchMatMul, _FusedMatMul, UnsortedSegmentSum, GatherV2, SplitV) so the run record can list them.
 * Unknown or unaffected backends get none (empty list). Idempotent.
 */
export function registerKernels(backendName: string): string[] {
  const names: string[] = [];
  if (backendName === 'wasm') {
    names.push(...registerWasmMatMulKernels(), ...registerWasmSegmentSum(), ...registerWasmRowKernels());
  }
  return names;
}

/** Undoes registerKernels(backendName), restoring the stock kernels. Idempotent. */
export function unregisterKernels(backendName: string): void {
  if (backendName === 'wasm') {
    unregisterWasmMatMulKernels();
    unregisterWasmRowKernels();
  }
}
