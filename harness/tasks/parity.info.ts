/**
 * The parity task's constants, spec, metric and per-tier settings: free of tfjs, so the site
 * shows the same budgets the harness runs with. The data live in parity.ts.
 */

import { ladderTiers } from './ladder.ts';
import { mlpSize } from './sizes.ts';
import { accuracyStandardError, cpuTargetBasis, NO_TARGET } from './statistics.ts';
import type { TaskInfo, TierSettings } from './types.ts';

export const SUBTASKS = 16;
export const DATA_BITS = 24;
export const K = 3;
export const ZIPF_EXPONENT = 1.4;
export const EVAL_PER_SUBTASK = 256;
/** held-out batch size: every batch mixes subtasks (see parity.ts) */
export const EVAL_BATCH = 256;
export const INPUT = SUBTASKS + DATA_BITS;

/** Zipf weights ∝ (t+1)^−1.4, normalised. */
export const subtaskWeights: number[] = (() => {
  const w = Array.from({ length: SUBTASKS }, (_, t) => (t + 1) ** -ZIPF_EXPONENT);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
})();

/** cpu-tier target (weighted accuracy), see `statistics` below */
const CPU_TARGET_SEEDS = '0–9';
const CPU_TARGET = 0.899;

const size = (width: number, depth: number) => mlpSize(INPUT, 2, width, depth);

const cpu: TierSettings = {
  size: size(256, 2),
  batchSize: 128,
  budgetFlops: 8e11,
  evalPoints: 20,
  learningRate: 3e-3,
  // a cap against runaway runs, not a setting results depend on: it clears the slowest baseline (parity
  // switch-top1, ~670 s on an Intel Xeon ×2 class under load, ~250 s on AMD EPYC) with margin
  timeLimitSeconds: 1200,
  seeds: 5,
  target: { value: CPU_TARGET, basis: cpuTargetBasis(CPU_TARGET_SEEDS) },
};

export const parityInfo: TaskInfo = {
  spec: {
    id: 'parity',
    input: { kind: 'vector', dim: INPUT },
    output: { kind: 'classes', count: 2 },
    causal: false,
    groups: { name: 'subtask', count: SUBTASKS },
  },
  title: 'Multitask sparse parity',
  description:
    `${SUBTASKS} subtasks, each the parity of its own ${K} of ${DATA_BITS} data bits, chosen by a one-hot subtask id and drawn with Zipf(${ZIPF_EXPONENT}) frequencies (Michaud et al. 2023). ` +
    'Quality is held-out accuracy weighted by the training frequencies; per-subtask accuracy shows which rare subtasks a model has room for.',
  metric: { name: 'accuracy', unit: '', higherIsBetter: true },
  references: {
    chance: { value: 0.5, meaning: 'accuracy of guessing' },
    topFourShare: {
      value: subtaskWeights.slice(0, 4).reduce((a, b) => a + b, 0),
      meaning: 'share of training examples from the four most frequent subtasks',
    },
  },
  statistics: {
    equivalenceMargin: 0.005,
    marginBasis: '±0.5 pp of accuracy, about the test set’s own standard error',
    testSet: {
      size: SUBTASKS * EVAL_PER_SUBTASK,
      unit: `examples (${EVAL_PER_SUBTASK} per subtask)`,
      standardError: accuracyStandardError(
        CPU_TARGET,
        subtaskWeights.map((weight) => ({ weight, size: EVAL_PER_SUBTASK })),
      ),
      basis: `√(p(1 − p) · Σ w² / ${EVAL_PER_SUBTASK}) over the subtasks' Zipf weights w, at the cpu target p = ${CPU_TARGET} in every subtask`,
    },
  },
  tiers: {
    smoke: {
      size: size(128, 2),
      batchSize: 128,
      budgetFlops: 4e10,
      evalPoints: 4,
      learningRate: 3e-3,
      timeLimitSeconds: 120,
      seeds: 1,
      target: NO_TARGET,
    },
    cpu,
    ...ladderTiers(cpu),
    gpu: {
      size: size(1024, 2),
      batchSize: 512,
      budgetFlops: 2e13,
      evalPoints: 20,
      learningRate: 1e-3,
      timeLimitSeconds: 1800,
      seeds: 5,
      target: NO_TARGET,
    },
  },
};
