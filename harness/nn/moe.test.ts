/**
 * The MoE layer against references written without dispatch: a per-example loop in plain JS
 * for the forward pass, and a dense masked formulation (every expert on every row, weighted
 * by a [rows, experts] gate matrix) whose gradients come from tfjs's stock ops. Gradients are
 * checked on both cpu and wasm, and against each other.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKernels } from '../../kernels/index.ts';
import { useWasmBackend } from '../../kernels/wasm-setup.ts';
import { createBuildContext, type OwnedBuildContext } from '../build-context.ts';
import { charlmInfo } from '../tasks/charlm.info.ts';
import { parityInfo } from '../tasks/parity.info.ts';
import { hashRouter, type MoeLayer, type MoeOptions, moe, moeParams, resolveMoeOptions } from './moe.ts';

const ROWS = 40;
const DIM = 6;
const HIDDEN = 5;
const E = 4;

type Matrix = number[][];
type Grads = Record<string, Matrix | number[] | null>;

function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => (b[0] as number[]).map((_, j) => row.reduce((s, v, i) => s + v * ((b[i] as number[])[j] as number), 0)));
}
const addRow = (a: Matrix, b: number[]) => a.map((r) => r.map((v, j) => v + (b[j] as number)));
const relu = (a: Matrix) => a.map((r) => r.map((v) => Math.max(0, v)));
const softmaxRow = (r: number[]) => {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function weights(layer: MoeLayer) {
  const arr = (v: tf.Tensor) => v.arraySync() as Matrix;
  const vec = (v: tf.Tensor | null) => (v ? (v.arraySync() as number[]) : null);
  const ffn = (f: MoeLayer['expertFfns'][number]) => ({
    w1: arr(f.up.weight),
    b1: vec(f.up.bias),
    w2: arr(f.down.weight),
    b2: vec(f.down.bias),
  });
  return {
    router: layer.router ? arr(layer.router) : null,
    experts: layer.expertFfns.map(ffn),
    shared: layer.sharedFfn ? ffn(layer.sharedFfn) : null,
  };
}

type Weights = ReturnType<typeof weights>;

function runFfn(f: Weights['experts'][number], x: Matrix, act: 'relu' | 'linear'): Matrix {
  let h = matmul(x, f.w1);
  if (f.b1) h = addRow(h, f.b1);
  if (act === 'relu') h = relu(h);
  let y = matmul(h, f.w2);
  if (f.b2) y = addRow(y, f.b2);
  return y;
}

/** The [rows, experts] combine weights a per-example loop arrives at, and each slot's fate. */
function naiveGates(
  w: Weights,
  x: Matrix,
  o: MoeOptions,
  training: boolean,
  assignment?: number[],
): { gates: Matrix; dropped: number; scores: Matrix | null } {
  const rows = x.length;
  const experts = o.experts;
  const gates: Matrix = x.map(() => new Array<number>(experts).fill(0));
  const router = o.router ?? { kind: 'top-k' };
  if (router.kind === 'hash') {
    (assignment as number[]).forEach((e, t) => {
      (gates[t] as number[])[e] = 1;
    });
    return { gates, dropped: 0, scores: null };
  }
  const logits = matmul(x, w.router as Matrix);
  if (router.kind === 'expert-choice') {
    const p = logits.map(softmaxRow);
    const c = Math.min(rows, Math.max(1, Math.round((rows * (router.capacity ?? 2)) / experts)));
    for (let e = 0; e < experts; e++) {
      const order = [...p.keys()].sort((a, b) => (p[b] as number[])[e]! - (p[a] as number[])[e]! || a - b);
      for (const t of order.slice(0, c)) (gates[t] as number[])[e] = (p[t] as number[])[e] as number;
    }
    return { gates, dropped: 0, scores: p };
  }
  const k = router.k ?? 1;
  const sigmoid = router.affinity === 'sigmoid';
  const s = sigmoid ? logits.map((r) => r.map((v) => 1 / (1 + Math.exp(-v)))) : logits.map(softmaxRow);
  const choice = s.map((r) => [...r.keys()].sort((a, b) => (r[b] as number) - (r[a] as number) || a - b).slice(0, k));
  const capacity = o.capacityFactor !== undefined && training ? Math.ceil((o.capacityFactor * rows * k) / experts) : Infinity;
  const count = new Array<number>(experts).fill(0);
  let dropped = 0;
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < rows; t++) {
      const e = (choice[t] as number[])[j] as number;
      if ((count[e] as number) >= capacity) {
        dropped++;
        continue;
      }
      count[e] = (count[e] as number) + 1;
      const chosen = (choice[t] as number[]).map((c) => (s[t] as number[])[c] as number);
      const norm = k > 1 ? chosen.reduce((a, b) => a + b, 0) : 1;
      (gates[t] as number[])[e] = ((s[t] as number[])[e] as number) / norm;
    }
  }
  return { gates, dropped, scores: s };
}

