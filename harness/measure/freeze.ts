/**
 * Measurement a module cannot bend (issue 8): tfjs's kernel and gradient registries, the
 * kernel configs in them (where the FLOP counter's wrappers live), the engine's dispatch
 * and the engine's readback path are frozen while the module's code runs. In the confined
 * child they are frozen once, before the module is imported, and stay frozen; in-process
 * (`localRunner`) they are frozen around build() and each training step, and thawed
 * between, so that the harness may still swap kernels between runs.
 *
 * Scoped and cheap. No built-in prototype is touched (Map.prototype stays native). The
 * guards are installed once per process on the objects themselves: own set/delete/clear on
 * the two registry Maps; Object.freeze on each kernel config (once: at install, or at the
 * first freeze after the harness registered it); accessors on Engine.prototype's dispatch
 * and backend switching, the rest of the prototype frozen; the engine instance made
 * non-extensible and otherwise left alone, so that it stays in V8's fast mode (accessors of
 * its own, or on each kernel config, cost every kernel dispatch). freeze(), thaw() and
 * check() are O(1): a flag, two registry sizes, two decoy sizes, the engine's backend.
 *
 * Refused, with a MeasurementTamperError that names the module, the check and the fix, and
 * recorded even when the module catches it: registering or unregistering a kernel or a
 * gradient (tf.registerKernel, or the registry's set/delete/clear, or Map.prototype.set on
 * the registry — see below), replacing those methods, replacing the engine's
 * runKernel/runKernelFunc/readToGPU (on the engine or its prototype), switching, registering
 * or removing a backend, and setting the engine's backendInstance/backendName (found by
 * check(), and put back). Refused by V8 (a TypeError, named by tamperOf() where it reaches
 * the harness; a module that catches it has changed nothing): assigning a registered
 * kernel's kernelFunc (or setupFunc, disposeFunc, gradFunc), assigning the engine's
 * readSync/read (where readbacks are counted), any other Engine.prototype method, and
 * defining properties of its own on the engine.
 *
 * Map.prototype.set.call(registry, …), without patching Map.prototype: at install, the
 * registries in tfjs's global map (`globalThis._tfGlobals`, the only place code outside
 * tfjs can find them) are replaced by decoys — Maps whose own methods forward to the real
 * registry through the guards, and whose own Map storage stays empty. A write through
 * Map.prototype onto a decoy lands in that empty storage, changes nothing tfjs reads, and
 * check() refuses it by name. A module loaded after install (the confined child) can reach
 * only the decoys. In-process, a module imported before install may hold the real Map: an
 * entry it adds or deletes through Map.prototype changes the registry's size, which check()
 * refuses; an entry it overwrites in place is not seen here — that kernel runs outside the
 * FLOP counter, and wall time per counted FLOP flags it (harness/measure/uncounted.ts).
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
const preventExtensions = Object.preventExtensions;
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

const FUNC_KEYS = new Set(['kernelFunc', 'setupFunc', 'disposeFunc', 'gradFunc']);
const ENGINE_KEYS = new Set([
  'runKernel',
  'runKernelFunc',
  'readSync',
  'read',
  'readToGPU',
  'setBackend',
  'registerBackend',
  'removeBackend',
  'reset',
  'backendInstance',
  'backendName',
]);

/**
 * Freeze a registry entry, once. Its properties stay plain data properties (an accessor, or a
 * per-step walk over the registry, cost every kernel dispatch or every step): assigning one
 * throws V8's TypeError, which tamperOf() names where it reaches the harness. A module that
 * catches it has changed nothing.
 */
