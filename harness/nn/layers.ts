/**
 * Building blocks for architectures, part of the public API: the baselines are made of
 * these, and a submitter may use them or write their own.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext } from '../architecture.ts';

export interface Linear {
  weight: tf.Variable;
  bias: tf.Variable | null;
  inDim: number;
  outDim: number;
  /** x [..., inDim] → [..., outDim] */
  apply(x: tf.Tensor): tf.Tensor;
}

/** y = x·W + b over the last axis, for inputs of any rank. */
export function linear(
  ctx: BuildContext,
  name: string,
  inDim: number,
  outDim: number,
  options: { bias?: boolean; init?: 'glorot' | 'he' | { normal: number } } = {},
): Linear {
  const weight = ctx.variable(`${name}.w`, [inDim, outDim], options.init ?? 'glorot');
  const bias = options.bias === false ? null : ctx.variable(`${name}.b`, [outDim], 'zeros');
  return {
    weight,
    bias,
    inDim,
    outDim,
    apply(x) {
      const flat = x.rank === 2 ? (x as tf.Tensor2D) : x.reshape([-1, inDim]);
      let y: tf.Tensor = tf.matMul(flat, weight);
      if (bias) y = tf.add(y, bias);
      return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outDim]);
    },
  };
}

export interface LayerNorm {
  apply(x: tf.Tensor): tf.Tensor;
}

/**
 * Whether the active backend has the fused kernel `name` (kernels/fused-elementwise.ts registers
 * them on wasm+libxsmm): the ops below then run one kernel forward and one backward, and the
 * composite tfjs ops elsewhere. The FLOP ledger charges both the same.
 */
function fused(name: string, ...xs: tf.Tensor[]): boolean {
  return xs.every((x) => x.dtype === 'float32') && tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Layer normalisation over the last axis with learned gain and bias. */
export function layerNorm(ctx: BuildContext, name: string, dim: number, epsilon = 1e-5): LayerNorm {
  const gain = ctx.variable(`${name}.g`, [dim], 'ones');
  const bias = ctx.variable(`${name}.b`, [dim], 'zeros');
  return {
    apply(x) {
      if (fused('FusedLayerNorm', x)) {
        const [y, mean, rstd] = tf.engine().runKernel('FusedLayerNorm', { x, gain, bias }, { epsilon }) as tf.Tensor[];
        tf.dispose([mean, rstd]); // the tape keeps its own references for the backward pass
        return y as tf.Tensor;
      }
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gain), bias);
    },
  };
}

export interface Embedding {
  table: tf.Variable;
  /** int32 ids [...] → [..., dim] */
  apply(ids: tf.Tensor): tf.Tensor;
}

export function embedding(ctx: BuildContext, name: string, vocab: number, dim: number): Embedding {
  const table = ctx.variable(`${name}.table`, [vocab, dim], 'embedding');
  return {
    table,
    apply(ids) {
      const flat = ids.reshape([-1]);
      return tf.gather(table, flat).reshape([...ids.shape, dim]);
    },
  };
}

export interface Attention {
  /** x [batch, length, dim] → [batch, length, dim] */
  apply(x: tf.Tensor3D): tf.Tensor3D;
}

/** Multi-head causal self-attention (GPT-2 style, one fused QKV projection). */
export function causalSelfAttention(ctx: BuildContext, name: string, dim: number, heads: number, length: number): Attention {
  if (dim % heads !== 0) throw new Error(`${name}: dim ${dim} is not divisible by heads ${heads}`);
  const headDim = dim / heads;
  const qkv = linear(ctx, `${name}.qkv`, dim, 3 * dim);
  const proj = linear(ctx, `${name}.proj`, dim, dim);
  // -1e9 above the diagonal: position t never sees t' > t.
  const mask = ctx.constant(tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([length, length]), -1, 0)), -1e9)));
  const scale = 1 / Math.sqrt(headDim);
  return {
    apply(x) {
      const [batch, len] = x.shape;
      const split = (t: tf.Tensor) => t.reshape([batch, len, heads, headDim]).transpose([0, 2, 1, 3]);
      const [q, k, v] = tf.split(qkv.apply(x), 3, -1).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const logits = tf.matMul(q, k, false, true);
      const causal = mask.slice([0, 0], [len, len]);
      const probs = fused('FusedMaskedSoftmax', logits)
        ? (tf.engine().runKernel('FusedMaskedSoftmax', { x: logits, mask: causal }, { scale }) as tf.Tensor)
        : tf.softmax(tf.add(tf.mul(logits, scale), causal));
      const attended = tf.matMul(probs, v);
      const merged = attended.transpose([0, 2, 1, 3]).reshape([batch, len, dim]);
      return proj.apply(merged) as tf.Tensor3D;
    },
  };
}

/** GELU, tanh approximation (GPT-2). x·x·x rather than pow(x, 3): Pow is slow on wasm. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fused('FusedGelu', x)) return tf.engine().runKernel('FusedGelu', { x }) as tf.Tensor;
  const cube = tf.mul(x, tf.square(x));
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, cube)));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}