function naiveForward(layer: MoeLayer, x: Matrix, o: MoeOptions, training: boolean, assignment?: number[]) {
  const w = weights(layer);
  const act = o.activation === 'linear' ? 'linear' : 'relu';
  const { gates, dropped } = naiveGates(w, x, o, training, assignment);
  const out = x.map((row, t) => {
    let y = new Array<number>(row.length).fill(0);
    for (let e = 0; e < o.experts; e++) {
      const g = (gates[t] as number[])[e] as number;
      if (g === 0) continue;
      const ye = runFfn(w.experts[e] as Weights['experts'][number], [row], act)[0] as number[];
      y = y.map((v, j) => v + g * (ye[j] as number));
    }
    if (w.shared) y = y.map((v, j) => v + ((runFfn(w.shared as Weights['experts'][number], [row], act)[0] as number[])[j] as number));
    return y;
  });
  return { out, gates, dropped };
}

/**
 * The same function with stock ops only: every expert on every row, Σ_e G[:, e]·E_e(x), with
 * G built from the router by differentiable ops and the layer's own choices as a constant mask.
 */
function maskedDense(layer: MoeLayer, x: tf.Tensor2D, o: MoeOptions, chosen: tf.Tensor2D, kept: tf.Tensor2D): tf.Tensor2D {
  const router = o.router ?? { kind: 'top-k' };
  let g: tf.Tensor2D = kept;
  if (router.kind !== 'hash') {
    const logits = tf.matMul(x, layer.router as tf.Variable);
    const sigmoid = router.kind === 'top-k' && router.affinity === 'sigmoid';
    const s = sigmoid ? tf.sigmoid(logits) : tf.softmax(logits);
    g = tf.mul(s, chosen);
    // Renormalised over the k chosen, then the slots dropped at capacity are zeroed.
    if (router.kind === 'top-k' && (router.k ?? 1) > 1) g = tf.div(g, tf.sum(g, -1, true));
    g = tf.mul(g, kept);
  }
  const act = (h: tf.Tensor) => (o.activation === 'linear' ? h : tf.relu(h));
  let out: tf.Tensor2D = tf.zeros([x.shape[0], x.shape[1]]);
  layer.expertFfns.forEach((f, e) => {
    const y = f.down.apply(act(f.up.apply(x)));
    out = tf.add(out, tf.mul(y, g.slice([0, e], [-1, 1])));
  });
  if (layer.sharedFfn) out = tf.add(out, layer.sharedFfn.apply(x).output);
  return out;
}

function data(seed: number): Matrix {
  return tf.tidy(() => tf.randomNormal([ROWS, DIM], 0, 1, 'float32', seed).arraySync() as Matrix);
}

let builds = 0;
function build(o: MoeOptions, seed = 1): { ctx: OwnedBuildContext; layer: MoeLayer } {
  const ctx = createBuildContext(seed, `moe-test-${builds++}`); // unique scope: tfjs variable names are global
  // A router at full scale, so routing depends strongly on x and ties cannot happen.
  const layer = moe(ctx, 'layer', DIM, { routerInitScale: 3, ...o });
  return { ctx, layer };
}

