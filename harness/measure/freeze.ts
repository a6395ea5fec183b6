/**
 * Measurement a module cannot bend (issue 8): tfjs's kernel and gradient registries, the
 * kernel configs in them (where the FLOP counter's wrappers live), the engine's dispatch
 * and the engine's readback path are frozen while the module's code runs. In the confined
 * child they are frozen once, before the module is imported, and stay frozen; in-process
 * (`localRunner`) they are frozen around build(), each training step and each evaluation,
 * and thawed between, so that the harness may still swap kernels between runs.
 *
 * What it refuses, each with a MeasurementTamperError that names the module, the check and
 * the fix: registering or unregistering a kernel or a gradient (tf.registerKernel, or the
 * registry Map's own set/delete, also through Map.prototype.set.call), assigning a
 * registered kernel's kernelFunc (or setupFunc, disposeFunc, gradFunc), replacing the
 * engine's runKernel/runKernelFunc/readSync/read on the engine or its prototype, and
 * switching, registering or removing a backend. What it cannot stop in one process: code
 * that reaches the backend's own memory (the wasm heap) or a fresh realm (node:vm) and
 * computes there — that compute is uncounted, and wall time per counted FLOP shows it
 * (harness/measure/uncounted.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { installReadbackHook } from './flops.ts';

/** A module tried to change how the harness measures it. */
export class MeasurementTamperError extends Error {
  override name = 'MeasurementTamperError';
  constructor(
    readonly module: string,
    readonly attempt: string,
  ) {
    super(
      `${module} tried to ${attempt}: refused by the measurement freeze (the kernel registry, the kernel configs, the engine's dispatch and its readbacks are frozen while an architecture's code runs, so that every kernel it executes is priced and counted). Fix: compute with tfjs ops on the registered kernels and leave tfjs's registries, kernels and engine as they are; a kernel the harness does not have belongs in kernels/ with a FLOP price in harness/measure/flops.ts, proposed to the harness`,
    );
  }
}

interface FreezeState {
  frozen: boolean;
  /** the module the refusals name */
  module: string;
  /** the first attempt refused since the last freeze(), kept even if the module caught the error */
  refused: MeasurementTamperError | null;
}

const state: FreezeState = { frozen: false, module: 'the architecture module', refused: null };

// Captured when this file is evaluated: in the confined child that is before the module loads.
const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;
const mapClear = Map.prototype.clear;
const mapGet = Map.prototype.get;
const defineProperty = Object.defineProperty;
const freezeObject = Object.freeze;
const getPrototypeOf = Object.getPrototypeOf;
const reflectApply = Reflect.apply;

type Registry = Map<string, object>;
const registries: Registry[] = [];
const guardedConfigs = new WeakSet<object>();
/** '<kernel> for backend <backend>' from a registry key, '<backend>_<kernel>' */
const kernelOf = (key: unknown) => {
  const k = String(key);
  const i = k.indexOf('_');
  return i < 0 ? k : `${k.slice(i + 1)} for backend ${k.slice(0, i)}`;
};
let installed = false;

const refuse = (attempt: string): never => {
  const e = new MeasurementTamperError(state.module, attempt);
  state.refused ??= e;
  throw e;
};

function registryMaps(): { kernels: Registry; grads: Registry } {
  const globals = (globalThis as { _tfGlobals?: Map<string, unknown> })._tfGlobals;
  const kernels = globals?.get('kernelRegistry') as Registry | undefined;
  const grads = globals?.get('gradRegistry') as Registry | undefined;
  if (!(kernels instanceof Map) || !(grads instanceof Map))
    throw new Error("tfjs's kernel registry was not found: the measurement freeze cannot be installed");
  return { kernels, grads };
}

const FUNC_KEYS = ['kernelFunc', 'setupFunc', 'disposeFunc', 'gradFunc'] as const;

/** Pin a registry entry's functions: reading them works, assigning them is refused (always: tfjs never assigns them). */
function guardConfig(config: object, what: string): void {
  if (guardedConfigs.has(config) || Object.isFrozen(config)) return;
  const c = config as Record<string, unknown>;
  for (const key of FUNC_KEYS) {
    if (!(key in c)) continue;
    const value = c[key];
    defineProperty(c, key, {
      get: () => value,
      set: () => refuse(`replace the ${key} of the registered ${what}`),
      enumerable: true,
      configurable: false,
    });
  }
  freezeObject(c);
  guardedConfigs.add(config);
}

function guardAllConfigs(): void {
  const [kernels, grads] = registries;
  for (const [key, config] of kernels ?? []) guardConfig(config, `kernel ${kernelOf(key)}`);
  for (const [key, config] of grads ?? []) guardConfig(config, `gradient of ${key}`);
}

/** An own, non-writable, non-configurable property that shadows the prototype's. */
function pin(target: object, key: string, value: unknown): void {
  defineProperty(target, key, { value, writable: false, enumerable: false, configurable: false });
}

/**
 * Pin `target[key]` as an accessor: reading gives `value`; assigning it on `target` is refused
 * by name (tfjs never assigns these), while an object that inherits from `target` may still
 * give itself its own property of that name.
 */
