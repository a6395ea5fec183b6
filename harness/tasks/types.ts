/**
 * What a task is: fixed data from a seed, a fixed train/held-out split, a loss, a quality
 * metric, and per-tier sizes and budgets. Tasks never import the meters or the store.
 */
import type * as tf from '@tensorflow/tfjs';
import type { SizeSpec, TaskSpec } from '../architecture.ts';
import type { QualityMetric, TierName } from './tiers.ts';

/** One batch: inputs, targets and the per-example group label used by the metrics. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  /** int32 [batch] or [batch, length]: the label of TaskSpec.groups */
  groups: tf.Tensor;
}

export interface TierSettings {
  size: SizeSpec;
  batchSize: number;
  /** executed training FLOPs at which training stops */
  budgetFlops: number;
  /** evaluations after step 0, log-spaced from 1% of the budget to the end (see evaluationGrid in train.ts) */
  evalPoints: number;
  /** peak learning rate of the harness's Adam; warm-up then cosine decay over the budget */
  learningRate: number;
  /** a run past this many training seconds is stopped and recorded as 'timeout' */
  timeLimitSeconds: number;
  /** seeds the standard suite runs */
  seeds: number;
  /** the quality a run must reach and keep (cost-to-target); null where none is set yet, with the reason */
  target: QualityTarget | { value: null; reason: string };
}

/** A fixed quality target, as AlgoPerf and MLPerf fix theirs: set once from the dense baseline's runs. */
export interface QualityTarget {
  /** in the task's metric; reached when at least as good, in the metric's direction */
  value: number;
  /** how it was set, and from which runs */
  basis: string;
}

/** What a task's verdicts need besides the target: stated in advance, not read off the results. */
export interface TaskStatistics {
  /** "comes close": two qualities within ± this (metric units) are shown equivalent by TOST */
  equivalenceMargin: number;
  /** why that margin */
  marginBasis: string;
  /** the held-out set: its size and the standard error of the quality it gives (metric units) */
  testSet: { size: number; unit: string; standardError: number | null; basis: string };
}

export interface Scorer {
  /** add one held-out batch's model output */
  add(output: tf.Tensor, batch: Batch): void;
  result(): { quality: number; evalLoss: number; subQualities: Record<string, number> };
  /**
   * Per held-out example, in evaluation order: its group and its score (1/0 correct for
   * classification). Optional: null tests over examples (the ablation null) need it.
   */
  examples?(): { groups: Int32Array; scores: Float64Array };
}

export interface TaskData {
  /** the next training batch of a deterministic stream (seeded by the run's seed) */
  nextTrainBatch(batchSize: number): Batch;
  /** the fixed held-out set, in batches; kept alive until dispose() */
  evalBatches: Batch[];
  /** the task loss the optimizer minimises (mean over the batch) */
  loss(output: tf.Tensor, batch: Batch): tf.Scalar;
  scorer(): Scorer;
  dispose(): void;
}

export interface Task {
  spec: TaskSpec;
  title: string;
  /** one paragraph: what it tests and where it comes from */
  description: string;
  metric: QualityMetric;
  tiers: Record<TierName, TierSettings>;
  /** figures that put the metric in context, e.g. the best loss without superposition */
  references: Record<string, { value: number; meaning: string }>;
  /** equivalence margin and test-set standard error, for the findings' verdicts and /methods */
  statistics: TaskStatistics;
  /**
   * Build the data. `runSeed` orders training batches; `dataSeed` fixes the task itself
   * (which bits form each parity, the held-out set); a maintainer's held-out variant
   * changes `dataSeed`. `split` defaults to 'test'.
   */
  load(opts: { runSeed: number; dataSeed: number; split?: EvalSplit }): TaskData;
}

/**
 * Which held-out set `evalBatches` holds: 'test' (the task's fixed held-out split, what
 * records report) or 'validation' (carved from the training data, for tuning: the test
 * split is never read, and training does not see the validation examples).
 */
export type EvalSplit = 'test' | 'validation';

/** Share of a finite training set (mnist's digits, charlm's text) held back as the validation split. */
export const VALIDATION_SHARE = 0.125;

/** Everything about a task but its data: what the site and /methods may import. */
export type TaskInfo = Omit<Task, 'load'>;
