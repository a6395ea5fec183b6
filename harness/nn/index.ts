export { type Attention, causalSelfAttention, type Embedding, embedding, gelu, type LayerNorm, layerNorm, type Linear, linear } from './layers.ts';
