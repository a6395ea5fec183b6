/**
 * Evaluation on the task's fixed held-out set: quality in the task's metric, held-out loss,
 * per-group qualities, and the legibility metrics of that evaluation point (activation
 * sparsity, routing per routed layer, superposition geometry). Expert ablation, run once at
 * the end of a run, re-evaluates with one expert masked at a time.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, Model, RoutingTrace, TaskSpec } from './architecture.ts';
import { thrownMessage } from './errors.ts';
import { checkedForward, RunFailure } from './forward.ts';
import {
  type AblationStats,
  activationSparsity,
  createRoutingAccumulator,
  dominanceNull,
  emptyLegibility,
  expertAblation,
  type RoutingAccumulator,
  superpositionStats,
} from './metrics/index.ts';
import type { Legibility } from './results/record.ts';
import type { Batch, Task, TaskData } from './tasks/types.ts';

export interface Evaluation {
  quality: number;
  evalLoss: number;
  subQualities: Record<string, number>;
  legibility: Legibility;
  /** per held-out example group and score, where the task's scorer gives them (not recorded) */
  examples: { groups: Int32Array; scores: Float64Array } | null;
}

/** Permutations of the ablation's label-blind null (each costs no evaluation). */
export const ABLATION_NULL_PERMUTATIONS = 100;

/** What one held-out batch's forward gave: the output, its routing, and its activations' zero count. */
export interface EvalBatchResult {
  output: tf.Tensor;
  routing: RoutingTrace[];
  sparsity: { zeros: number; total: number };
}

/**
 * The model as evaluation sees it: a checked forward of held-out batch `index` (without its
 * labels), and the feature embedding. The model may live in this process (localEvalModel)
 * or in the confined child (harness/confined/runner.ts), whose outputs arrive as arrays.
 */
export interface EvalModel {
  forwardEval(batch: Batch, index: number, ablate?: ForwardContext['ablate']): EvalBatchResult;
  featureEmbedding?(): tf.Tensor;
}

/** An in-process model, for evaluation. */
export function localEvalModel(model: Model, spec: TaskSpec): EvalModel {
  const embedding = model.featureEmbedding;
  return {
    forwardEval(batch, _index, ablate) {
      const result = checkedForward(model, spec, batch, false, ablate);
      const sparsity = { zeros: 0, total: 0 };
      for (const a of ablate ? [] : (result.activations ?? [])) {
        const s = activationSparsity(a);
        sparsity.zeros += s.zeros;
        sparsity.total += s.total;
      }
      return { output: result.output, routing: result.routing ?? [], sparsity };
    },
    ...(embedding ? { featureEmbedding: () => embedding.call(model) } : {}),
  };
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
export function evaluate(model: EvalModel, task: Task, data: TaskData, ablate?: ForwardContext['ablate']): Evaluation {
  const scorer = data.scorer();
  const sparsity = { zeros: 0, total: 0 };
  const routing = new Map<string, RoutingAccumulator>();
  for (const [index, batch] of data.evalBatches.entries()) {
    tf.tidy(() => {
      const result = model.forwardEval(batch, index, ablate);
      scorer.add(result.output, batch);
      if (ablate) return;
      sparsity.zeros += result.sparsity.zeros;
      sparsity.total += result.sparsity.total;
      for (const trace of result.routing) {
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
  const examples = scorer.examples?.() ?? null;
  if (!Number.isFinite(quality) || !Number.isFinite(evalLoss)) {
    throw new RunFailure(
      'eval',
      `held-out ${task.metric.name} is ${quality} (loss ${evalLoss}): the model's output is not finite`,
      'diverged',
    );
  }
  const legibility = emptyLegibility();
  if (ablate) return { quality, evalLoss, subQualities, legibility, examples };
  legibility.activationSparsity = sparsity.total > 0 ? sparsity.zeros / sparsity.total : null;
  legibility.routing = [...routing.values()].map((acc) => acc.result());
  const embedding = model.featureEmbedding;
  if (task.spec.output.kind === 'reconstruction' && embedding) {
    // tidy: a computed embedding is freed; a variable returned as is stays alive.
    metric('featureEmbedding()', () =>
      tf.tidy(() => {
        legibility.superposition = superpositionStats(embedding());
      }),
    );
  }
  return { quality, evalLoss, subQualities, legibility, examples };
}

/**
 * The expert-ablation matrix of the last routed layer (nearest the output, where experts
 * specialise most), given the unmasked evaluation just made. Null when the model has no
 * routed layer or the task scores fewer than two groups.
 */
export async function ablateExperts(
  modelFor: (ablate: NonNullable<ForwardContext['ablate']>) => Promise<EvalModel>,
  task: Task,
  data: TaskData,
  unmasked: Evaluation,
): Promise<AblationStats | null> {
  const layer = unmasked.legibility.routing.at(-1);
  if (!layer) return null;
  const masked: Evaluation[] = [];
  for (let expert = 0; expert < layer.experts; expert++) {
    const ablate = { layer: layer.layer, expert };
    masked.push(evaluate(await modelFor(ablate), task, data, ablate));
  }
  const maskedExamples = masked.map((m) => m.examples?.scores ?? null);
  const stats = expertAblation(
    layer.layer,
    layer.experts,
    (expert) => (expert === null ? unmasked.subQualities : (masked[expert] as Evaluation).subQualities),
    { higherIsBetter: task.metric.higherIsBetter },
  );
  const scores = maskedExamples.filter((m): m is Float64Array => m !== null);
  if (!stats || !unmasked.examples || scores.length !== layer.experts) return stats;
  const null_ = dominanceNull(unmasked.examples.groups, unmasked.examples.scores, scores, {
    higherIsBetter: task.metric.higherIsBetter,
    permutations: ABLATION_NULL_PERMUTATIONS,
    seed: `ablation-null:${layer.layer}`,
  });
  return { ...stats, dominanceNull: { ...null_, method: 'held-out group labels permuted (label-blind groups of the same sizes)' } };
}