function guardConfig(config: unknown, _what: string): void {
  if (config === null || typeof config !== 'object') return;
  if (reflectApply(weakSetHas, guardedConfigs, [config]) || isFrozen(config)) return;
  freezeObject(config);
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
function guardRegistry(
  globals: Map<string, unknown>,
  globalKey: string,
  real: Registry,
  title: string,
  nameOf: (key: unknown) => string,
): Guarded {
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
  for (const [key, config] of reflectApply(mapEntries, kernels, []) as Iterable<[string, object]>)
    guardConfig(config, `kernel ${kernelOf(key)}`);
  for (const [key, config] of reflectApply(mapEntries, grads, []) as Iterable<[string, object]>) guardConfig(config, `gradient of ${key}`);

  installReadbackHook(); // engine.readSync/read, counting readbacks (flops.ts): own, not writable, not configurable
  // The engine: its prototype's dispatch and backend switching guarded (accessors that refuse by
  // name), the rest of the prototype frozen; the instance made non-extensible so that it cannot
  // shadow them, and kept in V8's fast mode (no accessors of its own: those cost every dispatch).
  // Its backend is compared with the one at the freeze in check().
  const engine = tf.engine() as unknown as Record<string, unknown>;
  engineRef = engine;
  const proto = getPrototypeOf(engine) as Record<string, unknown>;
  const guardProto = (key: string, value: unknown) => {
    defineProperty(proto, key, {
      get: () => value,
      set(this: object) {
        refuse(this === proto ? `replace Engine.prototype.${key}` : `replace the engine's ${key}`);
      },
      enumerable: false,
      configurable: false,
    });
  };
  for (const key of ['runKernel', 'runKernelFunc', 'readToGPU']) if (typeof proto[key] === 'function') guardProto(key, proto[key]);
  for (const key of ['setBackend', 'registerBackend', 'removeBackend', 'reset']) {
    const original = proto[key];
    if (typeof original !== 'function') continue;
    guardProto(key, function (this: unknown, ...args: unknown[]) {
      if (state.frozen) refuse(`call the engine's ${key}(${args.length ? JSON.stringify(String(args[0])) : ''})`);
      return reflectApply(original as (...a: unknown[]) => unknown, this, args);
    });
  }
  freezeObject(proto);
  // properties tfjs gives the engine lazily, present before it stops taking new ones
  for (const key of ['backendInstance', 'backendName', 'pendingBackendInit', 'profiler']) if (!(key in engine)) engine[key] = null;
  preventExtensions(engine);
  snapshotBackend();
}

let engineRef: Record<string, unknown> | null = null;
const backendAtFreeze: { instance: unknown; name: unknown } = { instance: null, name: null };
function snapshotBackend(): void {
  if (!engineRef) return;
  backendAtFreeze.instance = engineRef.backendInstance;
  backendAtFreeze.name = engineRef.backendName;
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
  if (
    state.frozen &&
    engineRef &&
    (engineRef.backendInstance !== backendAtFreeze.instance || engineRef.backendName !== backendAtFreeze.name)
  ) {
    refuseLater("set the engine's backendInstance or backendName (switch its backend)");
    // put the harness's backend back (the run fails either way; the process may run more)
    engineRef.backendInstance = backendAtFreeze.instance;
    engineRef.backendName = backendAtFreeze.name;
  }
}

/**
 * The refusal a V8 TypeError stands for, when it comes from the freeze's frozen objects (a
 * kernel config, the engine, its prototype): assigning a kernel's function, or a property of
 * the engine. Null for any other error.
 */
export function tamperOf(e: unknown, module: string = state.module): MeasurementTamperError | null {
  if (e instanceof MeasurementTamperError) return e;
  if (!(e instanceof TypeError)) return null;
  const m =
    /^Cannot (?:assign to read only property '([^']+)'|redefine property: (\S+)|define property (\S+), object is not extensible|add property (\S+), object is not extensible)/.exec(
      e.message,
    );
  const key = m && (m[1] ?? m[2] ?? m[3] ?? m[4]);
  if (!key) return null;
  if (FUNC_KEYS.has(key)) return new MeasurementTamperError(module, `replace the ${key} of a registered kernel (${e.message})`);
  if (ENGINE_KEYS.has(key) && (/#<Engine>|\bEngine\b/.test(e.message) || !m[1]))
    return new MeasurementTamperError(module, `replace the engine's ${key} (${e.message})`);
  return null;
}

export interface MeasurementFreeze {
  /** refuse changes from now on, naming `module` */
  freeze(module: string): void;
  /** check (see check()), then allow the harness's own changes again (in-process runs, between the module's calls) */
  thaw(): void;
  /** the O(1) after-the-fact checks, while frozen (the confined child calls it after each request) */
  check(): void;
  /** the refusal an error thrown by the module's code stands for (a frozen object's TypeError), or null */
  tamperOf(e: unknown): MeasurementTamperError | null;
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
        snapshotBackend();
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
    tamperOf: (e) => tamperOf(e),
    get frozen() {
      return state.frozen;
    },
    get refused() {
      return state.refused;
    },
  };
}
