/**
 * Measurement a module cannot bend (issue 8): tfjs's kernel and gradient registries, the
 * kernel configs in them (where the FLOP counter's wrappers live), the engine's dispatch
 * and the engine's readback path are frozen while the module's code runs. In the confined
 * child they are frozen once, before the module is imported, and stay frozen; in-process
 * (`localRunner`) they are frozen around build() and each training step, and thawed
 * between, so that the harness may still swap kernels between runs.
 *
 * Scoped and cheap: no built-in prototype is touched (Map.prototype stays native); the
 * guards are own properties of the two registry Maps, of the kernel configs and of the
 * engine, installed once per process. Each kernel config is guarded and frozen once (at
 * install, or at the first freeze after the harness registered it); freeze(), thaw() and
 * check() are O(1): a flag, two registry sizes and the size of two decoys.
 *
 * What it refuses, each with a MeasurementTamperError that names the module, the check and
 * the fix: registering or unregistering a kernel or a gradient (tf.registerKernel, or the
 * registry's set/delete/clear), replacing those methods on the registry, assigning a
 * registered kernel's kernelFunc (or setupFunc, disposeFunc, gradFunc), replacing the
 * engine's runKernel/runKernelFunc/readSync/read on the engine or its prototype, and
 * switching, registering or removing a backend.
 *
 * Map.prototype.set.call(registry, …), without patching Map.prototype: at install, the
 * registries in tfjs's global map (`globalThis._tfGlobals`, the only place code outside
 * tfjs can find them) are replaced by decoys — Maps whose own methods forward to the real
 * registry through the guards, and whose own Map storage stays empty. A write through
 * Map.prototype onto a decoy lands in that empty storage, changes nothing tfjs reads, and
 * check() refuses it by name. A module loaded after install (the confined child) can reach
 * only the decoys. In-process, a module imported before install may hold the real Map: an
 * entry it adds or deletes through Map.prototype changes the registry's size, which check()
 * refuses; an entry it overwrites in place is not seen here — those kernels run outside
 * the FLOP counter, and wall time per counted FLOP flags them (harness/measure/uncounted.ts).
 *
 * What it cannot stop in one process: code that reaches the backend's own memory (the wasm
 * heap) or a fresh realm (node:vm) and computes there — that compute is uncounted, and wall
 * time per counted FLOP shows it (harness/measure/uncounted.ts).
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
const mapHas = Map.prototype.has;
const mapKeys = Map.prototype.keys;
const mapEntries = Map.prototype.entries;
const mapValues = Map.prototype.values;
const mapForEach = Map.prototype.forEach;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')?.get as (this: Map<unknown, unknown>) => number;
const defineProperty = Object.defineProperty;
const freezeObject = Object.freeze;
const isFrozen = Object.isFrozen;
const getPrototypeOf = Object.getPrototypeOf;
const reflectApply = Reflect.apply;
const weakSetHas = WeakSet.prototype.has;
const weakSetAdd = WeakSet.prototype.add;
const iteratorSymbol = Symbol.iterator;

type Registry = Map<string, object>;
interface Guarded {
  /** the Map tfjs reads */
  real: Registry;
  /** the Map that code outside tfjs finds in _tfGlobals: forwards to `real`, its own storage empty */
  decoy: Registry;
  /** "tfjs's kernel registry" */
  title: string;
  /** what a key names: 'kernel Relu for backend cpu' */
  nameOf: (key: unknown) => string;
  /** real's size at the last freeze() */
  size: number;
}
let registries: { kernels: Guarded; grads: Guarded } | null = null;
const guardedConfigs = new WeakSet<object>();
/** configs the harness registered while thawed, with what they are: guarded at the next freeze() */
const pending: Array<[object, string]> = [];
/** '<kernel> for backend <backend>' from a registry key, '<backend>_<kernel>' */
const kernelOf = (key: unknown) => {
  const k = String(key);
  const i = k.indexOf('_');
  return i < 0 ? k : `${k.slice(i + 1)} for backend ${k.slice(0, i)}`;
};
const sizeOf = (m: Map<unknown, unknown>): number => reflectApply(mapSize, m, []) as number;

const refuse = (attempt: string): never => {
  const e = new MeasurementTamperError(state.module, attempt);
  state.refused ??= e;
  throw e;
};
/** Record a refusal found after the fact (check()), without throwing. */
const refuseLater = (attempt: string): void => {
  state.refused ??= new MeasurementTamperError(state.module, attempt);
};

function registryMaps(): { globals: Map<string, unknown>; kernels: Registry; grads: Registry } {
  const globals = (globalThis as { _tfGlobals?: Map<string, unknown> })._tfGlobals;
  const kernels = globals && (reflectApply(mapGet, globals, ['kernelRegistry']) as Registry | undefined);
  const grads = globals && (reflectApply(mapGet, globals, ['gradRegistry']) as Registry | undefined);
  if (!globals || !(kernels instanceof Map) || !(grads instanceof Map))
    throw new Error("tfjs's kernel registry was not found: the measurement freeze cannot be installed");
  return { globals, kernels, grads };
}

const FUNC_KEYS = ['kernelFunc', 'setupFunc', 'disposeFunc', 'gradFunc'] as const;

/**
 * Pin a registry entry's functions and freeze it, once: reading them works, assigning them is
 * refused by name (always: tfjs never assigns them).
 */
function guardConfig(config: unknown, what: string): void {
  if (config === null || typeof config !== 'object') return;
  if (reflectApply(weakSetHas, guardedConfigs, [config]) || isFrozen(config)) return;
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
  reflectApply(weakSetAdd, guardedConfigs, [config]);
}

