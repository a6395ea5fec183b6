/**
 * The run record: the only thing that crosses from the harness to the store and the site.
 * One zod schema, shared by all three; exported as JSON Schema to results/schema.json.
 */
import { z } from 'zod';
import { runKnobs } from '../knobs.ts';
import { qualityMetric, tierName } from '../tasks/tiers.ts';

/**
 * 2: records hold observations only (no cost-to-target: it is computed when read).
 * 3: adds the run's knobs (a sweep cell: experts, granularity, width, caps) and the size it ran
 * under; both optional, so versions 1 and 2 still parse unchanged (no knobs: the tier's size).
 * Version 1 records still parse; the figure they stored is shown only as history.
 */
export const RECORD_SCHEMA_VERSION = 3;

/** refused: the architecture declined the task (e.g. non-causal routing on a causal task); not a failure */
export const runStatus = z.enum(['completed', 'diverged', 'timeout', 'failed', 'refused']);
export type RunStatus = z.infer<typeof runStatus>;

// Tiers and quality metrics belong to the tasks; re-exported for the record's readers.
export { type QualityMetric, qualityMetric, TIERS, type TierName, tierName } from '../tasks/tiers.ts';

export const family = z.enum(['dense', 'moe', 'hybrid', 'other']);

const nonNegative = z.number().finite().nonnegative();

/** Energy: either measured with a named method, or not measured with the reason. */
export const energyReading = z.discriminatedUnion('measured', [
  z.object({
    measured: z.literal(true),
    method: z.enum(['nvml-energy-counter', 'nvml-power-sampled', 'rapl']),
    /** what was metered, e.g. 'NVIDIA H200 ×1' or 'package-0+package-1' */
    devices: z.string(),
    grossJoules: nonNegative,
    /** idle power measured before the run, over idleSeconds */
    idleWatts: nonNegative,
    idleSeconds: nonNegative,
    /** gross − idle × window; may be small or (with sensor noise) slightly negative */
    netJoules: z.number().finite(),
    windowSeconds: nonNegative,
    samples: z.number().int().nonnegative(),
  }),
  z.object({ measured: z.literal(false), reason: z.string().min(1) }),
]);
export type EnergyReading = z.infer<typeof energyReading>;

export const routingLayerStats = z.object({
  layer: z.string(),
  experts: z.number().int().positive(),
  /** share of routed slots per expert, sums to 1 */
  load: z.array(nonNegative),
  maxVio: nonNegative,
  coefficientOfVariation: nonNegative,
  effectiveExperts: nonNegative,
  /** mean per-example routing entropy / log E, in [0, 1]; null without router probabilities */
  routingEntropy: z.number().min(0).max(1).nullable(),
  /** NMI between expert choice and the task's group label, in [0, 1] */
  nmi: z.number().min(0).max(1),
  /** counts[group][expert] of top-1 choices */
  counts: z.array(z.array(z.number().int().nonnegative())),
  /** adjusted mutual information (Vinh et al. 2010) of group and top-1 expert: 1 identical partitions, ≈ 0 independent; absent in older records */
  ami: z.number().max(1).optional(),
  /** AMI with the group labels permuted: what label-blind routing scores on this table's marginals */
  amiNull: z.object({ method: z.string(), permutations: z.number().int().nonnegative(), mean: z.number(), p95: z.number() }).optional(),
});
export type RoutingLayerStats = z.infer<typeof routingLayerStats>;

export const legibility = z.object({
  /** share of hidden activations that are exactly zero (or below 1e-6) */
  activationSparsity: z.number().min(0).max(1).nullable(),
  /** share of parameters whose value moved in a sampled step (on Δθ) */
  updateDensity: z.number().min(0).max(1).nullable(),
  /** share of parameters with a non-zero gradient in a sampled step */
  gradientDensity: z.number().min(0).max(1).nullable(),
  routing: z.array(routingLayerStats).default([]),
  superposition: z
    .object({
      /** Elhage et al.'s m/‖W‖²_F on the encoder: defined for the tied toy model only (it moves when an untied encoder is rescaled) */
      dimensionsPerFeature: nonNegative,
      perFeatureDimensionality: z.array(nonNegative),
      /** m / participation ratio of the feature norms: scale-free D*, comparable across architectures; absent in older records */
      dimensionsPerFeatureScaleFree: nonNegative.optional(),
      /** Σ_i D_i, the dimensions the features occupy; absent in older records */
      featureDimensionalitySum: nonNegative.optional(),
    })
    .nullable()
    .default(null),
  /** quality drop per group when one expert is masked: matrix[expert][group] */
  ablation: z
    .object({
      layer: z.string(),
      matrix: z.array(z.array(z.number())),
      diagonalDominance: z.number(),
      /** the same dominance with the held-out group labels permuted (label-blind groups); absent in older records */
      dominanceNull: z
        .object({ method: z.string(), permutations: z.number().int().nonnegative(), mean: z.number(), p95: z.number() })
        .optional(),
    })
    .nullable()
    .default(null),
});
export type Legibility = z.infer<typeof legibility>;

