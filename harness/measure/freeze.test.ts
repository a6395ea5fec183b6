/**
 * The measurement freeze and the readback ledger, in this process (the confined child and the
 * hostile fixtures are exercised in harness/confined/confined.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { type FlopCounter, harnessReads, installFlopCounter } from './flops.ts';
import { type MeasurementFreeze, MeasurementTamperError, measurementFreeze, tamperOf } from './freeze.ts';

describe('measurement freeze', () => {
  let counter: FlopCounter;
  let freezer: MeasurementFreeze;
  let backend: string;
  let realRegistry: Map<string, unknown>;
  const tfGlobals = () => (globalThis as { _tfGlobals?: Map<string, Map<string, unknown>> })._tfGlobals;
  beforeAll(async () => {
    backend = (await selectBackend('cpu')).tfjsName;
    counter = installFlopCounter(backend);
    // the real registry, as an in-process module imported before the freeze could have captured it
    realRegistry = tfGlobals()?.get('kernelRegistry') as Map<string, unknown>;
    freezer = measurementFreeze();
  });
  afterAll(() => {
    freezer.thaw();
    counter.uninstall();
  });

  /** Run `fn` frozen for module `m.ts`; return what the freeze refused. */
  const attempt = (fn: () => void): MeasurementTamperError | null => {
    freezer.freeze('m.ts');
    try {
      fn();
    } catch (e) {
      if (!(e instanceof MeasurementTamperError)) throw e;
    } finally {
      freezer.thaw();
    }
    return freezer.refused;
  };
  /** Run `fn` frozen; it must throw V8's TypeError; return the refusal tamperOf() names it as. */
  const refusedByV8 = (fn: () => void): string | undefined => {
    freezer.freeze('m.ts');
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(TypeError);
      return freezer.tamperOf(e)?.message;
    } finally {
      freezer.thaw();
    }
    throw new Error('not refused');
  };
  const noop: tf.KernelFunc = () => ({ dataId: {}, shape: [], dtype: 'float32' });

  it('refuses registering, unregistering and re-registering kernels, naming the module, the check and the fix', () => {
    const r = attempt(() => tf.registerKernel({ kernelName: 'FreeMatMul', backendName: backend, kernelFunc: noop }));
    expect(r?.message).toMatch(/^m\.ts tried to register the kernel FreeMatMul for backend cpu/);
    expect(r?.message).toMatch(/measurement freeze/);
    expect(r?.message).toMatch(/Fix: compute with tfjs ops/);
    expect(tf.getKernel('FreeMatMul', backend)).toBeUndefined();
    expect(attempt(() => tf.unregisterKernel('Reshape', backend))?.message).toMatch(/unregister the kernel Reshape for backend cpu/);
    expect(tf.getKernel('Reshape', backend)).toBeDefined();
    expect(attempt(() => tf.registerKernel({ kernelName: 'Reshape', backendName: backend, kernelFunc: noop }))?.message).toMatch(
      /register the kernel Reshape/,
    );
  });

  it('refuses the registry reached around tf.registerKernel: Map.prototype.set.call, the map itself', () => {
    const registry = tfGlobals()?.get('kernelRegistry');
    expect(registry).toBeInstanceOf(Map);
    const r = registry as Map<string, unknown>;
    expect(r).not.toBe(realRegistry); // what code outside tfjs finds from now on: a decoy that forwards
    expect(r.get(`${backend}_Reshape`)).toBe(tf.getKernel('Reshape', backend));
    expect(r.size).toBe(realRegistry.size);
    const reshape = tf.getKernel('Reshape', backend);
    expect(attempt(() => Map.prototype.set.call(r, `${backend}_Reshape`, { kernelFunc: noop }))?.message).toMatch(
      /register the kernel Reshape for backend cpu by writing to tfjs's kernel registry through Map\.prototype\.set/,
    );
    expect(tf.getKernel('Reshape', backend)).toBe(reshape); // the write landed in the decoy's own (empty) storage
    expect(attempt(() => Map.prototype.set.call(r, `${backend}_FreeMatMul`, { kernelFunc: noop }))?.message).toMatch(
      /register the kernel FreeMatMul/,
    );
    expect(tf.getKernel('FreeMatMul', backend)).toBeUndefined();
    expect(attempt(() => r.delete(`${backend}_Relu`))?.message).toMatch(/unregister the kernel Relu/);
    expect(attempt(() => r.clear())?.message).toMatch(/clear tfjs's kernel registry/);
    expect(attempt(() => Object.assign(r, { set: () => r }))?.message).toMatch(/replace the set method of tfjs's kernel registry/);
    expect(tf.getKernelsForBackend(backend).length).toBeGreaterThan(50);
    // Map.prototype is untouched, and other maps with it
    for (const key of ['set', 'delete', 'clear'] as const) {
      expect(Function.prototype.toString.call(Map.prototype[key])).toMatch(/\[native code\]/);
      expect(Object.getOwnPropertyDescriptor(Map.prototype, key)).toMatchObject({ writable: true, configurable: true });
    }
    const m = new Map([[1, 2]]);
    m.set(3, 4);
    m.delete(1);
    expect([...m]).toEqual([[3, 4]]);
  });

  it('refuses, after the fact, entries added or removed through Map.prototype on the real registry held from before the freeze', () => {
    expect(attempt(() => Map.prototype.set.call(realRegistry, `${backend}_FreeMatMul`, { kernelFunc: noop }))?.message).toMatch(
      /change tfjs's kernel registry around tf.registerKernel \((\d+) entries at the freeze, \d+ now\)/,
    );
    Map.prototype.delete.call(realRegistry, `${backend}_FreeMatMul`); // the harness, thawed: put it back
    const relu = tf.getKernel('Relu', backend);
    expect(attempt(() => Map.prototype.delete.call(realRegistry, `${backend}_Relu`))?.message).toMatch(/change tfjs's kernel registry/);
    Map.prototype.set.call(realRegistry, `${backend}_Relu`, relu);
    // the documented gap, in-process only: an entry overwritten in place keeps the size (the uncounted-compute flag is the backstop)
    expect(attempt(() => Map.prototype.set.call(realRegistry, `${backend}_Relu`, relu))).toBeNull();
  });

  it('guards a config the harness registers while thawed at the next freeze, once', () => {
    const config = { kernelName: 'HarnessLater', backendName: backend, kernelFunc: noop };
    tf.registerKernel(config);
    expect(Object.isFrozen(config)).toBe(false);
    freezer.freeze('m.ts');
    freezer.thaw();
    expect(Object.isFrozen(config)).toBe(true);
    expect(refusedByV8(() => Object.assign(config, { kernelFunc: () => null }))).toMatch(
      /m\.ts tried to replace the kernelFunc of a registered kernel/,
    );
    expect(config.kernelFunc).toBe(noop);
    tf.unregisterKernel('HarnessLater', backend);
  });

  it("refuses assigning a registered kernel's function (where the FLOP counter wraps it): frozen, named where it reaches the harness", () => {
    const config = tf.getKernel('_FusedMatMul', backend) as { kernelFunc: tf.KernelFunc };
    const counted = config.kernelFunc;
    expect(Object.isFrozen(config)).toBe(true);
    expect(refusedByV8(() => Object.assign(config, { kernelFunc: noop }))).toMatch(
      /^m\.ts tried to replace the kernelFunc of a registered kernel \(Cannot assign to read only property 'kernelFunc'.*measurement freeze.*Fix: /,
    );
    expect(config.kernelFunc).toBe(counted);
    const grad = tf.getGradient('MatMul') ?? tf.getGradient('BatchMatMul');
    if (grad) expect(refusedByV8(() => Object.assign(grad, { gradFunc: () => ({}) }))).toMatch(/replace the gradFunc/);
    // an error of the module's own is not taken for tampering
    expect(tamperOf(new TypeError("Cannot assign to read only property 'weights' of object '#<Object>'"))).toBeNull();
    expect(tamperOf(new Error('x'))).toBeNull();
  });

  it("refuses replacing the engine's dispatch and readbacks, on the engine or its prototype, and switching backends", () => {
    const engine = tf.engine() as unknown as Record<string, unknown>;
    const proto = Object.getPrototypeOf(engine) as Record<string, unknown>;
    expect(attempt(() => Object.assign(engine, { runKernel: () => null }))?.message).toMatch(/replace the engine's runKernel/);
    expect(attempt(() => Object.assign(proto, { runKernelFunc: () => null }))?.message).toMatch(/replace Engine.prototype.runKernelFunc/);
    expect(refusedByV8(() => Object.assign(engine, { readSync: () => null }))).toMatch(/replace the engine's readSync/);
    expect(refusedByV8(() => Object.defineProperty(engine, 'runKernel', { value: () => null }))).toMatch(
      /replace the engine's runKernel \(Cannot define property runKernel, object is not extensible\)/,
    );
    expect(attempt(() => void tf.setBackend('wasm'))?.message).toMatch(/call the engine's setBackend\("wasm"\)/);
    const instance = engine.backendInstance;
    expect(attempt(() => Object.assign(engine, { backendInstance: {} }))?.message).toMatch(/set the engine's backendInstance/);
    expect(engine.backendInstance).toBe(instance); // put back
    expect(tf.getBackend()).toBe(backend);
    // the engine keeps V8's fast properties: nothing on it costs a dispatch
    expect(Object.getOwnPropertyDescriptor(engine, 'runKernel')).toBeUndefined();
  });

  it('lets the harness change kernels while thawed, and still counts after', () => {
    expect(freezer.frozen).toBe(false);
    tf.registerKernel({ kernelName: 'HarnessOwn', backendName: backend, kernelFunc: noop });
    tf.unregisterKernel('HarnessOwn', backend);
    const a = tf.ones([4, 8]);
    counter.reset();
    counter.active = true;
    freezer.freeze('m.ts');
    tf.tidy(() => tf.matMul(a, a, false, true));
    freezer.thaw();
    counter.active = false;
    expect(counter.totals.byKind.matmul).toBe(2 * 4 * 4 * 8);
    a.dispose();
  });

  it("counts a module's readbacks (calls and bytes) while counting, not the harness's own", async () => {
    const a = tf.ones([10, 10]);
    counter.reset();
    counter.active = true;
    a.dataSync();
    a.arraySync();
    await a.data();
    harnessReads(() => a.dataSync());
    counter.active = false;
    a.dataSync(); // not counting: evaluation, or the harness between steps
    expect(counter.totals.readbacks).toEqual({ calls: 3, bytes: 3 * 400 });
    a.dispose();
  });

  it("counts the same FLOPs when a module patches the built-ins a ledger's arithmetic could use", () => {
    const count = () => {
      const [x, w] = [tf.ones([8, 16]), tf.ones([16, 4])];
      counter.reset();
      counter.active = true;
      tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w), 1)));
      counter.active = false;
      tf.dispose([x, w]);
      return { ...counter.totals.byKind };
    };
    const honest = count();
    // (Math.max is captured too, but tfjs's own shape arithmetic uses it: patching it changes the model, not the ledger)
    const saved = { values: Object.values, has: Set.prototype.has };
    try {
      Object.values = (() => []) as typeof Object.values;
      Set.prototype.has = function (this: Set<unknown>, k: unknown) {
        return typeof k === 'string' && /^(Relu|Add|BatchMatMul|_FusedMatMul)$/.test(k) ? false : saved.has.call(this, k);
      };
      expect(count()).toEqual(honest);
    } finally {
      Object.values = saved.values;
      Set.prototype.has = saved.has;
    }
    expect(honest.matmul).toBe(2 * 8 * 4 * 16);
  });
});
