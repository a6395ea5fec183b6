/**
 * The superposition task's constants, spec, metric and per-tier settings: free of tfjs, so the site
 * shows the same budgets the harness runs with. The data live in superposition.ts.
 */

import { ladderTiers } from './ladder.ts';
import { cpuTargetBasis, NO_TARGET } from './statistics.ts';
import type { TaskInfo, TierSettings } from './types.ts';

export const N = 20;
export const M = 5;
export const SPARSITY = 0.9;
export const IMPORTANCE = Array.from({ length: N }, (_, i) => 0.7 ** i);
export const EVAL_EXAMPLES = 4096;
export const EVAL_BATCH = 1024;

/** Best loss with m features represented exactly and a constant (the mean) for the rest. */
export function noSuperpositionLoss(n = N, m = M, sparsity = SPARSITY): number {
  const p = 1 - sparsity;
  const variance = p / 3 - (p / 2) ** 2; // of x = 0 w.p. S, U[0,1] w.p. 1 − S
  let loss = 0;
  for (let i = m; i < n; i++) loss += (IMPORTANCE[i] ?? 0.7 ** i) * variance;
  return loss;
}

/** cpu-tier target (weighted MSE), see `statistics` below */
const CPU_TARGET_SEEDS = '0–9';
const CPU_TARGET = 0.00717;

const cpu: TierSettings = {
  size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
  batchSize: 1024,
  budgetFlops: 1e10,
  evalPoints: 20,
  learningRate: 1e-2,
  // a cap against runaway runs, not a setting results depend on: it clears the slowest baseline (parity
  // switch-top1, ~670 s on an Intel Xeon ×2 class under load, ~250 s on AMD EPYC) with margin
  timeLimitSeconds: 1200,
  seeds: 5,
  target: { value: CPU_TARGET, basis: cpuTargetBasis(CPU_TARGET_SEEDS) },
};

export const superpositionInfo: TaskInfo = {
  spec: {
    id: 'superposition',
    input: { kind: 'vector', dim: N },
    output: { kind: 'reconstruction', dim: N },
    causal: false,
    groups: { name: 'most important active feature', count: N + 1 },
  },
  title: 'Toy superposition',
  description:
    `Reconstruct ${N} sparse features (each zero with probability ${SPARSITY}, importance 0.7^i) through a ${M}-dimensional bottleneck (Elhage et al. 2022, "Toy Models of Superposition"). ` +
    'Quality is the importance-weighted squared error on a fixed held-out set; below the no-superposition bound the model packs more features than it has dimensions.',
  metric: { name: 'weighted MSE', unit: '', higherIsBetter: false },
  references: {
    noSuperposition: {
      value: noSuperpositionLoss(),
      meaning: `best loss representing the ${M} most important features exactly and outputting the mean for the rest`,
    },
  },
  statistics: {
    equivalenceMargin: 0.0005,
    marginBasis: '±0.0005 weighted MSE, about a tenth of the cpu tier’s level and 3% of the no-superposition bound',
    testSet: {
      size: EVAL_EXAMPLES,
      unit: 'examples',
      standardError: 0.000413,
      basis:
        'measured: sd of the 4,096 examples’ weighted squared errors ÷ √4,096 for dense seed 0 at the cpu budget (quality 0.006086), `node bin/run-ts.js scripts/measure-test-set.ts superposition`',
    },
  },
  tiers: {
    smoke: {
      size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
      batchSize: 1024,
      budgetFlops: 2e9,
      evalPoints: 4,
      learningRate: 1e-2,
      timeLimitSeconds: 120,
      seeds: 1,
      target: NO_TARGET,
    },
    cpu,
    ...ladderTiers(cpu),
    gpu: {
      size: { width: M, depth: 1, heads: 0, maxParams: 1_000, maxActiveParams: 1_000 },
      batchSize: 4096,
      budgetFlops: 3e11,
      evalPoints: 20,
      learningRate: 1e-2,
      timeLimitSeconds: 1800,
      seeds: 5,
      target: NO_TARGET,
    },
  },
};
