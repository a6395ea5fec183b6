/** The backends' names, without tfjs: what the CLI offers as choices before loading anything. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm+libxsmm', 'wasm+blas', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';
