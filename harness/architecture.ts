/**
 * The public Architecture API: everything a submitter writes against.
 *
 * The harness owns the data, the loss, the optimizer, the schedule and the FLOP budget;
 * an architecture owns the model. A submission is one module whose default export is
 * `defineArchitecture({...})`. Nothing here imports the harness's meters or store.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

/** What goes into a model. */
export type InputSpec = { kind: 'vector'; dim: number } | { kind: 'tokens'; length: number; vocab: number };

/** What a model must return as `output`, and how the harness scores it. */
export type OutputSpec =
  /** logits of shape [batch, count]; scored by softmax cross-entropy */
  | { kind: 'classes'; count: number }
  /** values of shape [batch, dim]; scored by importance-weighted squared error */
  | { kind: 'reconstruction'; dim: number }
  /** logits of shape [batch, length, vocab] for the next token at every position */
  | { kind: 'next-token'; vocab: number };

export interface TaskSpec {
  /** task id, e.g. 'mnist' */
  id: string;
  input: InputSpec;
  output: OutputSpec;
  /**
   * True when position t may only see positions ≤ t (language modelling). Routing that
   * looks across the batch or the sequence (Expert Choice, Soft MoE) is refused here.
   */
  causal: boolean;
  /**
   * The label whose relation to routing the legibility metrics measure (class, subtask
   * id, character) and how many values it takes.
   */
  groups: { name: string; count: number };
}

/** The size a tier allows for a task. Caps are enforced before training starts. */
export interface SizeSpec {
  /** hidden width (model dimension for transformers) */
  width: number;
  /** number of hidden layers or transformer blocks */
  depth: number;
  /** attention heads, for sequence tasks */
  heads: number;
  /** cap on the total parameter count */
  maxParams: number;
  /** cap on the parameters any one example (token) passes through */
  maxActiveParams: number;
}

/** Which experts took which examples in one routed layer, for the legibility metrics. */
export interface RoutingTrace {
  /** a stable name for the layer, e.g. 'block0.moe' */
  layer: string;
  /** number of experts in the layer */
  experts: number;
  /** int32 [examples, k]: the experts chosen for each example (token), best first */
  assignment: tf.Tensor;
  /** float32 [examples, experts]: router probabilities, if the router has them */
  probabilities?: tf.Tensor;
}

export interface ForwardContext {
  /** true during training steps, false during evaluation */
  training: boolean;
  /**
   * int32 [batch] (or [batch, length]): the group label of each example (see TaskSpec.groups),
   * for gradient routing. Training steps only: an evaluation never gets labels.
   */
  groups?: tf.Tensor;
  /**
   * Expert ablation (evaluation only): in the routed layer whose RoutingTrace.layer is
   * `layer`, expert `expert` gives zero output, as if its examples were dropped; routing is
   * unchanged. Layers without routing ignore it.
   */
  ablate?: { layer: string; expert: number };
}

export interface ForwardResult {
  /** shape set by TaskSpec.output (see OutputSpec) */
  output: tf.Tensor;
  /** added to the task loss during training: load balancing, z-loss */
  auxLoss?: tf.Scalar;
  /** one entry per routed layer */
  routing?: RoutingTrace[];
  /** hidden activations, for activation-sparsity metrics */
  activations?: tf.Tensor[];
}

/** What a model's FLOPs are, analytically (the "model FLOPs", Kaplan/Chinchilla style). */
export interface ModelCost {
  /**
   * Parameters one example (token) passes through, excluding embedding-table lookups.
   * Defaults to every trainable parameter that is not an embedding table.
   */
  activeParams?: number;
  /** attention layers, for the 2·n_layer·n_ctx·d_attn term per token */
  attention?: { layers: number; context: number; dim: number };
}

export interface Model {
  /** what the optimizer may update */
  variables: tf.Variable[];
  forward(x: tf.Tensor, ctx: ForwardContext): ForwardResult;
  /**
   * Optional segmented updates: a 0/1 (or soft) mask per variable, multiplied into its
   * gradient before the optimizer sees it. Variables absent from the map update freely.
   * The gradient it masks is already summed over the batch; to confine each example's
   * update to its own block, mask inside forward() instead (see baselines/gradient-routed).
   */
  gradientMask?(batch: { x: tf.Tensor; groups: tf.Tensor }): Map<tf.Variable, tf.Tensor>;
  /**
   * Reconstruction (superposition) tasks: the [features, hidden] matrix that embeds each input
   * feature in the bottleneck, read for the dimensions-per-feature metrics. Without it they
   * are recorded as not measured.
   */
  featureEmbedding?(): tf.Tensor;
  /** analytic cost; see ModelCost */
  cost?: ModelCost;
  /** the hyper-parameters that define this instance, recorded with every run */
  hyperparameters?: Record<string, string | number | boolean>;
}

