/**
 * All experts of a MoE layer in one call: rows grouped by expert (counts[e] consecutive rows
 * for expert e), y_e = x_e·W_e + b_e. Where the backend has the GroupedMatMul kernels
 * (wasm+blas: kernels/blas-grouped.ts) the forward is one kernel and the backward two (dx
 * and all dW, db at once); elsewhere it falls back to a split, one matmul per non-empty
 * expert and a concat — the same arithmetic, more dispatches.
 *
 * The grouped path gives every expert's weights an exact gradient (zeros for an expert that got
 * no rows); the fallback gives none to such an expert. Its backward always computes dx (a
 * custom gradient cannot tell whether x needs one): 2·S·k·n FLOPs more than the fallback only
 * where nothing below the layer trains, e.g. a MoE layer applied to raw input.
 */
import * as tf from '@tensorflow/tfjs';

/** Whether the active backend runs groupedLinear as grouped kernels. */
export function groupedKernelsAvailable(): boolean {
  const k: tf.KernelConfig | undefined = tf.getKernel('GroupedMatMul', tf.getBackend());
  return k !== undefined;
}

/**
 * x [S, k] with rows grouped by expert → [S, n]. `weights[e]` is [k, n]; `biases` null or one
 * [n] per expert. `counts` sum to S. Differentiable in x, the weights and the biases.
 */
export function groupedLinear(x: tf.Tensor2D, weights: tf.Tensor[], biases: tf.Tensor[] | null, counts: number[]): tf.Tensor2D {
  if (counts.length !== weights.length || (biases !== null && biases.length !== weights.length)) {
    throw new Error(`groupedLinear: ${counts.length} counts for ${weights.length} weights and ${biases?.length ?? 0} biases`);
  }
  if (!groupedKernelsAvailable()) return composed(x, weights, biases, counts);
  const E = weights.length;
  const bias = biases !== null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    const [input, ...rest] = tensors as [tf.Tensor2D, ...tf.Tensor[]];
    const ws = rest.slice(0, E);
    const inputs: tf.NamedTensorMap = { x: input };
    ws.forEach((w, e) => {
      inputs[`w${e}`] = w;
    });
    if (bias) {
      rest.slice(E).forEach((b, e) => {
        inputs[`b${e}`] = b;
      });
    }
    // save() clones what it keeps (an Identity per tensor): variables outlive the step, so only
    // x and any non-variable weights are saved; the rest are read from the closure.
    const transient = ws.map((w) => !(w instanceof tf.Variable));
    save([input, ...ws.filter((_, e) => transient[e])]);
    const value = tf.engine().runKernel('GroupedMatMul', inputs, { counts, transposeB: false, bias }) as tf.Tensor2D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ...kept] = saved as [tf.Tensor2D, ...tf.Tensor[]];
        const dxInputs: tf.NamedTensorMap = { x: dy };
        ws.forEach((w, e) => {
          dxInputs[`w${e}`] = transient[e] ? (kept.shift() as tf.Tensor) : w;
        });
        const dx = tf.engine().runKernel('GroupedMatMul', dxInputs, { counts, transposeB: true, bias: false }) as tf.Tensor;
        const dparams = tf.engine().runKernel('GroupedMatMulGrad', { x: xs, dy }, { counts, bias }) as tf.Tensor[];
        return [dx, ...dparams];
      },
    };
  });
  return op(x, ...weights, ...(biases ?? [])) as tf.Tensor2D;
}

/** The per-expert fallback: split, one matmul (+ bias) per non-empty group, concat. */
function composed(x: tf.Tensor2D, weights: tf.Tensor[], biases: tf.Tensor[] | null, counts: number[]): tf.Tensor2D {
  const active = counts.flatMap((c, e) => (c > 0 ? [[c, e] as const] : []));
  if (active.length === 0) return tf.zeros([0, (weights[0]?.shape[1] as number) ?? 0]);
  const pieces =
    active.length === 1
      ? [x]
      : tf.split(
          x,
          active.map(([c]) => c),
        );
  const outs = active.map(([, e], i) => {
    const y = tf.matMul(pieces[i] as tf.Tensor2D, weights[e] as tf.Tensor2D);
    return biases ? tf.add(y, biases[e] as tf.Tensor) : y;
  });
  return (outs.length === 1 ? outs[0] : tf.concat(outs, 0)) as tf.Tensor2D;
}