export const curvePoint = z.object({
  step: z.number().int().nonnegative(),
  /** executed training FLOPs spent so far */
  flops: nonNegative,
  /** analytic model FLOPs of the steps so far */
  modelFlops: nonNegative,
  /** training wall seconds so far (evaluation excluded) */
  seconds: nonNegative,
  /** gross joules so far, null where energy is not measured */
  joules: nonNegative.nullable(),
  /** mean training loss since the previous point (task loss, without aux loss) */
  trainLoss: z.number().nullable(),
  /** held-out quality in the task's metric */
  quality: z.number(),
  /** held-out task loss */
  evalLoss: z.number(),
  legibility: legibility.optional(),
});
export type CurvePoint = z.infer<typeof curvePoint>;

/**
 * Where a run's evaluated quality reached the task's target and stayed there to the end, on
 * one cost axis (harness/stats/cost-to-target.ts). 'bound': already there at the first
 * evaluation point, so the true cost is at most `cost`; 'not reached': short of the target
 * at the end, after spending `spent`.
 */
export const costReading = z.discriminatedUnion('status', [
  z.object({ status: z.literal('reached'), cost: nonNegative }),
  z.object({ status: z.literal('bound'), cost: nonNegative }),
  z.object({ status: z.literal('not reached'), spent: nonNegative }),
  z.object({ status: z.literal('not measured'), reason: z.string().min(1) }),
]);
export type CostReading = z.infer<typeof costReading>;

/** Cost-to-target on each cost axis against one target: computed on read (harness/stats/cost-to-target.ts), never written since version 2. */
export const costToTarget = z.object({
  /** the quality target (the task's metric, in its direction) */
  target: z.number(),
  executedFlops: costReading,
  modelFlops: costReading,
  seconds: costReading,
  joules: costReading,
});
export type CostToTarget = z.infer<typeof costToTarget>;

export const fingerprint = z.object({
  cpu: z.string(),
  cpuCores: z.number().int().nonnegative(),
  gpus: z.array(z.object({ model: z.string(), vendor: z.string(), memoryMB: z.number().nullable() })),
  memoryBytes: nonNegative,
  os: z.string(),
  node: z.string(),
  tfjs: z.string(),
  backend: z.string(),
  /** the backend's own version, e.g. tfjs-backend-wasm 4.22.0 */
  backendVersion: z.string().nullable(),
  /** 'cpu' or the accelerator that ran */
  device: z.string(),
  /** wasm+blas: the system BLAS the matmuls ran on (absent in records from before it existed) */
  blas: z
    .object({
      library: z.string(),
      version: z.string().nullable(),
      kernel: z.string().nullable(),
      threads: z.number().int().positive().nullable(),
    })
    .nullable()
    .optional(),
  gitCommit: z.string().nullable(),
  gitDirty: z.boolean().nullable(),
});
export type Fingerprint = z.infer<typeof fingerprint>;

/**
 * The learning-rate tuning a run used (AlgoPerf's external tuning): a small grid tried at a
 * reduced budget on a validation split carved from the training data, one seed or several; the run
 * then trains at the chosen value. Absent when the run used the tier's learning rate.
 */
export const tuningRecord = z.object({
  /** where the suite read it, e.g. results/tuning/cpu.json */
  source: z.string(),
  /** set where the rate was tuned on an earlier source of the architecture and carried to this one: which, and why */
  carriedFrom: z.object({ sourceHash: z.string().regex(/^[0-9a-f]{64}$/), why: z.string().max(2000) }).optional(),
  grid: z.array(nonNegative).min(1),
  chosen: nonNegative,
  /** what was compared: the task's metric on the validation split */
  validationMetric: z.string(),
  higherIsBetter: z.boolean(),
  /** final validation quality per grid value, in grid order (the mean over seeds where several ran); null where a trial did not complete */
  validationQualities: z.array(z.number().nullable()),
  /** share of the tier's FLOP budget each trial ran */
  budgetFraction: z.number().positive().max(1),
  seed: z.number().int(),
  /** every seed each grid value ran, where more than one */
  seeds: z.array(z.number().int()).max(64).optional(),
  /** how the value was chosen (multi-seed tuning) */
  why: z.string().max(2000).optional(),
});
export type TuningRecord = z.infer<typeof tuningRecord>;

