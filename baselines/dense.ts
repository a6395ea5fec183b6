/**
 * dense — the reference every other architecture is compared against.
 *
 * Vector tasks: an MLP of `depth` hidden ReLU layers of `width` units. Reconstruction
 * tasks use the Toy-Models-of-Superposition shape instead: a linear bottleneck of `width`
 * and a ReLU on the output (Elhage et al. 2022), with untied weights.
 * Token tasks: a pre-LayerNorm GPT-2-style transformer (Radford et al. 2019) of `depth`
 * blocks, `heads` heads, model width `width`, FFN 4·width with GELU, learned positions.
 *
 * Written only against the public API, exactly as a submission would be.
 */
import * as tf from '@tensorflow/tfjs';
import { type BuildContext, defineArchitecture, type Model, nn, type SizeSpec, type TaskSpec } from 'middlepath';

function mlp(task: TaskSpec, size: SizeSpec, ctx: BuildContext): Model {
  if (task.input.kind !== 'vector') throw new Error('mlp needs vector input');
  const outDim = task.output.kind === 'classes' ? task.output.count : task.output.kind === 'reconstruction' ? task.output.dim : 0;
  const reconstruction = task.output.kind === 'reconstruction';
  const layers: nn.Linear[] = [];
  let inDim = task.input.dim;
  for (let i = 0; i < size.depth; i++) {
    layers.push(nn.linear(ctx, `hidden${i}`, inDim, size.width, { init: reconstruction ? 'glorot' : 'he', bias: !reconstruction }));
    inDim = size.width;
  }
  const head = nn.linear(ctx, 'out', inDim, outDim);
  return {
    variables: ctx.variables(),
    forward(x) {
      const activations: tf.Tensor[] = [];
      let h = x;
      for (const layer of layers) {
        h = reconstruction ? layer.apply(h) : tf.relu(layer.apply(h));
        activations.push(h);
      }
      const out = head.apply(h);
      return { output: reconstruction ? tf.relu(out) : out, activations };
    },
    // the toy model's W: row i embeds feature i in the bottleneck
    ...(reconstruction ? { featureEmbedding: () => (layers[0] as nn.Linear).weight } : {}),
    hyperparameters: { kind: reconstruction ? 'bottleneck' : 'mlp', width: size.width, depth: size.depth },
  };
}

function transformer(task: TaskSpec, size: SizeSpec, ctx: BuildContext): Model {
  if (task.input.kind !== 'tokens' || task.output.kind !== 'next-token') throw new Error('transformer needs token input');
  const { length, vocab } = task.input;
  const d = size.width;
  const tokens = nn.embedding(ctx, 'tokens', vocab, d);
  const positions = nn.embedding(ctx, 'positions', length, d);
  const positionIds = ctx.constant(tf.range(0, length, 1, 'int32'));
  const blocks = Array.from({ length: size.depth }, (_, i) => ({
    norm1: nn.layerNorm(ctx, `block${i}.norm1`, d),
    attention: nn.causalSelfAttention(ctx, `block${i}.attn`, d, size.heads, length),
    norm2: nn.layerNorm(ctx, `block${i}.norm2`, d),
    up: nn.linear(ctx, `block${i}.ffn.up`, d, 4 * d),
    down: nn.linear(ctx, `block${i}.ffn.down`, 4 * d, d),
  }));
  const finalNorm = nn.layerNorm(ctx, 'norm', d);
  const head = nn.linear(ctx, 'head', d, task.output.vocab);
  return {
    variables: ctx.variables(),
    forward(x) {
      const activations: tf.Tensor[] = [];
      let h = tf.add(tokens.apply(x), positions.apply(positionIds.slice(0, x.shape[1]))) as tf.Tensor3D;
      for (const b of blocks) {
        h = tf.add(h, b.attention.apply(b.norm1.apply(h) as tf.Tensor3D));
        const hidden = nn.gelu(b.up.apply(b.norm2.apply(h)));
        activations.push(hidden);
        h = tf.add(h, b.down.apply(hidden));
      }
      return { output: head.apply(finalNorm.apply(h)), activations };
    },
    cost: { attention: { layers: size.depth, context: length, dim: d } },
    hyperparameters: { kind: 'transformer', width: d, depth: size.depth, heads: size.heads, ffn: 4 * d },
  };
}

export default defineArchitecture({
  name: 'dense',
  family: 'dense',
  description: 'Dense baseline: an MLP (a linear bottleneck for reconstruction) on vector tasks, a pre-LN GPT-2-style transformer on text.',
  reference: 'Elhage et al. 2022 (toy bottleneck); Radford et al. 2019 (GPT-2)',
  build: (task, size, ctx) => (task.input.kind === 'tokens' ? transformer(task, size, ctx) : mlp(task, size, ctx)),
});
