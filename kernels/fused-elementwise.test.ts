/**
 * The fused elementwise kernels (fused-elementwise.ts, native/fused.c) against the composite
 * tfjs ops they replace, on the same wasm backend: nn.gelu, nn.layerNorm and crossEntropy,
 * forward and every gradient, on random shapes; the Sum over leading axes against the stock
 * kernel; the sharing Identity/Cast (wasm-identity.ts); the FLOP prices against a hand count and
 * against the ledger's count of the composite ops; a few Adam steps of the charlm dense model.
 * Skipped without the wrapper (as xsmm-matmul.test.ts; MIDDLEPATH_REQUIRE_XSMM=1 makes it fail).
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dense from '../baselines/dense.ts';
import { createBuildContext } from '../harness/build-context.ts';
import { installFlopCounter } from '../harness/measure/flops.ts';
import { causalSelfAttention, gelu, layerNorm } from '../harness/nn/layers.ts';
import { charlmInfo } from '../harness/tasks/charlm.info.ts';
import { crossEntropy } from '../harness/tasks/scoring.ts';
import { FusedAdamOptimizer } from './fused-adam.ts';
import { FUSED_GELU, registerFusedElementwise, sumBlock, unregisterFusedElementwise } from './fused-elementwise.ts';
import { registerKernels, unregisterKernels } from './index.ts';
import { registerWasmIdentity, unregisterWasmIdentity } from './wasm-identity.ts';
import { useWasmBackend } from './wasm-setup.ts';
import { loadXsmmBlas, type Xsmm } from './xsmm.ts';

let xsmm: Xsmm | null = null;
let why = '';
try {
  ({ xsmm } = await loadXsmmBlas());
  if (!xsmm.fused) throw new Error(`the wrapper at ${xsmm.path} predates the fused kernels: npm run build:native`);
} catch (e) {
  why = (e as Error).message;
  xsmm = null;
}
if (xsmm === null && process.env.MIDDLEPATH_REQUIRE_XSMM === '1') throw new Error(`MIDDLEPATH_REQUIRE_XSMM=1 (CI) but: ${why}`);

const rand = seedrandom('fused-elementwise');
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const normal = (shape: number[], scale = 1) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (rand() + rand() + rand() - 1.5) * 2),
    shape,
  );

/** max |a − b| ÷ (max |b| + 1e-6): relative to the reference's scale */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(a.shape).toEqual(b.shape);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    err = Math.max(err, Math.abs((x[i] as number) - (y[i] as number)));
    scale = Math.max(scale, Math.abs(y[i] as number));
  }
  return err / (scale + 1e-6);
}