/** Free text from a run (or a module): bounded, so one record cannot make a page of megabytes. */
const text = (max: number) => z.string().max(max);
/**
 * What the module says of its own settings: at most 64 entries, short keys, short values (a
 * 24.8 MB record of them once made 49.7 MB pages).
 */
export const hyperparameters = z
  .record(text(64), z.union([text(200), z.number(), z.boolean()]))
  .refine((h) => Object.keys(h).length <= 64, { message: 'at most 64 hyperparameters' });

export const runRecord = z
  .object({
    schemaVersion: z.union([z.literal(1), z.literal(2), z.literal(RECORD_SCHEMA_VERSION)]),
    /** unique per execution: <tier>.<task>.<arch>.s<seed>.<utc time> */
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
    /** same for every execution of the same (task, tier, seed, architecture source, harness version) */
    key: z.string().regex(/^[0-9a-f]{16}$/),
    status: runStatus,
    /** why a run did not complete: what happened and what to fix */
    failure: z.object({ phase: z.enum(['load', 'build', 'train', 'eval']), message: text(8000) }).nullable(),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    harnessVersion: text(40),
    task: z.object({
      id: text(40),
      tier: tierName,
      seed: z.number().int(),
      /** set when the task's data were regenerated from a held-out seed */
      variantSeed: z.number().int().nullable(),
      metric: qualityMetric,
    }),
    architecture: z.object({
      name: z.string().max(63),
      family,
      description: z.string().max(500),
      reference: z.string().max(300).nullable(),
      /** 'baseline' for baselines/, else the module path as given */
      origin: text(500),
      /** SHA-256 of the module source */
      sourceHash: z.string().regex(/^[0-9a-f]{64}$/),
      hyperparameters,
    }),
    params: z.object({ total: z.number().int().nonnegative(), active: z.number().int().nonnegative() }),
    /** the knobs this run set (a sweep's cell; part of its key); absent in the standard suite and older records */
    knobs: runKnobs.optional(),
    /** the size and caps the run was built and checked under: the tier's, or the tier's with the size knobs; absent in older records */
    size: z
      .object({
        width: z.number().int().positive(),
        depth: z.number().int().positive(),
        heads: z.number().int().nonnegative(),
        maxParams: z.number().int().positive(),
        maxActiveParams: z.number().int().positive(),
      })
      .optional(),
    training: z.object({
      optimizer: text(200),
      learningRate: nonNegative,
      batchSize: z.number().int().positive(),
      steps: z.number().int().nonnegative(),
      examples: z.number().int().nonnegative(),
      /** executed-FLOP budget of the tier */
      budgetFlops: nonNegative,
      timeLimitSeconds: nonNegative,
      /** training wall time, device-synced, evaluation excluded */
      wallSeconds: nonNegative,
      /** first step (graph set-up, kernel JIT), part of wallSeconds, also shown apart */
      firstStepSeconds: nonNegative,
      evalSeconds: nonNegative,
      /**
       * The machine's 1-minute load average (os.loadavg, the run itself included) when training
       * began and when the run ended, and its logical cores: seconds measured while the machine was busier
       * than its cores are slower than the hardware, and the site says so. Absent in records
       * from before it was kept.
       */
      load: z.object({ cores: z.number().int().positive(), atStart: nonNegative, atEnd: nonNegative }).optional(),
      /**
       * The model ran in a confined child process (harness/confined): each step's seconds then
       * include one IPC request and answer (`npm run bench:ipc` measures it). False: in the
       * harness's process. Absent in records from before it was kept (those ran in-process,
       * except a submission's own runs).
       */
      confined: z.boolean().optional(),
      /**
       * CPU seconds (user + system) of the training steps, measured by the harness: a confined
       * child's read from /proc by the parent, an in-process run's from this process. Beside
       * wallSeconds it shows a child that works on threads or processes of its own. Null where
       * it could not be read; absent in older records.
       */
      cpuSeconds: nonNegative.nullable().optional(),
      /**
       * The OS sandbox the model ran in (harness/confined/sandbox.ts): its tool, version and the
       * uid it ran as outside. Null: no sandbox (in-process, or a machine without one); absent in older records.
       */
      sandbox: z
        .object({ tool: text(40), version: text(40), outsideUid: z.number().int() })
        .nullable()
        .optional(),
    }),
    flops: z.object({
      /** counted at run time by wrapping the backend's kernels, training steps only */
      executed: nonNegative,
      /** analytic: 6·N_active per example/token + attention */
      model: nonNegative,
      /** executed FLOPs by kernel kind */
      byKind: z.record(z.string(), nonNegative),
      perStep: nonNegative,
    }),
    /**
     * Tensor values the architecture's code read back into JavaScript (dataSync, data,
     * arraySync…) in build() and the training steps — calls and bytes; the harness's own reads
     * (the loss, sampled densities) are not counted. Compute done on read-back values is not in
     * the FLOP ledger (harness/measure/uncounted.ts flags it). Absent in older records.
     */
    readbacks: z.object({ calls: z.number().int().nonnegative(), bytes: nonNegative }).optional(),
    energy: energyReading,
    /** sampled power, downsampled to at most 200 points; empty where not measured */
    powerTrace: z.array(z.object({ t: nonNegative, watts: nonNegative })),
    memory: z.object({ peakTensorBytes: nonNegative, peakRssBytes: nonNegative }),
    curve: z.array(curvePoint),
    final: z
      .object({
        quality: z.number(),
        evalLoss: z.number(),
        /** per subtask or per class where the task defines them */
        subQualities: z.record(z.string(), z.number()),
        legibility: legibility,
      })
      .nullable(),
    backend: z.object({ name: text(40), reason: text(1000) }),
    fingerprint,
    /** like is ranked only against like: '<device> ×<count> · <backend>' */
    hardwareClass: text(200),
    /** which held-out set the curve and final figures are on; absent in older records (the test split) */
    evaluationSplit: z.enum(['test', 'validation']).optional(),
    /** the learning-rate tuning this run's learning rate came from; absent when it used the tier's */
    tuning: tuningRecord.optional(),
    /**
     * The pre-registered protocol in force when the run ran (results/protocol.json): its
     * version and the SHA-256 of its canonical JSON. Absent on records made before the
     * protocol existed, the exploratory set. Findings read one protocol's records at a time.
     */
    protocol: z
      .object({ version: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) })
      .strict()
      .optional(),
    /**
     * Version 1 only: cost-to-target against the target in force on the day the run ran, a
     * derived figure frozen into the record. Kept so the record's content hash still verifies
     * and shown only as history; every reader computes the figure from the curve instead.
     */
    costToTarget: costToTarget.optional(),
    /** SHA-256 of the canonical JSON of every other field */
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .superRefine((r, ctx) => {
    // Figures that contradict each other are malformed, not merely surprising.
    if (r.status === 'completed') {
      if (r.final === null) ctx.addIssue({ code: 'custom', message: 'a completed run must have final results' });
      if (r.flops.executed < r.training.budgetFlops)
        ctx.addIssue({
          code: 'custom',
          path: ['flops', 'executed'],
          message: `a completed run spent ${r.flops.executed} executed FLOPs, below its budget ${r.training.budgetFlops}`,
        });
    } else if (r.failure === null) {
      ctx.addIssue({ code: 'custom', path: ['failure'], message: `a ${r.status} run must say why` });
    }
    for (let i = 1; i < r.curve.length; i++) {
      const a = r.curve[i - 1];
      const b = r.curve[i];
      if (a && b && (b.flops < a.flops || b.seconds < a.seconds || b.step < a.step))
        ctx.addIssue({ code: 'custom', path: ['curve', i], message: 'curve points must not go backwards' });
    }
    if (r.schemaVersion !== 1 && r.costToTarget !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['costToTarget'],
        message: `a version ${r.schemaVersion} record holds observations only: drop costToTarget (it is computed when read)`,
      });
    if (Date.parse(r.finishedAt) < Date.parse(r.startedAt))
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'finishedAt is before startedAt' });
  });

export type RunRecord = z.infer<typeof runRecord>;
/** A record before its content hash is computed. */
export type UnhashedRecord = Omit<RunRecord, 'contentHash'>;
