/**
 * Puts tfjs on the wasm backend. The .wasm binaries ship inside the npm package;
 * Node cannot fetch them by URL, so point tfjs at the package's dist/ folder.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** Absolute path of node_modules/@tensorflow/tfjs-backend-wasm/dist/, with a trailing slash. */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  // package.json's "main" lives in dist/, so its folder is the one holding the .wasm files.
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  return `${dirname(main)}/`;
}

let pathsSet = false;

/**
 * Sets the wasm paths (once), switches tfjs to the wasm backend and waits for it.
 * Throws if the backend cannot be initialised, rather than silently staying on cpu.
 */
export async function useWasmBackend(distDir?: string): Promise<void> {
  if (!pathsSet) {
    // a confined child is handed the folder: it may read the .wasm files but not resolve packages freely
    setWasmPaths(distDir ?? wasmDistDir());
    pathsSet = true;
  }
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'wasm') {
    throw new Error(`could not initialise the tfjs wasm backend (active backend: ${tf.getBackend()})`);
  }
}
