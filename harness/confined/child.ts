/**
 * The confined child: runs one architecture (a submission or a baseline, alike) for one
 * run. Bundled to plain JavaScript by the parent (bundle.ts) and started under Node's
 * permission model (host.ts): it may read its bundle and the tfjs runtime, nothing else;
 * no writes, no child processes, no workers, no addons (wasm+blas for baselines only).
 *
 * It holds the model and the optimizer and executes what the parent asks, one request at
 * a time: build, a training step on a batch the parent sends, an evaluation of held-out
 * inputs (never their labels). Each reply carries its kernel ledger; the parent keeps the
 * clock, totals the ledger, decides the budget, scores and writes the record.
 */
import * as tf from '@tensorflow/tfjs';
import { loadBlas, registerKernels, useWasmBackend } from '../../kernels/index.ts';
import { loadXsmmBlas } from '../../kernels/xsmm.ts';
import { type ArchitectureKnobs, isArchitecture, type Model } from '../architecture.ts';
import { createBuildContext, type OwnedBuildContext } from '../build-context.ts';
import { thrownMessage } from '../errors.ts';
import { checkedForward, RunFailure } from '../forward.ts';
import { architectureKnobSchema } from '../knobs.ts';
import { harnessReads, installFlopCounter } from '../measure/flops.ts';
import { type MeasurementFreeze, measurementFreeze } from '../measure/freeze.ts';
import { activationSparsity, densityOfChange } from '../metrics/sparsity.ts';
import { builtFootprint, engineFootprint } from '../runner.ts';
import { buildModel, ScheduledAdam, trainingStep } from '../step.ts';
import { trainingLoss } from '../tasks/losses.ts';
import type { Batch } from '../tasks/types.ts';
import { openChildChannel } from './child-channel.ts';
import { type FromConfined, type Ledger, phaseOf, type RawTensor, type ToConfined, type WireTensor } from './protocol.ts';
import { markWeights, type WeightMark, weightChangedSince } from './watch.ts';

// Opened before the module loads: the key and the functions that sign replies are out of its reach from here on.
const channel = openChildChannel();

type Init = Extract<ToConfined, { type: 'init' }>;
let init: Init | undefined;
let counter: ReturnType<typeof installFlopCounter> | undefined;
let freezer: MeasurementFreeze | undefined;
let architecture: Parameters<typeof buildModel>[0]['architecture'] | undefined;
let ctx: OwnedBuildContext | undefined;
let model: Model | undefined;
let optimizer: ScheduledAdam | undefined;
let evalInputs: tf.Tensor[] = [];
/** the next training batch, handed over before the parent's clock starts */
/** every variable the engine held after build() (the model's weights and any state beside them), watched by watch.ts */
let weights: tf.Variable[] = [];

const tensorOf = (w: WireTensor) => tf.tensor(w.data, w.shape, w.data instanceof Int32Array ? 'int32' : 'float32');
/**
 * A tensor of a request's raw values (`raw` is the channel's reused buffer). The wasm backend
 * copies values into its own memory as it makes the tensor; other backends keep the array
 * given, so they get a copy — the next request reads over `raw`.
 */
function tensorOfRaw(r: RawTensor, raw: Uint8Array): tf.Tensor {
  const size = r.shape.reduce((a, b) => a * b, 1);
  if (r.offset % 4 !== 0 || r.offset + 4 * size > raw.length) throw new Error(`a batch tensor outside the request's raw bytes`);
  const view =
    r.dtype === 'int32'
      ? new Int32Array(raw.buffer, raw.byteOffset + r.offset, size)
      : new Float32Array(raw.buffer, raw.byteOffset + r.offset, size);
  return tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), r.shape, r.dtype);
}
const wire = <T extends Float32Array | Int32Array>(t: tf.Tensor, data: T): WireTensor<T> => ({ data, shape: [...t.shape] });
/** tf.tidy for a result that is plain data: every tensor made inside `fn` is freed. */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
const ledgerNow = (): Ledger => ({
  total: counter?.totals.total ?? 0,
  calls: counter?.totals.calls ?? 0,
  byKind: { ...counter!.totals.byKind },
  readbacks: { ...counter!.totals.readbacks },
});

