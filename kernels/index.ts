/**
 * Entry point for the harness: registers the custom kernels that apply to a backend.
 * Each kernel family lives in its own module with its own register/unregister pair.
 */
import { registerWasmMatMulKernels, unregisterWasmMatMulKernels } from './wasm-matmul.ts';
import { registerWasmSegmentSum } from './wasm-segment-sum.ts';

export { useWasmBackend, wasmDistDir } from './wasm-setup.ts';
export {
  registerWasmMatMulKernels,
  unregisterWasmMatMulKernels,
  wasmMatMulKernelsRegistered,
  WASM_MATMUL_KERNELS,
} from './wasm-matmul.ts';
export type { TransposePlan, WasmMatMulKernelName, WasmMatMulOptions } from './wasm-matmul.ts';

/**
 * Registers every custom kernel for `backendName` and returns the kernel names registered
 * (e.g. ["BatchMatMul", "_FusedMatMul"] on wasm) so the run record can list them.
 * Unknown or unaffected backends get none (empty list). Idempotent.
 */
export function registerKernels(backendName: string): string[] {
  const names: string[] = [];
  if (backendName === 'wasm') {
    names.push(...registerWasmMatMulKernels(), ...registerWasmSegmentSum());
  }
  return names;
}

/** Undoes registerKernels(backendName), restoring the stock kernels. Idempotent. */
export function unregisterKernels(backendName: string): void {
  if (backendName === 'wasm') {
    unregisterWasmMatMulKernels();
  }
}