export type Family = 'dense' | 'moe' | 'hybrid' | 'other';

/**
 * The knobs a sweep may set on an architecture (`middlepath run --set experts=16`), validated
 * by the harness and recorded with the run. Each is undefined unless set: the architecture
 * then uses its own default. An architecture reads only the knobs it declares in
 * `ArchitectureDefinition.knobs`; the harness refuses to set any other.
 */
export interface ArchitectureKnobs {
  /** routed experts E; 1 means the routed scaffold with one expert (the like-for-like dense control) */
  experts?: number;
  /** granularity G: G× more experts, each G× narrower, G× as many chosen per example, so active parameters stay equal */
  granularity?: number;
}

/** The names of ArchitectureKnobs, for validation. */
export const ARCHITECTURE_KNOB_NAMES = ['experts', 'granularity'] as const satisfies ReadonlyArray<keyof ArchitectureKnobs>;

/** Everything `build` gets besides the task and size: seeded initialisers and the run's knobs. */
export interface BuildContext {
  seed: number;
  /** the knobs this run sets (only those the architecture declares); {} in the standard suite */
  knobs: Readonly<ArchitectureKnobs>;
  /**
   * A trainable variable with a seeded initialiser. Use it for every weight so that the
   * same seed gives the same model. Names must be unique within the model.
   */
  variable(name: string, shape: number[], init: Initializer): tf.Variable;
  /** a deterministic uniform [0, 1) stream derived from the seed */
  random(): number;
  /** keep a non-trainable tensor (a mask, a fixed hash table) for the model's life; disposed with it */
  constant<T extends tf.Tensor>(tensor: T): T;
  /** every variable created through `variable`, in creation order: usually Model.variables */
  variables(): tf.Variable[];
}

export type Initializer =
  | 'zeros'
  | 'ones'
  /** Glorot/Xavier uniform over the last two dimensions */
  | 'glorot'
  /** He normal, for ReLU layers */
  | 'he'
  | { normal: number }
  | { uniform: number }
  /** an embedding table: normal(0, 1/sqrt(dim)); excluded from model FLOPs */
  | 'embedding';

export interface ArchitectureDefinition {
  /** unique and URL-safe: lower-case letters, digits and dashes */
  name: string;
  family: Family;
  /** one or two sentences; shown on the leaderboard */
  description: string;
  /** where the idea comes from (paper, arXiv id), if anywhere */
  reference?: string;
  /**
   * Return a reason to refuse a task (e.g. non-causal routing on a causal task),
   * or undefined to accept it.
   */
  refuse?(task: TaskSpec): string | undefined;
  /**
   * Baselines only: 'matched-total' marks a dense control sized to a MoE's *total* parameters,
   * which may exceed the tier's active-parameter cap (never the total cap). The FLOP budget
   * still binds it: it pays for every parameter on every example. A module outside baselines/
   * that sets it is refused.
   */
  control?: 'matched-total';
  /** the knobs build() reads from ctx.knobs (e.g. ['experts', 'granularity']); setting any other is refused */
  knobs?: ReadonlyArray<keyof ArchitectureKnobs>;
  build(task: TaskSpec, size: SizeSpec, ctx: BuildContext): Model;
}

export interface Architecture extends ArchitectureDefinition {
  readonly kind: 'middlepath.architecture';
}

const definitionShape = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'name must be lower-case letters, digits and dashes (at most 63)'),
  family: z.enum(['dense', 'moe', 'hybrid', 'other']),
  description: z.string().min(1, 'description must not be empty').max(500),
  reference: z.string().max(300).optional(),
  control: z.literal('matched-total').optional(),
  knobs: z.array(z.enum(ARCHITECTURE_KNOB_NAMES)).optional(),
  refuse: z.custom<unknown>((v) => typeof v === 'function', 'refuse must be a function').optional(),
  build: z.custom<unknown>((v) => typeof v === 'function', 'build must be a function (task, size, ctx) => Model'),
});

/** Declare an architecture. Checks the declaration's shape at once so mistakes surface early. */
export function defineArchitecture(def: ArchitectureDefinition): Architecture {
  const parsed = definitionShape.safeParse(def);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TypeError(`defineArchitecture: ${issues.join('; ')}`);
  }
  return Object.freeze({ ...def, kind: 'middlepath.architecture' as const });
}

export function isArchitecture(value: unknown): value is Architecture {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'middlepath.architecture' &&
    typeof (value as { build?: unknown }).build === 'function'
  );
}
