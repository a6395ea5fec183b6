/**
 * Backend choice. `auto` takes the first that loads of tensorflow-gpu > tensorflow > webgpu >
 * wasm+libxsmm > wasm+blas > wasm > cpu. `wasm+blas` is the wasm backend with its matmuls on the
 * system BLAS (kernels/blas.ts); `wasm+libxsmm` has them on libxsmm's JIT through the wrapper npm
 * install builds (kernels/xsmm.ts; the system BLAS for the few shapes it runs better); `wasm`
 * forces the plain wasm kernels. The optional native backends cannot install on machines without their
 * download hosts or a GPU, so each is loaded by dynamic import and its failure kept as the
 * reason it was passed over — the run record says which backend ran and why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { type BlasInfo, describeBlas, loadBlas, loadXsmmBlas, registerKernels } from '../kernels/index.ts';
import { useWasmBackend } from '../kernels/wasm-setup.ts';
import { BACKENDS, type BackendChoice, type BackendName } from './backend-names.ts';
import { UsageError } from './errors.ts';

export { BACKENDS, type BackendChoice, type BackendName };

export interface ActiveBackend {
  name: BackendName;
  /** tfjs's own name for it ('tensorflow' for both native builds) */
  tfjsName: string;
  /** why this one: the ones passed over and their errors */
  reason: string;
  /** 'cpu' or the accelerator's name */
  device: string;
  /** version of the package providing the backend */
  version: string | null;
  /** custom kernels registered over the stock ones */
  kernels: string[];
  /** wasm+blas, wasm+libxsmm: the library the matmuls run on; null otherwise */
  blas: BlasInfo | null;
}

const firstLine = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .split('\n')[0]
    ?.slice(0, 200) ?? 'unknown error';

async function packageVersion(name: string): Promise<string | null> {
  try {
    const mod = (await import(`${name}/package.json`, { with: { type: 'json' } })) as { default: { version: string } };
    return mod.default.version;
  } catch {
    return null;
  }
}

function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true; // let Dawn decide elsewhere
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/usr/local/lib',
  ];
  return dirs.some((d) => d && existsSync(join(d, 'libvulkan.so.1')));
}