async function importModule(url: string): Promise<{ value: unknown } | { failed: FromConfined }> {
  try {
    const mod = (await import(url)) as { default?: unknown };
    return { value: mod.default };
  } catch (e) {
    return {
      failed: {
        type: 'failed',
        phase: 'build',
        status: 'failed',
        message: `the module failed to load: ${thrownMessage(e).split('\n')[0]}`,
      },
    };
  }
}

const definitionOf = (a: NonNullable<typeof architecture>) => ({
  name: String(a.name),
  family: String(a.family),
  description: String(a.description),
  reference: a.reference ?? null,
  control: a.control ?? null,
  knobs: Array.isArray(a.knobs) ? [...a.knobs] : [],
});

async function describe(url: string): Promise<FromConfined> {
  const loaded = await importModule(url);
  if ('failed' in loaded) return loaded.failed;
  if (loaded.value === undefined) return { type: 'described', definition: null, problem: 'no-default' };
  if (!isArchitecture(loaded.value)) return { type: 'described', definition: null, problem: 'not-architecture' };
  return { type: 'described', definition: definitionOf(loaded.value), problem: null };
}

async function start(m: Init): Promise<FromConfined> {
  init = m;
  if (m.backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
  } else await useWasmBackend(m.wasmDir);
  // native kernels go through an FFI addon: a child is started with --allow-addons only inside the OS sandbox, or for a baseline (host.ts)
  const native = m.backend === 'wasm+libxsmm' ? await loadXsmmBlas() : undefined;
  const blas = m.backend === 'wasm+blas' ? await loadBlas() : native?.blas;
  const kernels = registerKernels(tf.getBackend(), { blas, native: native?.xsmm });
  counter = installFlopCounter(tf.getBackend());
  evalInputs = m.evalInputs.map(tensorOf);
  // The module loads last: the backend, kernels and FLOP counter are in place, and frozen, before its code runs.
  freezer = measurementFreeze();
  freezer.freeze(m.moduleLabel);
  const loaded = await importModule(m.moduleUrl);
  if ('failed' in loaded) return loaded.failed;
  if (!isArchitecture(loaded.value)) {
    return {
      type: 'failed',
      phase: 'build',
      status: 'failed',
      message: 'the default export is not an architecture — end the module with `export default defineArchitecture({ ... })`',
    };
  }
  architecture = loaded.value;
  let refusal: string | undefined;
  try {
    refusal = architecture.refuse?.(m.spec);
  } catch (e) {
    return { type: 'failed', phase: 'build', status: 'failed', message: `refuse() threw: ${thrownMessage(e)}` };
  }
  const version = (tf.version as Record<string, string | undefined>)[m.backend === 'cpu' ? 'tfjs-core' : 'tfjs-backend-wasm'] ?? null;
  return {
    type: 'ready',
    backend: { name: m.backend, version: version ?? tf.version_core, kernels },
    architecture: { ...definitionOf(architecture), refusal: typeof refusal === 'string' ? refusal : null },
  };
}

/**
 * The run's architecture knobs, checked here as the parent checked them when it planned the
 * run: the same schema, and only knobs the architecture declares.
 */
function knobsFor(a: NonNullable<typeof architecture>, given: unknown): ArchitectureKnobs {
  const parsed = architectureKnobSchema.safeParse(given);
  if (!parsed.success) throw new RunFailure('build', `the run's knobs are malformed: ${parsed.error.issues[0]?.message}`);
  const knobs = parsed.data;
  const declared: readonly string[] = Array.isArray(a.knobs) ? a.knobs : [];
  const refused = Object.keys(knobs).filter((k) => !declared.includes(k));
  if (refused.length > 0) {
    throw new RunFailure(
      'build',
      `${init?.moduleLabel ?? 'the architecture'} does not take the knob(s) ${refused.join(', ')} (it takes ${declared.length ? declared.join(', ') : 'none'})`,
    );
  }
  return knobs;
}

