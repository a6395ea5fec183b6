/**
 * Evaluation on the task's fixed held-out set: quality in the task's metric, held-out loss,
 * per-group qualities, and the legibility metrics of that evaluation point (activation
 * sparsity, routing per routed layer, superposition geometry). Expert ablation, run once at
 * the end of a run, re-evaluates with one expert masked at a time.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, Model } from './architecture.ts';
import { thrownMessage } from './errors.ts';
import { checkedForward, RunFailure } from './forward.ts';
import {
  type AblationStats,
  activationSparsity,
  createRoutingAccumulator,
  emptyLegibility,
  expertAblation,
  type RoutingAccumulator,
  superpositionStats,
} from './metrics/index.ts';
import type { Legibility } from './results/record.ts';
import type { Task, TaskData } from './tasks/types.ts';

export interface Evaluation {
  quality: number;
  evalLoss: number;
  subQualities: Record<string, number>;
  legibility: Legibility;
}

/** Run `fn`; a metric that cannot be computed from what the model returned is the model's failure. */
function metric<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RunFailure) throw e;
    throw new RunFailure('eval', `${what}: ${thrownMessage(e)} — fix what forward() reports there (see RoutingTrace in the README)`);
  }
}

/** One pass over the held-out set. With `ablate`, only quality is computed (no legibility). */
export function evaluate(model: Model, task: Task, data: TaskData, ablate?: ForwardContext['ablate']): Evaluation {
  const scorer = data.scorer();
  const sparsity = { zeros: 0, total: 0 };
  const routing = new Map<string, RoutingAccumulator>();
  for (const batch of data.evalBatches) {
    tf.tidy(() => {
      const result = checkedForward(model, task.spec, batch, false, ablate);
      scorer.add(result.output, batch);
      if (ablate) return;
      for (const a of result.activations ?? []) {
        const s = activationSparsity(a);
        sparsity.zeros += s.zeros;
        sparsity.total += s.total;
      }
      for (const trace of result.routing ?? []) {
        metric(`routing trace of layer '${trace.layer}'`, () => {
          let acc = routing.get(trace.layer);
          if (!acc) {
            acc = createRoutingAccumulator(trace.layer, trace.experts, task.spec.groups.count);
            routing.set(trace.layer, acc);
          }
          acc.add(trace, batch.groups);
        });
      }
    });
  }
  const { quality, evalLoss, subQualities } = scorer.result();
  if (!Number.isFinite(quality) || !Number.isFinite(evalLoss)) {
    throw new RunFailure(
      'eval',
      `held-out ${task.metric.name} is ${quality} (loss ${evalLoss}): the model's output is not finite`,
      'diverged',
    );
  }
  const legibility = emptyLegibility();
  if (ablate) return { quality, evalLoss, subQualities, legibility };
  legibility.activationSparsity = sparsity.total > 0 ? sparsity.zeros / sparsity.total : null;
  legibility.routing = [...routing.values()].map((acc) => acc.result());
  const embedding = model.featureEmbedding;
  if (task.spec.output.kind === 'reconstruction' && embedding) {
    // tidy: a computed embedding is freed; a variable returned as is stays alive.
    metric('featureEmbedding()', () =>
      tf.tidy(() => {
        legibility.superposition = superpositionStats(embedding.call(model));
      }),
    );
  }
  return { quality, evalLoss, subQualities, legibility };
}

/**
 * The expert-ablation matrix of the last routed layer (nearest the output, where experts
 * specialise most), given the unmasked evaluation just made. Null when the model has no
 * routed layer or the task scores fewer than two groups.
 */
export function ablateExperts(model: Model, task: Task, data: TaskData, unmasked: Evaluation): AblationStats | null {
  const layer = unmasked.legibility.routing.at(-1);
  if (!layer) return null;
  return expertAblation(
    layer.layer,
    layer.experts,
    (expert) => (expert === null ? unmasked.subQualities : evaluate(model, task, data, { layer: layer.layer, expert }).subQualities),
    { higherIsBetter: task.metric.higherIsBetter },
  );
}
