/**
 * Size caps per tier, derived from the dense reference at that size. Active parameters may
 * exceed the reference by a quarter (routers, gates, a shared expert); total parameters by
 * 16× (room for 8+ experts). Comparisons at matched active *and* total parameters are made
 * with the matching baselines, not by the caps.
 */
import type { SizeSpec } from '../architecture.ts';

export const ACTIVE_HEADROOM = 1.25;
export const TOTAL_HEADROOM = 16;

/** Caps at `headroom` × the dense reference's parameters (a sweep may state its own headroom: harness/knobs.ts). */
export function capped(
  width: number,
  depth: number,
  heads: number,
  reference: number,
  headroom: { total: number; active: number } = { total: TOTAL_HEADROOM, active: ACTIVE_HEADROOM },
): SizeSpec {
  return { width, depth, heads, maxParams: Math.ceil(headroom.total * reference), maxActiveParams: Math.ceil(headroom.active * reference) };
}

/** Parameters of the dense MLP reference. */
export function mlpReference(inDim: number, outDim: number, width: number, depth: number): number {
  return inDim * width + (depth - 1) * width * width + width * outDim + depth * width + outDim;
}

/** Parameters of the dense pre-LN transformer reference. */
export function transformerReference(vocab: number, context: number, width: number, depth: number): number {
  return depth * (12 * width * width + 13 * width) + 2 * vocab * width + context * width + 2 * width + vocab;
}

/** An MLP of `depth` hidden layers of `width` between inDim and outDim, with biases. */
export function mlpSize(inDim: number, outDim: number, width: number, depth: number): SizeSpec {
  return capped(width, depth, 0, mlpReference(inDim, outDim, width, depth));
}

/** A pre-LN transformer: attention 4d² + FFN 8d² per block, embeddings, positions and head. */
export function transformerSize(vocab: number, context: number, width: number, depth: number, heads: number): SizeSpec {
  return capped(width, depth, heads, transformerReference(vocab, context, width, depth));
}