function build(): FromConfined {
  if (!init || !architecture || !counter) throw new Error('build before init');
  const before = engineFootprint();
  ctx = createBuildContext(init.seed, init.scope, knobsFor(architecture, init.knobs));
  // build() is metered: whatever it computes through the kernels is counted (and an unpriced kernel refused).
  counter.reset();
  counter.active = true;
  try {
    model = buildModel({ architecture }, init.spec, init.size, ctx);
  } finally {
    counter.active = false;
  }
  const footprint = builtFootprint(before, engineFootprint()); // before the optimizer, whose step counters are variables too
  weights = Object.values(tf.engine().registeredVariables);
  const embeddings = new Set(ctx.created.filter((c) => c.init === 'embedding').map((c) => c.variable));
  optimizer = new ScheduledAdam(init.learningRate, 0.9, 0.999, 1e-8);
  const cost = model.cost;
  return {
    type: 'built',
    variables: model.variables.map((v) => ({ shape: [...v.shape], embedding: embeddings.has(v) })),
    ...footprint,
    declaredActive: typeof cost?.activeParams === 'number' ? cost.activeParams : null,
    attention: cost?.attention ?? null,
    hyperparameters: { ...model.hyperparameters },
    ledger: ledgerNow(),
    featureEmbedding: typeof model.featureEmbedding === 'function',
  };
}

async function step(m: Extract<ToConfined, { type: 'step' }>, raw: Uint8Array): Promise<FromConfined> {
  if (!init || !model || !optimizer || !counter) throw new Error('step before build');
  const batch: Batch = { x: tensorOfRaw(m.batch.x, raw), y: tensorOfRaw(m.batch.y, raw), groups: tensorOfRaw(m.batch.groups, raw) };
  optimizer.setLearningRate(m.learningRate);
  const before = m.sample ? model.variables.map((v) => v.clone()) : [];
  counter.reset();
  counter.active = true;
  let loss = Number.NaN;
  let gradient = 0;
  try {
    const { taskLoss, gradientShare } = trainingStep(
      model,
      init.spec,
      { loss: trainingLoss(init.spec) },
      batch,
      optimizer,
      m.sample,
      m.step,
    );
    gradient = gradientShare;
    const read = taskLoss ? harnessReads(() => taskLoss.data()) : undefined; // the harness's read, not the module's
    loss = read ? ((await read)[0] as number) : Number.NaN;
    taskLoss?.dispose();
  } finally {
    counter.active = false;
    tf.dispose([batch.x, batch.y, batch.groups]);
  }
  const stepLedger = ledgerNow();
  let density: { gradient: number; update: number } | null = null;
  if (m.sample) {
    const current = model.variables;
    const update = tf.tidy(() => densityOfChange(current.map((v, i) => tf.sub(v, before[i] as tf.Tensor))));
    tf.dispose(before);
    density = { gradient, update };
  }
  const mem = tf.memory();
  return { type: 'stepped', loss, ledger: stepLedger, density, numTensors: mem.numTensors, numBytes: mem.numBytes };
}

function evaluate(m: Extract<ToConfined, { type: 'eval' }>): FromConfined {
  if (!init || !model) throw new Error('eval before build');
  const spec = init.spec;
  const current = model;
  const before = markWeights(weights);
  const batches = evalInputs.map((x) =>
    scoped(() => {
      // the harness's forward check (shape, dtype) with an empty label tensor: the child never has held-out labels
      const result = checkedForward(current, spec, { x, y: x, groups: x }, false, m.ablate);
      const sparsity = { zeros: 0, total: 0 };
      for (const a of m.ablate ? [] : (result.activations ?? [])) {
        const s = activationSparsity(a);
        sparsity.zeros += s.zeros;
        sparsity.total += s.total;
      }
      const routing = (m.ablate ? [] : (result.routing ?? [])).map((r) => ({
        layer: String(r.layer),
        experts: r.experts,
        assignment: wire(r.assignment, Int32Array.from(r.assignment.dataSync())),
        probabilities: r.probabilities ? wire(r.probabilities, Float32Array.from(r.probabilities.dataSync())) : null,
      }));
      return { output: wire(result.output, Float32Array.from(result.output.dataSync())), routing, sparsity };
    }),
  );
  let featureEmbedding: WireTensor<Float32Array> | null = null;
  const embed = current.featureEmbedding;
  if (!m.ablate && spec.output.kind === 'reconstruction' && embed) {
    featureEmbedding = scoped(() => {
      const e = embed.call(current);
      return wire(e, Float32Array.from(e.dataSync()));
    });
  }
  const changed = weightChangedSince(before);
  if (changed !== null) throw new RunFailure('eval', offTheClock(`changed its weights while it was evaluated (variable '${changed}')`));
  return { type: 'evaluated', batches, featureEmbedding };
}