function maxRelError(a: Matrix | number[], b: Matrix | number[]): number {
  const fa = (a as unknown[]).flat(2) as number[];
  const fb = (b as unknown[]).flat(2) as number[];
  const scale = Math.max(1e-6, ...fb.map(Math.abs));
  return Math.max(...fa.map((v, i) => Math.abs(v - (fb[i] as number)))) / scale;
}

const hashAssignment = Array.from({ length: ROWS }, (_, t) => (t * 7 + 3) % E);

const CASES: Array<[string, MoeOptions]> = [
  ['top-1 softmax, dropless', { experts: E, hidden: HIDDEN }],
  ['top-2 softmax, renormalised', { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2 } }],
  ['top-2 sigmoid', { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2, affinity: 'sigmoid' } }],
  ['top-1, capacity factor 0.5', { experts: E, hidden: HIDDEN, capacityFactor: 0.5 }],
  ['top-2, capacity factor 0.75', { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2 }, capacityFactor: 0.75 }],
  ['expert choice, c = 2', { experts: E, hidden: HIDDEN, router: { kind: 'expert-choice', capacity: 2 } }],
  ['hash', { experts: E, hidden: HIDDEN, router: { kind: 'hash' } }],
  [
    'top-2 + 1 shared expert, linear, no biases',
    { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2 }, shared: { experts: 1, hidden: 3 }, activation: 'linear', bias: false },
  ],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dispatch', () => {
  for (const [label, o] of CASES) {
    it(`equals a per-example loop: ${label}`, () => {
      const { ctx, layer } = build(o);
      const xs = data(2);
      const before = tf.memory().numTensors;
      for (const training of [true, false]) {
        const got = tf.tidy(() => {
          const x = tf.tensor2d(xs);
          const assignment = o.router?.kind === 'hash' ? tf.tensor1d(hashAssignment, 'int32') : undefined;
          const r = layer.apply(x, { training, assignment });
          return {
            out: r.output.arraySync() as Matrix,
            dropped: r.dropped,
            trace: r.routing.assignment.arraySync() as Matrix,
            shape: r.routing.assignment.shape,
          };
        });
        const want = naiveForward(layer, xs, o, training, hashAssignment);
        expect(maxRelError(got.out, want.out), `${label}, training ${training}`).toBeLessThan(1e-5);
        expect(got.dropped).toBe(want.dropped);
        // The trace names, for each row, experts whose gate is non-zero (−1 for a dropped slot or padding).
        got.trace.forEach((row, t) => {
          for (const e of row) if (e >= 0 && o.router?.kind !== 'hash') expect((want.gates[t] as number[])[e]).toBeGreaterThan(0);
        });
      }
      expect(tf.memory().numTensors).toBe(before); // nothing escapes a tidy
      ctx.dispose();
    });
  }

  it('dropless keeps every example, even when the router sends them all to one expert', () => {
    const { ctx, layer } = build({ experts: E, hidden: HIDDEN });
    // Router column 0 dominates: every row prefers expert 0.
    (layer.router as tf.Variable).assign(tf.tidy(() => tf.concat([tf.fill([DIM, 1], 5), tf.zeros([DIM, E - 1])], 1)));
    const xs = data(3).map((r) => r.map(Math.abs)); // positive inputs, so x·W_r favours column 0 for every row
    const r = tf.tidy(() => {
      const out = layer.apply(tf.tensor2d(xs), { training: true });
      return {
        load: out.load,
        dropped: out.dropped,
        trace: out.routing.assignment.arraySync() as Matrix,
        out: out.output.arraySync() as Matrix,
      };
    });
    expect(r.load).toEqual([ROWS, 0, 0, 0]);
    expect(r.dropped).toBe(0);
    expect(r.trace.flat().every((e) => e === 0)).toBe(true);
    expect(maxRelError(r.out, naiveForward(layer, xs, { experts: E, hidden: HIDDEN }, true).out)).toBeLessThan(1e-5);
    ctx.dispose();
  });

  it('capacity mode drops exactly the overflow, in row order, and only in training', () => {
    const o: MoeOptions = { experts: E, hidden: HIDDEN, capacityFactor: 1 };
    const { ctx, layer } = build(o);
    (layer.router as tf.Variable).assign(tf.tidy(() => tf.concat([tf.fill([DIM, 1], 5), tf.zeros([DIM, E - 1])], 1)));
    const xs = data(3).map((r) => r.map(Math.abs));
    const capacity = ROWS / E; // cf 1
    const r = tf.tidy(() => {
      const out = layer.apply(tf.tensor2d(xs), { training: true });
      return { dropped: out.dropped, trace: (out.routing.assignment.arraySync() as Matrix).flat(), out: out.output.arraySync() as Matrix };
    });
    expect(r.dropped).toBe(ROWS - capacity);
    expect(r.trace.slice(0, capacity).every((e) => e === 0)).toBe(true); // the first C rows keep their expert
    expect(r.trace.slice(capacity).every((e) => e === -1)).toBe(true); // the rest are marked dropped
    expect(
      r.out
        .slice(capacity)
        .flat()
        .every((v) => v === 0),
    ).toBe(true); // and get zero output (the residual carries them)
    expect(
      r.out
        .slice(0, capacity)
        .flat()
        .some((v) => v !== 0),
    ).toBe(true);
    const evalDropped = tf.tidy(() => layer.apply(tf.tensor2d(xs), { training: false }).dropped);
    expect(evalDropped).toBe(0);
    ctx.dispose();
  });

  it('masks one expert for ablation without changing the routing', () => {
    const o: MoeOptions = { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2 } };
    const { ctx, layer } = build(o);
    const xs = data(4);
    const w = weights(layer);
    const { gates } = naiveGates(w, xs, o, false);
    const masked = 1;
    const want = xs.map((row, t) => {
      let y = new Array<number>(DIM).fill(0);
      for (let e = 0; e < E; e++) {
        const g = (gates[t] as number[])[e] as number;
        if (g === 0 || e === masked) continue;
        const ye = runFfn(w.experts[e] as Weights['experts'][number], [row], 'relu')[0] as number[];
        y = y.map((v, j) => v + g * (ye[j] as number));
      }
      return y;
    });
    const got = tf.tidy(() => layer.apply(tf.tensor2d(xs), { training: false, maskedExpert: masked }).output.arraySync() as Matrix);
    expect(maxRelError(got, want)).toBeLessThan(1e-5);
    ctx.dispose();
  });
});