describe.skipIf(xsmm === null)(`fused elementwise kernels (${xsmm ? `fused${xsmm.fused?.version}` : `skipped: ${why}`})`, () => {
  const native = () => (xsmm as Xsmm).fused as NonNullable<Xsmm['fused']>;
  const fusedOn = () => registerFusedElementwise(native());
  /** fn's outputs with the fused kernels and with the composite ops, both on wasm */
  function both(fn: () => tf.Tensor[]): { fused: tf.Tensor[]; composite: tf.Tensor[] } {
    fusedOn();
    const fused = fn();
    unregisterFusedElementwise();
    const composite = fn();
    fusedOn();
    return { fused, composite };
  }

  beforeAll(async () => {
    await useWasmBackend();
    registerKernels('wasm', {});
    fusedOn();
  });
  afterAll(() => unregisterKernels('wasm'));

  it('the public ops dispatch to the fused kernels only where they are registered', () => {
    expect(tf.getKernel(FUSED_GELU, 'wasm')).toBeDefined();
    unregisterFusedElementwise();
    expect(tf.getKernel(FUSED_GELU, 'wasm')).toBeUndefined();
    fusedOn();
  });

  it('GELU: output and gradient agree with the composite ops (random shapes)', () => {
    for (let trial = 0; trial < 4; trial++) {
      const shape = [between(1, 7), between(1, 40)];
      const x = normal(shape, 3);
      const dy = normal(shape);
      const { fused, composite } = both(() => {
        const [y, g] = [gelu(x), tf.grad((v: tf.Tensor) => gelu(v))(x, dy)];
        return [y, g];
      });
      expect(relErr(fused[0] as tf.Tensor, composite[0] as tf.Tensor)).toBeLessThan(2e-6);
      expect(relErr(fused[1] as tf.Tensor, composite[1] as tf.Tensor)).toBeLessThan(1e-5);
      tf.dispose([x, dy, ...fused, ...composite]);
    }
  });

  it('GELU saturates like the composite at large |x| (no overflow in the exp)', () => {
    const x = tf.tensor1d([-100, -20, -9, -1e-6, 0, 1e-6, 9, 20, 100]);
    const { fused, composite } = both(() => [gelu(x), tf.grad((v: tf.Tensor) => gelu(v))(x)]);
    expect(relErr(fused[0] as tf.Tensor, composite[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(relErr(fused[1] as tf.Tensor, composite[1] as tf.Tensor)).toBeLessThan(1e-5);
    expect([...(fused[0] as tf.Tensor).dataSync()].every(Number.isFinite)).toBe(true);
  });

  it('LayerNorm: output and the gradients of x, gain and bias agree with the composite ops', () => {
    for (let trial = 0; trial < 4; trial++) {
      const d = between(1, 70);
      const shape = [between(1, 4), between(1, 9), d];
      const ctx = createBuildContext(trial, `fused-ln-${trial}`);
      const ln = layerNorm(ctx, 'ln', d);
      const [g, b] = ctx.variables() as [tf.Variable, tf.Variable];
      g.assign(normal([d]));
      b.assign(normal([d]));
      const x = tf.add(normal(shape, 2), 0.5); // a row mean off zero
      const dy = normal(shape);
      const { fused, composite } = both(() => {
        const y = ln.apply(x);
        const { value, grads: vg } = tf.variableGrads(() => tf.sum(tf.mul(ln.apply(x), dy)) as tf.Scalar, [g, b]);
        const dx = tf.grad((xv: tf.Tensor) => ln.apply(xv))(x, dy);
        return [y, dx, vg[g.name] as tf.Tensor, vg[b.name] as tf.Tensor, value];
      });
      const tol = [2e-6, 2e-5, 2e-5, 2e-6];
      for (let i = 0; i < 4; i++) expect(relErr(fused[i] as tf.Tensor, composite[i] as tf.Tensor)).toBeLessThan(tol[i] as number);
      tf.dispose([x, dy, ...fused, ...composite]);
      ctx.dispose();
    }
  });

  it('cross-entropy: loss and gradient agree with the composite ops, an out-of-range label included', () => {
    for (let trial = 0; trial < 4; trial++) {
      const [rows, classes] = [between(2, 40), between(2, 120)];
      const logits = normal([rows, classes], 4);
      const ids = Array.from({ length: rows }, () => between(0, classes - 1));
      if (trial === 0) ids[0] = classes; // tf.oneHot gives a zero row: no loss, no gradient
      const labels = tf.tensor1d(ids, 'int32');
      const { fused, composite } = both(() => {
        const { value, grads } = tf.valueAndGrads((l: tf.Tensor) => crossEntropy(l, labels))([logits]);
        return [value, grads[0] as tf.Tensor];
      });
      expect(relErr(fused[0] as tf.Tensor, composite[0] as tf.Tensor)).toBeLessThan(2e-6);
      expect(relErr(fused[1] as tf.Tensor, composite[1] as tf.Tensor)).toBeLessThan(2e-5);
      if (trial === 0) expect([...(fused[1] as tf.Tensor).dataSync().slice(0, classes)].every((v) => v === 0)).toBe(true);
      tf.dispose([logits, labels, ...fused, ...composite]);
    }
  });

  it("attention's masked softmax: probabilities and the scores' gradient agree with the composite ops", () => {
    for (let trial = 0; trial < 4; trial++) {
      const [b, h, t] = [between(1, 3), between(1, 4), between(1, 20)];
      const scores = normal([b, h, t, t], 5);
      // a causal mask as causalSelfAttention builds it: −1e9 above the diagonal
      const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9));
      const dy = normal([b, h, t, t]);
      const scale = 1 / Math.sqrt(between(1, 64));
      const op = (x: tf.Tensor) =>
        tf.getKernel('FusedMaskedSoftmax', 'wasm')
          ? (tf.engine().runKernel('FusedMaskedSoftmax', { x, mask }, { scale }) as tf.Tensor)
          : tf.softmax(tf.add(tf.mul(x, scale), mask));
      const { fused, composite } = both(() => [op(scores), tf.grad(op)(scores, dy)]);
      expect(relErr(fused[0] as tf.Tensor, composite[0] as tf.Tensor)).toBeLessThan(2e-6);
      expect(relErr(fused[1] as tf.Tensor, composite[1] as tf.Tensor)).toBeLessThan(2e-5);
      // above the diagonal exactly 0, as the composite's exp underflows to
      const p = (fused[0] as tf.Tensor).dataSync();
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) expect(p[i * t + j]).toBe(0);
      tf.dispose([scores, mask, dy, ...fused, ...composite]);
    }
  });

  it('refuses inputs of the wrong size with what to fix, allocating nothing', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const [x, short, mask, gain, scores] = [normal([4, 8]), normal([3]), normal([3, 8]), normal([8]), normal([1, 1, 4, 8])];
    const labels = tf.zeros([4], 'int32');
    const before = backend.numDataIds();
    const run =
      (kernel: string, inputs: tf.NamedTensorMap, attrs = {}) =>
      () =>
        tf.engine().runKernel(kernel, inputs, attrs);
    expect(run('FusedGeluGrad', { dy: short, x })).toThrow(/FusedGeluGrad: input dy must have 32 elements/);
    expect(run('FusedLayerNormGrad', { dy: x, x, gain, mean: short, rstd: short })).toThrow(/input mean must have 4 elements/);
    expect(run('FusedSoftmaxCrossEntropyGrad', { dlogp: short, logits: x, labels, lse: short })).toThrow(/input lse must have 4 elements/);
    expect(run('FusedMaskedSoftmax', { x: scores, mask }, { scale: 1 })).toThrow(/rows dividing x's second-last axis/);
    expect(run('FusedLayerNorm', { x, gain: short, bias: short }, { epsilon: 1e-5 })).toThrow(/gain and bias must have 8 elements/);
    expect(backend.numDataIds()).toBe(before); // no outputs made
    tf.dispose([x, short, mask, gain, scores, labels]);
  });

  it('Sum over leading or middle axes agrees with the stock kernel; the last axis stays stock', () => {
    expect(sumBlock([16, 64, 64], [0, 1])).toEqual({ pre: 1, red: 1024, post: 64 });
    expect(sumBlock([2, 3, 4, 5], [1, 2])).toEqual({ pre: 2, red: 12, post: 5 });
    expect(sumBlock([2, 3, 4], -1)).toBeNull();
    expect(sumBlock([2, 3, 4], [0, 2])).toBeNull();
    const all = normal([3, 4, 5]);
    const { fused: f0, composite: c0 } = both(() => [tf.sum(all), tf.sum(all, [0, 1, 2], true)]);
    for (let i = 0; i < 2; i++) expect(relErr(f0[i] as tf.Tensor, c0[i] as tf.Tensor)).toBeLessThan(1e-6);
    for (const [shape, axis, keepDims] of [
      [[1024, 97], 0, false],
      [[16, 64, 64], [0, 1], false],
      [[3, 5, 7, 2], [1, 2], true],
      [[4, 6, 8], -2, false],
      [[4, 6, 8], [2], false],
    ] as const) {
      const x = normal([...shape]);
      const { fused, composite } = both(() => [tf.sum(x, axis as number | number[], keepDims)]);
      expect(relErr(fused[0] as tf.Tensor, composite[0] as tf.Tensor)).toBeLessThan(1e-6);
      tf.dispose([x, ...fused, ...composite]);
    }
  });

  it('FLOP prices: a hand count of the composite ops, and what the ledger charges them', () => {
    // the counter wraps the kernels registered when it is installed: one per kernel set
    const count = (fn: () => unknown) => {
      const counter = installFlopCounter('wasm');
      counter.active = true;
      try {
        tf.tidy(() => {
          fn();
        });
      } finally {
        counter.active = false;
        counter.uninstall();
      }
      return counter.totals.total;
    };
    const [rows, d] = [between(2, 9), between(2, 30)];
    const n = rows * d;
    const x = normal([rows, d]);
    const labels = tf.tensor1d(
      Array.from({ length: rows }, () => between(0, d - 1)),
      'int32',
    );
    const ctx = createBuildContext(7, 'fused-price');
    const ln = layerNorm(ctx, 'ln', d);
    const [g, b] = ctx.variables() as [tf.Variable, tf.Variable];
    const xv = tf.variable(x);
    // loss = Σ LN(x): the sum costs n forward and n backward (a broadcast product)
    const lnStep = (vars: tf.Variable[]) => () => tf.variableGrads(() => tf.sum(ln.apply(xv)) as tf.Scalar, vars);
    const attention = createBuildContext(8, 'fused-price-attention');
    const heads = between(1, 3);
    const headDim = between(1, 4);
    const length = between(2, 9);
    const attn = causalSelfAttention(attention, 'attn', heads * headDim, heads, length);
    const tokens = normal([2, length, heads * headDim]);
    const [batch, dim] = [2, heads * headDim];
    const scores = batch * heads * length * length;
    // the attention layer's products, bias adds, split, reshapes and transposes: everything but the softmax is the same on both paths
    const matmuls = 2 * batch * length * dim * 3 * dim + 2 * 2 * scores * headDim + 2 * batch * length * dim * dim;
    const biases = batch * length * 3 * dim + batch * length * dim;
    const cases: Array<{ name: string; fn: () => unknown; hand: number }> = [
      // scale and mask (2 per score), softmax (3)
      { name: 'attention forward', fn: () => attn.apply(tokens as tf.Tensor3D), hand: matmuls + biases + 5 * scores },
      // softmax's backward (product, row sum, product, difference) and the scale's: 5 per score
      {
        name: 'masked softmax forward and backward',
        fn: () => {
          const mask = tf.zeros([length, length]);
          const op = (v: tf.Tensor) =>
            tf.getKernel('FusedMaskedSoftmax', 'wasm')
              ? (tf.engine().runKernel('FusedMaskedSoftmax', { x: v, mask }, { scale: 0.5 }) as tf.Tensor)
              : tf.softmax(tf.add(tf.mul(v, 0.5), mask));
          return tf.grad(op)(tf.ones([batch, heads, length, length]), tf.ones([batch, heads, length, length]));
        },
        hand: 10 * scores,
      },
      // square, mul, mul, add, mul, tanh, add, mul, mul per element
      { name: 'gelu forward', fn: () => gelu(x), hand: 9 * n },
      { name: 'gelu forward and backward', fn: () => tf.grad((v: tf.Tensor) => gelu(v))(x, tf.onesLike(x)), hand: 24 * n },
      // mean, sub, square, mean (moments), sub, div, mul, add per element; add ε, sqrt per row
      { name: 'layerNorm forward', fn: () => ln.apply(x), hand: 8 * n + 2 * rows },
      // + the sum, and the composite's backward: to x 14 per element and 9 per row, to the gain 2, to the bias 1 per element
      { name: 'layerNorm backward to x, gain, bias', fn: lnStep([xv, g, b]), hand: 8 * n + 2 * rows + 2 * n + 14 * n + 9 * rows + 3 * n },
      { name: 'layerNorm backward to gain, bias', fn: lnStep([g, b]), hand: 8 * n + 2 * rows + 2 * n + 3 * n },
      { name: 'layerNorm backward to x', fn: lnStep([xv]), hand: 8 * n + 2 * rows + 2 * n + 14 * n + 9 * rows },
      // max, sub, exp, sum, sub (logSoftmax), mul by the one-hot, row sum per element; log, mean per row; neg
      { name: 'crossEntropy forward', fn: () => crossEntropy(x, labels), hand: 7 * n + 2 * rows + 1 },
      // + 6 per element through logSoftmax and the one-hot product, 2 per row and 1 through the mean and neg
      {
        name: 'crossEntropy forward and backward',
        fn: () => tf.grad((v: tf.Tensor) => crossEntropy(v, labels))(x),
        hand: 7 * n + 2 * rows + 1 + 6 * n + 2 * rows + 1,
      },
    ];
    for (const c of cases) {
      fusedOn();
      const fused = count(c.fn);
      unregisterFusedElementwise();
      const composite = count(c.fn);
      fusedOn();
      expect({ case: c.name, fused, composite }).toEqual({ case: c.name, fused: c.hand, composite: c.hand });
    }
    tf.dispose([x, xv, labels, tokens]);
    ctx.dispose();
    attention.dispose();
  });

  it('Identity and same-dtype Cast share memory, free it with the last reference, and leak nothing', () => {
    unregisterWasmIdentity();
    registerWasmIdentity();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
    const x = normal([5, 6]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    const w = tf.cast(x, 'int32'); // a real conversion: its own memory
    expect(backend.numDataIds()).toBe(before.data + 2);
    x.dispose();
    expect([...y.dataSync()]).toEqual([...z.dataSync()]);
    tf.dispose([y, z]);
    expect(backend.numDataIds()).toBe(before.data + 1);
    w.dispose();
    expect({ tensors: tf.memory().numTensors, data: backend.numDataIds() }).toEqual(before);
  });

  it('charlm dense model: Adam steps on the fused kernels follow the composite ones, and leak nothing', () => {
    const spec = charlmInfo.spec;
    const tier = charlmInfo.tiers.cpu;
    if (spec.input.kind !== 'tokens') throw new Error('charlm is a token task');
    const { length, vocab } = spec.input;
    const size = { ...tier.size, width: 32, depth: 1, heads: 2 };
    const ids = tf.tensor2d(
      Array.from({ length: 4 * length }, () => between(0, vocab - 1)),
      [4, length],
      'int32',
    );
    const targets = tf.tensor2d(
      Array.from({ length: 4 * length }, () => between(0, vocab - 1)),
      [4, length],
      'int32',
    );
    const run = (withFused: boolean) => {
      if (withFused) fusedOn();
      else unregisterFusedElementwise();
      const ctx = createBuildContext(3, `fused-charlm-${withFused}`);
      const model = dense.build(spec, size, ctx);
      const opt = new FusedAdamOptimizer(3e-3, 0.9, 0.999);
      const losses: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < 6; i++) {
        const l = opt.minimize(() => crossEntropy(model.forward(ids, { training: true }).output, targets), true, model.variables);
        losses.push(l?.dataSync()[0] as number);
        l?.dispose();
        live.push(tf.memory().numTensors);
      }
      // Adam's moments appear in the first step; after it, a step leaves nothing behind
      expect(new Set(live.slice(1)).size).toBe(1);
      opt.dispose();
      ctx.dispose();
      fusedOn();
      return { losses };
    };
    const fused = run(true);
    const composite = run(false);
    expect(fused.losses[5] as number).toBeLessThan((fused.losses[0] as number) - 0.1); // it learns
    for (let i = 0; i < 6; i++) expect(Math.abs((fused.losses[i] as number) - (composite.losses[i] as number))).toBeLessThan(2e-3);
    tf.dispose([ids, targets]);
  });
});
