/**
 * Entry point for the harness: registers the custom kernels that apply to a backend.
 * Each kernel family lives in its own module with its own register/unregister pair.
 */
import type { Blas } from './blas.ts';
import { registerBlasGroupedKernels, unregisterBlasGroupedKernels } from './blas-grouped.ts';
import { registerBlasMatMulKernels, unregisterBlasMatMulKernels } from './blas-matmul.ts';
import { registerFusedAdam, unregisterFusedAdam } from './fused-adam.ts';
import { registerFusedElementwise, unregisterFusedElementwise } from './fused-elementwise.ts';
import { registerWasmIdentity, unregisterWasmIdentity } from './wasm-identity.ts';
import { registerWasmMatMulKernels, unregisterWasmMatMulKernels } from './wasm-matmul.ts';
import { registerWasmRowKernels, unregisterWasmRowKernels } from './wasm-rows.ts';
import { registerWasmSegmentSum } from './wasm-segment-sum.ts';
import type { Xsmm } from './xsmm.ts';

export type { Blas, BlasInfo, BlasLibrary } from './blas.ts';
export { blasThreadsWanted, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS, describeBlas, loadBlas } from './blas.ts';
export { BLAS_MATMUL_KERNELS, blasInUse, blasMatMulKernelsRegistered } from './blas-matmul.ts';
export { ADAM_FLOPS_PER_ELEMENT, FUSED_ADAM, FusedAdamOptimizer, fusedAdamRegistered } from './fused-adam.ts';
export type { FusedNative } from './fused-elementwise.ts';
export { FUSED_ELEMENTWISE_KERNELS, fusedElementwiseRegistered, fusedKernelSet } from './fused-elementwise.ts';
export { registerWasmIdentity, unregisterWasmIdentity, WASM_IDENTITY_KERNELS } from './wasm-identity.ts';
export type { TransposePlan, WasmMatMulKernelName, WasmMatMulOptions } from './wasm-matmul.ts';
export {
  registerWasmMatMulKernels,
  unregisterWasmMatMulKernels,
  WASM_MATMUL_KERNELS,
  wasmMatMulKernelsRegistered,
} from './wasm-matmul.ts';
export { registerWasmRowKernels, unregisterWasmRowKernels, WASM_ROW_KERNELS, wasmRowKernelsRegistered } from './wasm-rows.ts';
export { useWasmBackend, wasmDistDir } from './wasm-setup.ts';
export type { JitStats, Xsmm } from './xsmm.ts';
export { loadXsmm, loadXsmmBlas, preferSystemBlas, xsmmBlas, xsmmJitSeconds, xsmmLibraryPath } from './xsmm.ts';

export interface KernelOptions {
  /** wasm only: run matmuls (and MoE's grouped matmuls) on this system BLAS (or libxsmm as one: kernels/xsmm.ts); absent: the wasm kernels */
  blas?: Blas;
  /** wasm only: the libxsmm wrapper's native elementwise kernels (FusedAdam, and the fused ones where it has them); wasm+libxsmm passes it */
  native?: Xsmm;
}

/**
 * Registers every custom kernel for `backendName` and returns the kernel names registered
 * (on wasm: BatchMatMul, _FusedMatMul, UnsortedSegmentSum, GatherV2, SplitV, Identity, Cast; with a
 * BLAS, also GroupedMatMul and GroupedMatMulGrad; with the wrapper, FusedAdam and the fused
 * elementwise kernels) so the run record can list them. Unknown or
 * unaffected backends get none (empty list). Idempotent; on wasm without `blas` it removes
 * BLAS kernels an earlier call registered, so the choice is always the last call's.
 */
export function registerKernels(backendName: string, options: KernelOptions = {}): string[] {
  const names: string[] = [];
  if (backendName === 'wasm') {
    unregisterFusedElementwise();
    unregisterFusedAdam();
    unregisterBlasGroupedKernels();
    unregisterBlasMatMulKernels(); // the wasm ones must be underneath (they are the BLAS kernels' fallback)
    names.push(...registerWasmMatMulKernels(), ...registerWasmSegmentSum(), ...registerWasmRowKernels(), ...registerWasmIdentity());
    if (options.blas) {
      registerBlasMatMulKernels(options.blas);
      names.push(...registerBlasGroupedKernels(options.blas));
    }
    if (options.native) names.push(...registerFusedAdam(options.native));
    if (options.native?.fused) names.push(...registerFusedElementwise(options.native.fused));
  }
  return names;
}

/** Undoes registerKernels(backendName), restoring the stock kernels. Idempotent. */
export function unregisterKernels(backendName: string): void {
  if (backendName === 'wasm') {
    unregisterFusedElementwise();
    unregisterFusedAdam();
    unregisterBlasGroupedKernels();
    unregisterBlasMatMulKernels();
    unregisterWasmMatMulKernels();
    unregisterWasmRowKernels();
    unregisterWasmIdentity();
  }
}