describe('losses and balancing', () => {
  it('returns the Switch balance loss and the router z-loss in training only', () => {
    const o: MoeOptions = { experts: E, hidden: HIDDEN, balanceLoss: 0.01, zLoss: 0.001 };
    const { ctx, layer } = build(o);
    const xs = data(5);
    const w = weights(layer);
    const logits = matmul(xs, w.router as Matrix);
    const p = logits.map(softmaxRow);
    const top = p.map((r) => r.indexOf(Math.max(...r)));
    const f = Array.from({ length: E }, (_, e) => top.filter((c) => c === e).length / ROWS);
    const P = Array.from({ length: E }, (_, e) => p.reduce((s, r) => s + (r[e] as number), 0) / ROWS);
    const balance = 0.01 * E * f.reduce((s, fi, i) => s + fi * (P[i] as number), 0);
    const z = 0.001 * (logits.map((r) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0)) ** 2).reduce((a, b) => a + b, 0) / ROWS);
    const got = tf.tidy(() => layer.apply(tf.tensor2d(xs), { training: true }).auxLoss?.arraySync() as number);
    expect(got).toBeCloseTo(balance + z, 6);
    expect(tf.tidy(() => layer.apply(tf.tensor2d(xs), { training: false }).auxLoss)).toBeUndefined();
    ctx.dispose();
  });

  it('aux-loss-free bias balancing moves the bias against the load, and gates still come from the affinity', () => {
    const o: MoeOptions = {
      experts: E,
      hidden: HIDDEN,
      router: { kind: 'top-k', k: 2, affinity: 'sigmoid', biasBalancing: 0.1 },
      balanceLoss: 0,
    };
    const { ctx, layer } = build(o);
    // Expert 0 favoured by every (positive) row; the others differ from row to row, so the bias can spread them.
    (layer.router as tf.Variable).assign(
      tf.tidy(() => tf.concat([tf.fill([DIM, 1], 2), tf.randomNormal([DIM, E - 1], 0, 1, 'float32', 9)], 1)),
    );
    const xs = data(6).map((r) => r.map(Math.abs));
    const load = tf.tidy(() => layer.apply(tf.tensor2d(xs), { training: true }).load);
    expect(load[0]).toBe(ROWS); // every row's first choice
    const bias = layer.routingBias();
    expect(bias[0]).toBeCloseTo(-0.1, 6); // over-loaded: pushed down by γ
    load.forEach((l, e) => {
      if (l < (ROWS * 2) / E) expect(bias[e]).toBeCloseTo(0.1, 6);
    });
    const loadAt = (training: boolean) => layer.apply(tf.tensor2d(xs), { training }).load;
    tf.tidy(() => loadAt(false));
    expect(layer.routingBias()).toEqual(bias); // evaluation leaves b alone…
    for (let i = 0; i < 60; i++) tf.tidy(() => loadAt(true));
    const balanced = tf.tidy(() => loadAt(false));
    expect(Math.max(...balanced)).toBeLessThan(ROWS); // …and training spreads the load
    expect(Math.max(...balanced) - Math.min(...balanced)).toBeLessThan(Math.max(...load) - Math.min(...load));
    // Gates: the chosen experts' sigmoid affinities renormalised — b only changes which experts are chosen.
    const got = tf.tidy(() => {
      const r = layer.apply(tf.tensor2d(xs), { training: false });
      return { out: r.output.arraySync() as Matrix, assignment: r.routing.assignment.arraySync() as Matrix };
    });
    const assignment = got.assignment;
    const w = weights(layer);
    const s = matmul(xs, w.router as Matrix).map((r) => r.map((v) => 1 / (1 + Math.exp(-v))));
    const want = xs.map((row, t) => {
      const chosen = assignment[t] as number[];
      const norm = chosen.reduce((a, e) => a + ((s[t] as number[])[e] as number), 0);
      return chosen.reduce((y, e) => {
        const ye = runFfn(w.experts[e] as Weights['experts'][number], [row], 'relu')[0] as number[];
        return y.map((v, j) => v + (((s[t] as number[])[e] as number) / norm) * (ye[j] as number));
      }, new Array<number>(DIM).fill(0));
    });
    expect(maxRelError(got.out, want)).toBeLessThan(1e-5);
    ctx.dispose();
  });
});

