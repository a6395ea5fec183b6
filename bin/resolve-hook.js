// Module resolution hook: an architecture module anywhere on disk imports
// 'middlepath' and '@tensorflow/tfjs*' and gets the harness's own copies, so tensors,
// kernels and the backend are shared with the harness (one tfjs engine per process).
import { pathToFileURL } from 'node:url';

const root = new URL('../', import.meta.url);
const apiUrl = new URL('harness/api.ts', root).href;
const rootParent = pathToFileURL(new URL('package.json', root).pathname).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'middlepath') return { url: apiUrl, shortCircuit: true };
  if (specifier === '@tensorflow/tfjs' || specifier.startsWith('@tensorflow/tfjs/') || specifier.startsWith('@tensorflow/tfjs-')) {
    return nextResolve(specifier, { ...context, parentURL: rootParent });
  }
  const resolved = await nextResolve(specifier, context);
  // A submission's .ts file outside any "type": "module" package would otherwise be compiled
  // as CommonJS, where the two mappings above cannot apply: architecture modules are ESM.
  if (resolved.url.startsWith('file:') && /\.ts$/.test(resolved.url) && !resolved.url.includes('/node_modules/')) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}
