/**
 * Gradient routing (Cloud et al. 2024, arXiv 2410.04332): a data-dependent mask on the
 * backward pass, x ← m⊙x + (1−m)⊙stopgrad(x). The forward value is unchanged; each example
 * sends gradient only through the units its mask keeps, so the weights feeding the other
 * units are not updated by it.
 *
 * Why in the forward pass and not `Model.gradientMask`: that mask multiplies the gradient
 * after it has been summed over the batch, so it cannot tell one example's contribution
 * from another's; a per-example mask has to act before the sum, on the activations.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext } from '../architecture.ts';

/** Forward: x. Backward: dy ⊙ mask (mask broadcasts against x). */
export function routeGradient(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([mask]); // the tape frees the forward's tensors; keep the mask for the backward pass
    return {
      value: tf.clone(input as tf.Tensor),
      gradFunc: (dy, saved) => tf.mul(dy as tf.Tensor, saved[0] as tf.Tensor),
    };
  });
  return op(x);
}

export interface BlockMasks {
  /** number of routed blocks */
  blocks: number;
  /** units every example updates (the first `shared` units) */
  shared: number;
  /** which block group g updates: g mod blocks */
  blockOf(group: number): number;
  /** int32 group labels [...] → float32 0/1 masks [..., width]: the shared units and the label's block */
  masks(groups: tf.Tensor): tf.Tensor;
}

/**
 * The first `shared` of `width` units are updated by every example; the rest are split into
 * `blocks` contiguous blocks (sizes differ by at most one) and group g updates block g mod
 * blocks. The table is a model constant.
 */
export function blockMasks(ctx: BuildContext, width: number, blocks: number, shared = 0): BlockMasks {
  if (!Number.isInteger(shared) || shared < 0 || shared >= width) {
    throw new RangeError(`blockMasks: shared must be an integer in [0, ${width - 1}], got ${shared}`);
  }
  const routed = width - shared;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > routed) {
    throw new RangeError(`blockMasks: blocks must be an integer in [1, ${routed}] (the ${routed} routed units), got ${blocks}`);
  }
  const table = new Float32Array(blocks * width);
  for (let b = 0; b < blocks; b++) for (let u = 0; u < shared; u++) table[b * width + u] = 1;
  for (let u = 0; u < routed; u++) table[Math.floor((u * blocks) / routed) * width + shared + u] = 1;
  const masks = ctx.constant(tf.tensor2d(table, [blocks, width]));
  return {
    blocks,
    shared,
    blockOf: (g) => g % blocks,
    masks: (groups) => tf.tidy(() => tf.gather(masks, tf.mod(groups.toInt(), tf.scalar(blocks, 'int32')))),
  };
}