describe('gradients', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  /** Gradients of mean(y²) for every variable and the input, by the layer and by the masked-dense reference. */
  function gradients(o: MoeOptions) {
    const { ctx, layer } = build(o, 7);
    const xs = data(8);
    let result: { ours: Grads; reference: Grads; names: string[]; routerName: string | null } | undefined;
    tf.tidy(() => {
      const x = tf.variable(tf.tensor2d(xs), true);
      const vars = [...ctx.variables(), x];
      const assignment = o.router?.kind === 'hash' ? tf.tensor1d(hashAssignment, 'int32') : undefined;
      // The routing decision (checked against the layer's forward above), as a constant: where a gate is non-zero.
      const mask = (training: boolean) =>
        tf.tensor2d(naiveGates(weights(layer), xs, o, training, hashAssignment).gates.map((row) => row.map((g) => (g > 0 ? 1 : 0))));
      const chosen = mask(false); // no capacity outside training
      const kept = mask(true);
      const ours = tf.variableGrads(() => tf.mean(tf.square(layer.apply(x, { training: true, assignment }).output)) as tf.Scalar, vars);
      const reference = tf.variableGrads(() => tf.mean(tf.square(maskedDense(layer, x, o, chosen, kept))) as tf.Scalar, vars);
      const read = (g: tf.NamedTensorMap): Grads =>
        Object.fromEntries(vars.map((v) => [v.name, g[v.name] ? ((g[v.name] as tf.Tensor).arraySync() as Matrix | number[]) : null]));
      result = {
        ours: read(ours.grads),
        reference: read(reference.grads),
        names: vars.map((v) => v.name),
        routerName: layer.router?.name ?? null,
      };
      x.dispose();
    });
    ctx.dispose();
    if (!result) throw new Error('no gradients');
    return result;
  }

  const GRAD_CASES = CASES.filter(([label]) => !label.includes('sigmoid'));

  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [label, o] of GRAD_CASES) {
      it(`reach the router, every expert and the input, and match stock autograd, on ${backend}: ${label}`, async () => {
        if (backend === 'wasm') {
          await useWasmBackend();
          registerKernels('wasm');
        } else await tf.setBackend('cpu');
        expect(tf.getBackend()).toBe(backend);
        const before = tf.memory().numTensors;
        const g = gradients({ ...o, balanceLoss: 0 });
        for (const name of g.names) {
          const ours = g.ours[name];
          const ref = g.reference[name];
          const flatRef = ref === null ? [] : ([ref].flat(3) as number[]);
          if (ref === null || flatRef.every((v) => v === 0)) continue; // an expert no row reached: no gradient either way
          expect(ours, `${name} has no gradient`).not.toBeNull();
          expect(maxRelError(ours as number[], ref as number[]), name).toBeLessThan(1e-4);
        }
        if (g.routerName) expect(([g.ours[g.routerName]].flat(3) as number[]).some((v) => v !== 0)).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('exist, as exact zeros, for experts that got no rows (tfjs optimizers pair slots with gradients by position)', () => {
    const { ctx, layer } = build({ experts: E, hidden: HIDDEN });
    (layer.router as tf.Variable).assign(tf.tidy(() => tf.concat([tf.fill([DIM, 1], 5), tf.zeros([DIM, E - 1])], 1)));
    const xs = data(3).map((r) => r.map(Math.abs)); // every row to expert 0
    const names = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(layer.apply(tf.tensor2d(xs), { training: true }).output)) as tf.Scalar,
        ctx.variables(),
      );
      for (const f of layer.expertFfns.slice(1)) {
        for (const v of [f.up.weight, f.down.weight]) expect(tf.max(tf.abs(grads[v.name] as tf.Tensor)).dataSync()[0]).toBe(0);
      }
      return Object.keys(grads);
    });
    expect(names).toEqual(ctx.variables().map((v) => v.name));
    ctx.dispose();
  });

  it('agree between wasm and cpu', async () => {
    const o: MoeOptions = { experts: E, hidden: HIDDEN, router: { kind: 'top-k', k: 2 }, balanceLoss: 0.01, zLoss: 0.001 };
    await tf.setBackend('cpu');
    const cpu = gradients(o);
    await useWasmBackend();
    registerKernels('wasm');
    const wasm = gradients(o);
    cpu.names.forEach((name, i) => {
      const c = cpu.ours[name];
      const w = wasm.ours[wasm.names[i] as string];
      if (c === null) expect(w).toBeNull();
      else expect(maxRelError(w as number[], c as number[]), name).toBeLessThan(1e-4);
    });
    await tf.setBackend('cpu');
  });
});