/** 'adapter' when Dawn finds a WebGPU adapter, else why not; Dawn's own output stays in the child. */
function quietAdapterProbe(): string {
  const script =
    "const d = await import('webgpu'); Object.assign(globalThis, d.globals); const a = await d.create([]).requestAdapter(); process.stdout.write(a ? 'adapter' : 'none'); process.exit(0);";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.stdout === 'adapter') return 'adapter';
  if (r.stdout === 'none') return 'Dawn found no WebGPU adapter (needs a Vulkan driver and loader)';
  return `the webgpu package could not be probed: ${firstLine(r.error ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`)}`;
}

type Loaded = Omit<ActiveBackend, 'reason' | 'kernels' | 'blas'> & {
  blas?: Awaited<ReturnType<typeof loadBlas>>;
  native?: Awaited<ReturnType<typeof loadXsmmBlas>>['xsmm'];
};

/** Load one backend; throws with the reason it cannot run here. */
async function load(name: BackendName): Promise<Loaded> {
  switch (name) {
    case 'tensorflow-gpu': {
      await import('@tensorflow/tfjs-node-gpu' as string);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node-gpu loaded but the tensorflow backend did not initialise');
      return { name, tfjsName: 'tensorflow', device: 'cuda', version: await packageVersion('@tensorflow/tfjs-node-gpu') };
    }
    case 'tensorflow': {
      await import('@tensorflow/tfjs-node' as string);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node loaded but the tensorflow backend did not initialise');
      return { name, tfjsName: 'tensorflow', device: 'cpu', version: await packageVersion('@tensorflow/tfjs-node') };
    }
    case 'webgpu': {
      // Dawn prints a warning per probe when the Vulkan loader is missing: look first.
      if (!hasVulkanLoader()) throw new Error('no Vulkan loader (libvulkan.so.1) for Dawn to find a GPU with');
      // ...and prints loader noise ("XDG_RUNTIME_DIR is invalid") on machines with a loader and no GPU: ask in a child whose stderr we keep.
      const probe = quietAdapterProbe();
      if (probe !== 'adapter') throw new Error(probe);
      // tfjs-backend-webgpu reads navigator.gpu at import time: provide Dawn's first.
      const dawn = (await import('webgpu' as string)) as { create(flags: string[]): unknown; globals: Record<string, unknown> };
      Object.assign(globalThis, dawn.globals);
      const gpu = dawn.create([]) as { requestAdapter(): Promise<unknown> };
      const nav: unknown = (globalThis as { navigator?: unknown }).navigator;
      if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
      else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
      if (!(await gpu.requestAdapter())) throw new Error('Dawn found no WebGPU adapter (needs a Vulkan driver and loader)');
      await import('@tensorflow/tfjs-backend-webgpu' as string);
      if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
      return { name, tfjsName: 'webgpu', device: 'gpu (webgpu)', version: await packageVersion('@tensorflow/tfjs-backend-webgpu') };
    }
    case 'wasm+libxsmm': {
      const { blas, xsmm } = await loadXsmmBlas();
      await useWasmBackend();
      return { name, tfjsName: 'wasm', device: 'cpu', version: await packageVersion('@tensorflow/tfjs-backend-wasm'), blas, native: xsmm };
    }
    case 'wasm+blas': {
      const blas = await loadBlas();
      await useWasmBackend();
      return { name, tfjsName: 'wasm', device: 'cpu', version: await packageVersion('@tensorflow/tfjs-backend-wasm'), blas };
    }
    case 'wasm':
      await useWasmBackend();
      return { name, tfjsName: 'wasm', device: 'cpu', version: await packageVersion('@tensorflow/tfjs-backend-wasm') };
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return { name, tfjsName: 'cpu', device: 'cpu', version: tf.version_core };
  }
}

/** Pick and initialise a backend; register the custom kernels that apply to it. */
export async function selectBackend(choice: BackendChoice): Promise<ActiveBackend> {
  if (choice !== 'auto' && !BACKENDS.includes(choice)) {
    throw new UsageError(`unknown backend '${choice}'; choose auto or one of: ${BACKENDS.join(', ')}`);
  }
  const candidates: BackendName[] = choice === 'auto' ? [...BACKENDS] : [choice];
  const passedOver: string[] = [];
  for (const name of candidates) {
    try {
      const { blas, native, ...loaded } = await load(name);
      await tf.ready();
      const kernels = registerKernels(loaded.tfjsName, { blas, native });
      const reason =
        choice === 'auto'
          ? `auto: first available${passedOver.length ? ` (passed over: ${passedOver.join('; ')})` : ''}`
          : 'requested with --backend';
      return { ...loaded, reason, kernels, blas: blas?.info ?? null };
    } catch (e) {
      passedOver.push(`${name}: ${firstLine(e)}`);
    }
  }
  throw new UsageError(`backend '${choice}' cannot run here: ${passedOver.join('; ')}`);
}

/** Report every backend's availability without keeping any (for `middlepath doctor`). */
export async function probeBackends(): Promise<Array<{ name: BackendName; ok: boolean; detail: string }>> {
  const out: Array<{ name: BackendName; ok: boolean; detail: string }> = [];
  for (const name of BACKENDS) {
    try {
      const loaded = await load(name);
      const blas = loaded.blas ? `, ${describeBlas(loaded.blas.info)} (${loaded.blas.info.path})` : '';
      out.push({ name, ok: true, detail: `device ${loaded.device}, version ${loaded.version ?? 'unknown'}${blas}` });
    } catch (e) {
      out.push({ name, ok: false, detail: firstLine(e) });
    }
  }
  return out;
}
