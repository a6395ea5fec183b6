/**
 * Adam's update in one pass (wasm+libxsmm): parameter, both moments and gradient read once and
 * written in place on the wasm heap by the wrapper's `mpx_adam` (kernels/native/xsmm.c, cloned
 * for AVX-512 / AVX2 / baseline x86-64), instead of tfjs's 14 elementwise kernels per variable,
 * each allocating a tensor the size of the parameter.
 *
 * - Kernel `FusedAdam` (wasm): inputs {p, m, v, g}, attrs {lr, beta1, beta2, epsilon, c1, c2};
 *   updates p, m and v in place and returns nothing. Its FLOP price (harness/measure/flops.ts)
 *   is 14 per element: what tfjs's Adam is charged for the same update, so a run's FLOP
 *   ledger is the same on every backend.
 * - `FusedAdamOptimizer`: tfjs's AdamOptimizer (same slots, same weights for save/restore) whose
 *   applyGradients uses the kernel where it is registered for the active backend and each
 *   tensor it would write owns its memory (refCount 1: no other tensor sees the in-place
 *   write); elsewhere (other backends, shared data, non-float32) tfjs's own update runs.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, heapView } from './blas-matmul.ts';
import { isWasmBackend } from './wasm-matmul.ts';
import type { Xsmm } from './xsmm.ts';

export const FUSED_ADAM = 'FusedAdam';
/** elementwise kernels tfjs's Adam runs per element of a variable (mul, mul, add; mul, square, mul, add; div, div; sqrt, add, div, mul, add) */
export const ADAM_FLOPS_PER_ELEMENT = 14;

type KernelArgs = Parameters<tf.KernelFunc>[0];

function fusedAdam(xsmm: Xsmm, args: KernelArgs): tf.TensorInfo[] {
  const { backend, inputs, attrs } = args;
  if (!isWasmBackend(backend)) throw new Error('FusedAdam: not the wasm backend');
  const { p, m, v, g } = inputs;
  if (p === undefined || m === undefined || v === undefined || g === undefined) throw new Error('FusedAdam: inputs p, m, v, g needed');
  const n = p.shape.reduce((s, d) => s * d, 1);
  for (const t of [m, v, g]) {
    if (t.shape.reduce((s, d) => s * d, 1) !== n) throw new Error('FusedAdam: p, m, v and g must have the same size');
  }
  if ([p, m, v, g].some((t) => t.dtype !== 'float32')) throw new Error('FusedAdam: float32 only');
  const num = (k: string) => {
    const x = attrs?.[k];
    if (typeof x !== 'number') throw new Error(`FusedAdam: attrs.${k} must be a number`);
    return x;
  };
  const heap = backend.wasm.HEAPF32;
  const view = (t: tf.TensorInfo) => heapView(heap, heapOffset(backend, t), n);
  xsmm.adam(n, view(p), view(m), view(v), view(g), num('lr'), num('beta1'), num('beta2'), num('epsilon'), num('c1'), num('c2'));
  return [];
}

let registered = false;

/** Registers FusedAdam for wasm on the wrapper. Idempotent. */
export function registerFusedAdam(xsmm: Xsmm): string[] {
  if (!registered) {
    tf.registerKernel({ kernelName: FUSED_ADAM, backendName: 'wasm', kernelFunc: (args) => fusedAdam(xsmm, args) });
    registered = true;
  }
  return [FUSED_ADAM];
}

export function unregisterFusedAdam(): void {
  if (!registered) return;
  tf.unregisterKernel(FUSED_ADAM, 'wasm');
  registered = false;
}

export function fusedAdamRegistered(): boolean {
  return registered;
}

/** True when every tensor owns its wasm memory alone, so an in-place write changes only it. */
function ownsMemory(ts: tf.Tensor[]): boolean {
  const b = tf.backend() as unknown;
  if (!isWasmBackend(b)) return false;
  const map = (b as unknown as { dataIdMap: { get(id: object): { refCount?: number } | undefined } }).dataIdMap;
  return ts.every((t) => t.dtype === 'float32' && map.get(t.dataId)?.refCount === 1);
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** tfjs's Adam, with its update as one FusedAdam kernel per variable where that kernel runs. */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!registered || tf.getBackend() !== 'wasm' || tf.getKernel(FUSED_ADAM, 'wasm') === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as {
      accumulatedFirstMoment: Slot[];
      accumulatedSecondMoment: Slot[];
      accBeta1: tf.Variable;
      accBeta2: tf.Variable;
      iterations: number;
    };
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // 1 − β^t from the step count in float64 (tfjs keeps β^t as a float32 product: they agree to ~1e-7)
    const t = self.iterations + 1;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      // the same scalar ops as tfjs's update, so the FLOP ledger charges the same
      tf.sub(1, self.accBeta1);
      tf.sub(1, self.accBeta2);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name] as tf.Variable;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = (self.accumulatedFirstMoment[i] as Slot).variable;
        const v = (self.accumulatedSecondMoment[i] as Slot).variable;
        if (ownsMemory([value, m, v]) && gradient.dtype === 'float32') {
          tf.engine().runKernel(
            FUSED_ADAM,
            { p: value, m, v, g: gradient },
            {
              lr: this.learningRate,
              beta1: this.beta1,
              beta2: this.beta2,
              epsilon: this.epsilon,
              c1,
              c2,
            },
          );
          return;
        }
        // tfjs's own update (adam_optimizer.js), for a variable whose memory is shared
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const mHat = tf.div(newM, 1 - this.beta1 ** t);
        const vHat = tf.div(newV, 1 - this.beta2 ** t);
        m.assign(newM);
        v.assign(newV);
        value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate), value));
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