describe('configuration errors, before any training', () => {
  const bad: Array<[string, MoeOptions, RegExp]> = [
    ['k > E', { experts: 2, hidden: 4, router: { kind: 'top-k', k: 3 } }, /k = 3 exceeds the 2 experts/],
    ['capacity factor 0', { experts: 4, hidden: 4, capacityFactor: 0 }, /capacity factor must be > 0/],
    ['capacity factor < 0', { experts: 4, hidden: 4, capacityFactor: -1 }, /capacity factor must be > 0/],
    ['no experts', { experts: 0, hidden: 4 }, /experts must be an integer ≥ 1, got 0/],
    ['fractional experts', { experts: 2.5, hidden: 4 }, /experts must be an integer ≥ 1/],
    [
      'expert choice on a causal task',
      { experts: 4, hidden: 4, router: { kind: 'expert-choice' }, causal: true },
      /cannot be used on a causal task/,
    ],
    ['expert choice capacity 0', { experts: 4, hidden: 4, router: { kind: 'expert-choice', capacity: 0 } }, /capacity must be > 0/],
    [
      'capacity factor with expert choice',
      { experts: 4, hidden: 4, router: { kind: 'expert-choice' }, capacityFactor: 1 },
      /applies to top-k routing only/,
    ],
    ['balance loss with hash', { experts: 4, hidden: 4, router: { kind: 'hash' }, balanceLoss: 0.01 }, /hash routing has no router/],
  ];
  for (const [label, o, message] of bad) {
    it(`rejects ${label}`, () => {
      expect(() => resolveMoeOptions('block0.ffn', o)).toThrow(message);
      expect(() => moeParams(8, o)).toThrow(message);
      const ctx = createBuildContext(0, 'bad');
      expect(() => moe(ctx, 'block0.ffn', 8, o)).toThrow(/moe 'block0.ffn': /);
      expect(ctx.variables()).toHaveLength(0); // refused before creating anything
      ctx.dispose();
    });
  }

  it('hash routing without an assignment fails with what to pass', () => {
    const { ctx, layer } = build({ experts: E, hidden: HIDDEN, router: { kind: 'hash' } });
    expect(() => tf.tidy(() => layer.apply(tf.zeros([3, DIM]), { training: true }).output)).toThrow(/needs ctx.assignment/);
    ctx.dispose();
  });
});