function guard(target: object, key: string, value: unknown, what: string): void {
  defineProperty(target, key, {
    get: () => value,
    set(this: object, v: unknown) {
      if (this === target) refuse(`replace ${what}`);
      defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
    },
    enumerable: false,
    configurable: false,
  });
}

function install(): void {
  const { kernels, grads } = registryMaps();
  registries.push(kernels, grads);
  const isRegistry = (m: unknown) => m === kernels || m === grads;
  const nameOf = (m: unknown, key: unknown) =>
    m === kernels ? `kernel ${kernelOf(key)}` : `gradient of kernel ${String(key)}`;
  // The registries' own methods, and Map.prototype's for a call that names them (Map.prototype.set.call(registry, …)).
  const guardedSet = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    if (state.frozen && isRegistry(this)) refuse(`register the ${nameOf(this, key)} (tf.registerKernel or its registry)`);
    return reflectApply(mapSet, this, [key, value]);
  };
  const guardedDelete = function (this: Map<unknown, unknown>, key: unknown) {
    if (state.frozen && isRegistry(this)) refuse(`unregister the ${nameOf(this, key)} (tf.unregisterKernel or its registry)`);
    return reflectApply(mapDelete, this, [key]);
  };
  const guardedClear = function (this: Map<unknown, unknown>) {
    if (state.frozen && isRegistry(this)) refuse("clear tfjs's kernel registry");
    return reflectApply(mapClear, this, []);
  };
  for (const m of [kernels, grads]) {
    const which = m === kernels ? "tfjs's kernel registry" : "tfjs's gradient registry";
    guard(m, 'set', guardedSet, `the set method of ${which}`);
    guard(m, 'delete', guardedDelete, `the delete method of ${which}`);
    guard(m, 'clear', guardedClear, `the clear method of ${which}`);
  }
  pin(Map.prototype, 'set', guardedSet);
  pin(Map.prototype, 'delete', guardedDelete);
  pin(Map.prototype, 'clear', guardedClear);

  installReadbackHook(); // engine.readSync/read, counting readbacks (flops.ts): guarded below with the dispatch
  // The engine: dispatch and readbacks guarded on the instance and its prototype, the rest of the
  // prototype frozen, backend changes refused while frozen.
  const engine = tf.engine() as unknown as Record<string, unknown>;
  const proto = getPrototypeOf(engine) as Record<string, unknown>;
  for (const key of ['runKernel', 'runKernelFunc', 'readSync', 'read', 'readToGPU']) {
    if (typeof proto[key] !== 'function') continue;
    guard(engine, key, engine[key], `the engine's ${key}`);
    guard(proto, key, proto[key], `Engine.prototype.${key}`);
  }
  for (const key of ['setBackend', 'registerBackend', 'removeBackend', 'reset']) {
    const original = proto[key];
    if (typeof original !== 'function') continue;
    const checked = function (this: unknown, ...args: unknown[]) {
      if (state.frozen) refuse(`call the engine's ${key}(${args.length ? JSON.stringify(String(args[0])) : ''})`);
      return reflectApply(original as (...a: unknown[]) => unknown, this, args);
    };
    guard(engine, key, checked, `the engine's ${key}`);
    guard(proto, key, checked, `Engine.prototype.${key}`);
  }
  for (const key of ['backendInstance', 'backendName']) {
    let value = engine[key];
    defineProperty(engine, key, {
      get: () => value,
      set: (v: unknown) => {
        if (state.frozen && v !== value) refuse(`set the engine's ${key}`);
        value = v;
      },
      enumerable: true,
      configurable: false,
    });
  }
  freezeObject(proto);
  installed = true;
}

export interface MeasurementFreeze {
  /** refuse changes from now on, naming `module` */
  freeze(module: string): void;
  /** allow the harness's own changes again (in-process runs, between the module's calls) */
  thaw(): void;
  readonly frozen: boolean;
  /** the first tampering refused since freeze(), whether or not the module caught the error: the run must fail with it */
  readonly refused: MeasurementTamperError | null;
}

/**
 * Install the guards (once per process) and return the switch. Call after the backend is
 * set, the harness's kernels are registered and the FLOP counter is installed. Kernel
 * configs registered later (the harness swapping kernels while thawed) are guarded at the
 * next freeze().
 */
export function measurementFreeze(): MeasurementFreeze {
  if (!installed) install();
  return {
    freeze(module: string) {
      if (!state.frozen) state.refused = null;
      state.module = module;
      guardAllConfigs();
      state.frozen = true;
    },
    thaw() {
      state.frozen = false;
    },
    get frozen() {
      return state.frozen;
    },
    get refused() {
      return state.refused;
    },
  };
}

/** The kernel config the registry holds now (for tests). */
export function registeredConfig(kernelName: string, backendName: string): object | undefined {
  const [kernels] = registries.length ? registries : [registryMaps().kernels];
  return kernels ? (reflectApply(mapGet, kernels, [`${backendName}_${kernelName}`]) as object | undefined) : undefined;
}
