/**
 * Size caps per tier, derived from the dense reference at that size. Active parameters may
 * exceed the reference by a quarter (routers, gates, a shared expert); total parameters by
 * 16× (room for 8+ experts). Comparisons at matched active *and* total parameters are made
 * with the matching baselines, not by the caps.
 */
import type { SizeSpec } from '../architecture.ts';

export const ACTIVE_HEADROOM = 1.25;
export const TOTAL_HEADROOM = 16;

function capped(width: number, depth: number, heads: number, reference: number): SizeSpec {
  return { width, depth, heads, maxParams: Math.ceil(TOTAL_HEADROOM * reference), maxActiveParams: Math.ceil(ACTIVE_HEADROOM * reference) };
}

/** An MLP of `depth` hidden layers of `width` between inDim and outDim, with biases. */
export function mlpSize(inDim: number, outDim: number, width: number, depth: number): SizeSpec {
  const reference = inDim * width + (depth - 1) * width * width + width * outDim + depth * width + outDim;
  return capped(width, depth, 0, reference);
}

/** A pre-LN transformer: attention 4d² + FFN 8d² per block, embeddings, positions and head. */
export function transformerSize(vocab: number, context: number, width: number, depth: number, heads: number): SizeSpec {
  const perBlock = 12 * width * width + 13 * width;
  const reference = depth * perBlock + 2 * vocab * width + context * width + 2 * width + vocab;
  return capped(width, depth, heads, reference);
}