describe('counts and hashing', () => {
  it('declares total and active parameters that match what it creates', () => {
    for (const [, o] of CASES) {
      const { ctx, layer } = build(o);
      expect(ctx.variables().reduce((n, v) => n + v.size, 0)).toBe(layer.totalParams);
      const expert = DIM * HIDDEN + HIDDEN * DIM + (o.bias === false ? 0 : HIDDEN + DIM);
      const router = o.router?.kind === 'hash' ? 0 : DIM * E;
      const k = o.router?.kind === 'top-k' ? (o.router.k ?? 1) : o.router?.kind === 'expert-choice' ? 2 : 1;
      const shared = o.shared ? DIM * 3 * 2 + (o.bias === false ? 0 : 3 + DIM) : 0;
      expect(layer.activeParams).toBe(router + k * expert + shared);
      ctx.dispose();
    }
  });

  it('hashes token ids to fixed, balanced experts and vectors by their support', () => {
    const ctx = createBuildContext(3, 'hash');
    const tokens = hashRouter(ctx, charlmInfo.spec, 8);
    const vocab = charlmInfo.spec.input.kind === 'tokens' ? charlmInfo.spec.input.vocab : 0;
    const ids = tf.tidy(() => Array.from(tokens.assign(tf.range(0, vocab, 1, 'int32')).dataSync()));
    const perExpert = Array.from({ length: 8 }, (_, e) => ids.filter((x) => x === e).length);
    expect(Math.max(...perExpert) - Math.min(...perExpert)).toBeLessThanOrEqual(1);
    const again = tf.tidy(() => Array.from(tokens.assign(tf.tensor2d([[5, 5, 7]], [1, 3], 'int32')).dataSync()));
    expect(again).toEqual([ids[5], ids[5], ids[7]]);

    const vectors = hashRouter(ctx, parityInfo.spec, 8);
    const dim = parityInfo.spec.input.kind === 'vector' ? parityInfo.spec.input.dim : 0;
    const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2000, dim], 0, 1, 'float32', 4), 0.5), 'float32'));
    const a = tf.tidy(() => Array.from(vectors.assign(x).dataSync()));
    const b = tf.tidy(() => Array.from(vectors.assign(tf.mul(x, 3)).dataSync())); // same support, same expert
    expect(a).toEqual(b);
    const counts = Array.from({ length: 8 }, (_, e) => a.filter((v) => v === e).length);
    expect(Math.min(...counts)).toBeGreaterThan(2000 / 8 / 2); // spread over all experts
    x.dispose();
    ctx.dispose();
  });
});
