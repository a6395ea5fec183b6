/**
 * Messages between the trusted harness process and the confined child that runs an
 * architecture (harness/confined/child.ts), over two private pipes (channel.ts), serialized
 * with v8's structured clone (typed arrays cross as binary, not JSON; a batch's values raw).
 * One request, one reply. What the parent sends is typed here; what the child sends back
 * is parsed with these zod schemas, because the child runs submitted code and anything it
 * says is a claim to check, not a fact.
 */
import { z } from 'zod';
import { ARCHITECTURE_KNOB_NAMES, type ArchitectureKnobs, type SizeSpec, type TaskSpec } from '../architecture.ts';

/** A tensor as it crosses the boundary: its values and its shape. */
export interface WireTensor<T extends Float32Array | Int32Array = Float32Array | Int32Array> {
  data: T;
  shape: number[];
}

/**
 * A tensor whose values travel raw after the request's message (channel.ts), `offset` bytes
 * into them: a step's batch, read into the child's reused buffer without a copy on either side.
 */
export interface RawTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
}

/** Backends a confined child may run: the addon-free ones, and wasm+blas for trusted (baseline) code only. */
/** The phase of a run a request serves: what a failure while answering it is named for. */
export const phaseOf = (m: ToConfined): 'build' | 'train' | 'eval' => (m.type === 'step' ? 'train' : m.type === 'eval' ? 'eval' : 'build');

export const CONFINED_BACKENDS = ['wasm', 'cpu', 'wasm+blas', 'wasm+libxsmm'] as const;
export type ConfinedBackend = (typeof CONFINED_BACKENDS)[number];

export type ToConfined =
  /** import the module and say what it declares (planning a suite, before any run) */
  | { type: 'describe'; moduleUrl: string }
  | {
      type: 'init';
      /** file URL of the bundled module */
      moduleUrl: string;
      /** the module as the submitter named it (its path): what refusals name */
      moduleLabel: string;
      backend: ConfinedBackend;
      /** node_modules/@tensorflow/tfjs-backend-wasm/dist/ (the .wasm files), read by the wasm backend */
      wasmDir: string;
      spec: TaskSpec;
      size: SizeSpec;
      seed: number;
      /** prefix of variable names (the run id) */
      scope: string;
      learningRate: number;
      /** the run's architecture knobs (ctx.knobs; {} in the standard suite), checked again in the child */
      knobs: ArchitectureKnobs;
      /** the held-out inputs, once (never their labels): evaluations then name no data */
      evalInputs: WireTensor[];
    }
  | { type: 'build' }
  /** one training step on the batch handed over last */
  | {
      type: 'step';
      step: number;
      learningRate: number;
      /** measure the share of parameters this step moved (sampled steps only) */
      sample: boolean;
      /** the step's batch, handed over in the same request (its values raw, after the message): one round trip a step, on the clock */
      batch: { x: RawTensor; y: RawTensor; groups: RawTensor };
    }
  | { type: 'eval'; ablate?: { layer: string; expert: number } };

const float32 = z.custom<Float32Array>((v) => v instanceof Float32Array, 'a Float32Array');
const int32 = z.custom<Int32Array>((v) => v instanceof Int32Array, 'an Int32Array');
const shape = z.array(z.number().int().nonnegative()).max(8);
const wireFloat = z.object({ data: float32, shape });
const wireInt = z.object({ data: int32, shape });
const count = z.number().finite().nonnegative();

/** The child's kernel ledger for one request: what its FLOP counter saw. */
export const ledger = z.object({
  total: count,
  calls: count,
  byKind: z.object({ matmul: count, conv: count, elementwise: count, reduction: count, softmax: count, movement: count }),
  /** tensor values the architecture's code read back into JavaScript (the harness's own reads excluded) */
  readbacks: z.object({ calls: count, bytes: count }),
});
export type Ledger = z.infer<typeof ledger>;

const definition = z.object({
  name: z.string().max(200),
  family: z.string().max(40),
  description: z.string().max(2000),
  reference: z.string().max(1000).nullable(),
  control: z.literal('matched-total').nullable(),
  /** the knobs build() reads (ctx.knobs): what a sweep may set on it */
  knobs: z.array(z.enum(ARCHITECTURE_KNOB_NAMES)).max(ARCHITECTURE_KNOB_NAMES.length),
});

const phase = z.enum(['build', 'train', 'eval']);

export const fromConfined = z.discriminatedUnion('type', [
  /** what the module's default export declares; null when it is not an architecture, with why */
  z.object({
    type: z.literal('described'),
    definition: definition.nullable(),
    problem: z.enum(['no-default', 'not-architecture']).nullable(),
  }),
  z.object({
    type: z.literal('ready'),
    backend: z.object({ name: z.enum(CONFINED_BACKENDS), version: z.string().nullable(), kernels: z.array(z.string()) }),
    /** with refuse(task)'s answer, if it refused */
    architecture: definition.extend({ refusal: z.string().max(2000).nullable() }),
  }),
  z.object({
    type: z.literal('built'),
    /** every trainable variable's shape, and whether it is an embedding table (from the build context) */
    variables: z.array(z.object({ shape, embedding: z.boolean() })).max(100_000),
    /** trainable elements of every variable the engine holds after build (declared or not) */
    engineParams: count,
    /** bytes of tensors build() left beside the trainable variables (constants, non-trainable variables) */
    stateBytes: count,
    /** every tensor byte the child's engine held right after build() */
    heldBytes: count,
    /** Model.cost as declared by the module */
    declaredActive: count.nullable(),
    attention: z.object({ layers: count, context: count, dim: count }).nullable(),
    /** bounded as in the record (refused here, at the boundary, rather than when the record is sealed) */
    hyperparameters: z
      .record(z.string().max(64), z.union([z.string().max(200), z.number(), z.boolean()]))
      .refine((h) => Object.keys(h).length <= 64, { message: 'at most 64 hyperparameters' }),
    /** what build() dispatched through the kernel registry */
    ledger,
    featureEmbedding: z.boolean(),
  }),
  z.object({
    type: z.literal('stepped'),
    /** NaN or ±Infinity where the model diverged: the loop names that (zod's number() refuses them) */
    loss: z.custom<number>((v) => typeof v === 'number', 'a number'),
    ledger,
    /** sampled steps: share of non-zero gradients and of parameters moved */
    density: z.object({ gradient: z.number(), update: z.number() }).nullable(),
    numTensors: count,
    numBytes: count,
  }),
  z.object({
    type: z.literal('evaluated'),
    batches: z.array(
      z.object({
        output: wireFloat,
        routing: z.array(
          z.object({
            layer: z.string().max(200),
            experts: z.number().int().positive(),
            assignment: wireInt,
            probabilities: wireFloat.nullable(),
          }),
        ),
        sparsity: z.object({ zeros: count, total: count }),
      }),
    ),
    featureEmbedding: wireFloat.nullable(),
  }),
  z.object({ type: z.literal('failed'), phase, message: z.string().max(4000), status: z.enum(['failed', 'diverged', 'refused']) }),
]);
export type FromConfined = z.infer<typeof fromConfined>;
export type Reply<T extends FromConfined['type']> = Extract<FromConfined, { type: T }>;