/** Guard the configs registered since the last call: O(number registered), nothing on a step. */
function guardPending(): void {
  for (let i = 0; i < pending.length; i++) {
    const [config, what] = pending[i] as [object, string];
    guardConfig(config, what);
  }
  pending.length = 0;
}

/**
 * Pin `target[key]` as an accessor: reading gives `value`; assigning it on `target` is refused
 * by name (tfjs never assigns these), while an object that inherits from `target` may still
 * give itself its own property of that name.
 */
function guard(target: object, key: string | symbol, value: unknown, what: string): void {
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

/** Guard one registry: own set/delete/clear on the real Map, and a decoy in its place in _tfGlobals. */
function guardRegistry(globals: Map<string, unknown>, globalKey: string, real: Registry, title: string, nameOf: (key: unknown) => string): Guarded {
  const set = (key: unknown, value: unknown) => {
    if (state.frozen) refuse(`register the ${nameOf(key)} (tf.registerKernel or ${title})`);
    reflectApply(mapSet, real, [key, value]);
    if (value !== null && typeof value === 'object') pending[pending.length] = [value, nameOf(key)];
    return real;
  };
  const del = (key: unknown) => {
    if (state.frozen) refuse(`unregister the ${nameOf(key)} (tf.unregisterKernel or ${title})`);
    return reflectApply(mapDelete, real, [key]) as boolean;
  };
  const clear = () => {
    if (state.frozen) refuse(`clear ${title}`);
    reflectApply(mapClear, real, []);
  };
  guard(real, 'set', set, `the set method of ${title}`);
  guard(real, 'delete', del, `the delete method of ${title}`);
  guard(real, 'clear', clear, `the clear method of ${title}`);

  // The decoy: what `_tfGlobals.get(...)` gives from now on (another copy of tfjs-core would use it too).
  const decoy = new Map() as Registry;
  const forward: Record<string | symbol, unknown> = {
    set: (key: unknown, value: unknown) => {
      set(key, value);
      return decoy;
    },
    delete: del,
    clear,
    get: (key: unknown) => reflectApply(mapGet, real, [key]),
    has: (key: unknown) => reflectApply(mapHas, real, [key]),
    keys: () => reflectApply(mapKeys, real, []),
    values: () => reflectApply(mapValues, real, []),
    entries: () => reflectApply(mapEntries, real, []),
    forEach: (fn: (v: unknown, k: unknown, m: unknown) => void, thisArg?: unknown) =>
      reflectApply(mapForEach, real, [(v: unknown, k: unknown) => reflectApply(fn, thisArg, [v, k, decoy])]),
    [iteratorSymbol]: () => reflectApply(mapEntries, real, []),
  };
  for (const key of Reflect.ownKeys(forward)) guard(decoy, key, forward[key], `the ${String(key)} method of ${title}`);
  defineProperty(decoy, 'size', { get: () => sizeOf(real), enumerable: false, configurable: false });
  freezeObject(decoy);
  reflectApply(mapSet, globals, [globalKey, decoy]);
  return { real, decoy, title, nameOf, size: sizeOf(real) };
}

function install(): void {
  const { globals, kernels, grads } = registryMaps();
  registries = {
    kernels: guardRegistry(globals, 'kernelRegistry', kernels, "tfjs's kernel registry", (key) => `kernel ${kernelOf(key)}`),
    grads: guardRegistry(globals, 'gradRegistry', grads, "tfjs's gradient registry", (key) => `gradient of kernel ${String(key)}`),
  };
  // every config registered so far, once
  for (const [key, config] of reflectApply(mapEntries, kernels, []) as Iterable<[string, object]>) guardConfig(config, `kernel ${kernelOf(key)}`);
  for (const [key, config] of reflectApply(mapEntries, grads, []) as Iterable<[string, object]>) guardConfig(config, `gradient of ${key}`);

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
}

const mapIteratorNext = (reflectApply(mapKeys, new Map(), []) as Iterator<unknown>).next;
/** O(1) for one registry: a write through Map.prototype onto its decoy, or its size changed while frozen. */
function checkOne(g: Guarded): void {
  if (sizeOf(g.decoy) > 0) {
    const keys = reflectApply(mapKeys, g.decoy, []) as Iterator<unknown>;
    const first = reflectApply(mapIteratorNext, keys, []) as IteratorResult<unknown>;
    refuseLater(`register the ${g.nameOf(first.value)} by writing to ${g.title} through Map.prototype.set`);
    reflectApply(mapClear, g.decoy, []); // nothing tfjs reads was changed; the refusal stands
  }
  if (state.frozen && sizeOf(g.real) !== g.size) {
    refuseLater(`change ${g.title} around tf.registerKernel (${g.size} entries at the freeze, ${sizeOf(g.real)} now)`);
    g.size = sizeOf(g.real); // report once
  }
}
/** The after-the-fact checks, no loops over anything a module could patch. */
function check(): void {
  if (!registries) return;
  checkOne(registries.kernels);
  checkOne(registries.grads);
}

export interface MeasurementFreeze {
  /** refuse changes from now on, naming `module` */
  freeze(module: string): void;
  /** check (see check()), then allow the harness's own changes again (in-process runs, between the module's calls) */
  thaw(): void;
  /** the O(1) after-the-fact checks, while frozen (the confined child calls it after each request) */
  check(): void;
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
  if (!registries) install();
  return {
    freeze(module: string) {
      if (!state.frozen) {
        state.refused = null;
        guardPending();
        if (registries) {
          registries.kernels.size = sizeOf(registries.kernels.real);
          registries.grads.size = sizeOf(registries.grads.real);
        }
      }
      state.module = module;
      state.frozen = true;
    },
    thaw() {
      check();
      state.frozen = false;
    },
    check,
    get frozen() {
      return state.frozen;
    },
    get refused() {
      return state.refused;
    },
  };
}
