/**
 * Model FLOPs: the analytic count, Kaplan et al. (2001.08361) style — a training step costs
 * 6 FLOPs per active parameter per example (token), plus 6·n_layer·n_ctx·d_attn per token
 * for attention scores and mixing (3 × the forward 2·n_layer·n_ctx·d_attn).
 */
import type { Model, ModelCost, TaskSpec } from '../architecture.ts';
import type { OwnedBuildContext } from '../build-context.ts';

/** Total trainable parameters and the active ones (declared, or all but embedding tables). */
export function paramCounts(model: Model, ctx: OwnedBuildContext): { total: number; active: number } {
  const total = model.variables.reduce((n, v) => n + v.size, 0);
  const embeddings = new Set(ctx.created.filter((c) => c.init === 'embedding').map((c) => c.variable));
  const nonEmbedding = model.variables.filter((v) => !embeddings.has(v)).reduce((n, v) => n + v.size, 0);
  return { total, active: model.cost?.activeParams ?? nonEmbedding };
}

export function modelFlopsPerStep(spec: TaskSpec, batchSize: number, activeParams: number, cost: ModelCost | undefined): number {
  const tokensPerExample = spec.input.kind === 'tokens' ? spec.input.length : 1;
  const tokens = batchSize * tokensPerExample;
  const attention = cost?.attention ? 6 * cost.attention.layers * cost.attention.context * cost.attention.dim : 0;
  return tokens * (6 * activeParams + attention);
}