/** The refusal for computing where the harness's clock and FLOP ledger do not reach (watch.ts). */
const offTheClock = (what: string) =>
  `${init?.moduleLabel ?? 'the architecture module'} ${what}: refused — a model may compute and change its weights only in the harness's training steps, on its clock and in its FLOP ledger. Fix: do all training work inside forward() of a training step; leave no timers or promises that compute after it returns, and change no variable in evaluation`;

/** What the module did between the harness's requests (since `idleFrom`), or null. */
let idleFrom: WeightMark | null = null;
function offRequest(): string | null {
  if (!counter || !idleFrom) return null;
  const kernel = counter.idleDispatch;
  const changed = weightChangedSince(idleFrom);
  counter.idle = false;
  counter.idleDispatch = null;
  idleFrom = null;
  if (kernel !== null) return offTheClock(`ran kernel ${kernel} between the harness's requests`);
  if (changed !== null) return offTheClock(`changed its weights between the harness's requests (variable '${changed}')`);
  return null;
}
/** After each reply: from now until the next request, the model has no business computing. */
function goIdle(): void {
  if (!counter || !model) return;
  counter.idleDispatch = null;
  counter.idle = true;
  idleFrom = markWeights(weights);
}

async function handle(m: ToConfined, raw: Uint8Array): Promise<FromConfined> {
  const phase = phaseOf(m);
  const idleWork = offRequest();
  if (idleWork) return { type: 'failed', phase, status: 'failed', message: idleWork };
  const r = await answer(m, raw);
  // Tampering with the measurement fails the run even where the module caught the refusal.
  freezer?.check(); // O(1): writes around the registry's guards (freeze.ts)
  const refused = freezer?.refused;
  if (refused) {
    return { type: 'failed', phase, status: 'failed', message: refused.message };
  }
  return r;
}

async function answer(m: ToConfined, raw: Uint8Array): Promise<FromConfined> {
  try {
    if (m.type === 'describe') return await describe(m.moduleUrl);
    if (m.type === 'init') return await start(m);
    if (m.type === 'build') return build();
    if (m.type === 'step') return await step(m, raw);
    return evaluate(m);
  } catch (e) {
    if (e instanceof RunFailure)
      return {
        type: 'failed',
        phase: e.phase,
        status: e.status === 'refused' ? 'refused' : e.status === 'diverged' ? 'diverged' : 'failed',
        message: e.message,
      };
    const phase = phaseOf(m);
    // a frozen kernel config's or the engine's TypeError, named as the freeze's refusal
    const tamper = freezer?.tamperOf(e);
    return { type: 'failed', phase, status: 'failed', message: tamper ? tamper.message : thrownMessage(e) };
  }
}

/**
 * One request at a time, read blocking: between a reply and the next request the event loop
 * does not turn, so nothing the module left behind (a timer, a promise) runs off the clock;
 * whatever it left runs inside the next request, where the harness's clock and ledger are.
 */
async function serve(): Promise<never> {
  for (;;) {
    const request = channel.read();
    if (request === null) process.exit(0); // the harness is gone: nothing here is wanted
    const m = request.message as ToConfined;
    const before = m.type === 'step' ? null : markWeights(weights);
    let r = await handle(m, request.raw);
    // Only a training step may change the weights: a hand-over, a build or an evaluation that did is refused.
    const changed = before && model && r.type !== 'failed' ? weightChangedSince(before) : null;
    if (changed !== null) {
      r = {
        type: 'failed',
        phase: phaseOf(m),
        status: 'failed',
        message: offTheClock(`changed its weights while the harness asked for '${m.type}' (variable '${changed}')`),
      };
    }
    channel.write(r);
    goIdle();
    // Let what the module left for "right after" (a resolved promise, an immediate, a zero-delay
    // timer) run now, while the harness is not asking: a kernel it dispatches is refused at the
    // next request (offRequest). Later timers can fire only inside a later request, where the event
    // loop turns — in a training step, on the clock and in its ledger. (Refusing any pending timer
    // instead would refuse tfjs's own.) A timer costs the 1 ms Node clamps a zero delay to, so the
    // child waits for one only where one is pending: most requests leave none.
    await new Promise((done) => setImmediate(done));
    if (process.getActiveResourcesInfo().includes('Timeout')) {
      await new Promise((done) => setTimeout(done, 0));
    }
  }
}
void serve();
