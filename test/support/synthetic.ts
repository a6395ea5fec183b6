/**
 * Synthetic run records, for developing the site and benchmarking the store without a
 * suite run. Every record says harnessVersion 'synthetic' and architecture origin
 * 'synthetic' so it can never be mistaken for a real result; nothing here writes to
 * results/.
 *
 * Deterministic: record i depends only on (seed, i), so a larger count extends a smaller
 * one rather than reshuffling it.
 */
import { sealRecord, sha256 } from '../../harness/results/files.ts';
import type {
  CurvePoint,
  EnergyReading,
  Legibility,
  QualityMetric,
  RoutingLayerStats,
  RunRecord,
  RunStatus,
  TierName,
  UnhashedRecord,
} from '../../harness/results/record.ts';
import type { Family } from '../../harness/store/types.ts';
import { rng } from '../../harness/tasks/random.ts';

export const SYNTHETIC_HARNESS_VERSION = 'synthetic';
export const SYNTHETIC_ORIGIN = 'synthetic';

/** Metrics as the real tasks (harness/tasks) define them: accuracy is a fraction in [0, 1]. */
interface SynthTask {
  id: string;
  metric: QualityMetric;
  /** quality at no training and the asymptote the curve approaches */
  q0: number;
  qInf: number;
  /** FLOP budget multiplier relative to the tier's base budget */
  budgetFactor: number;
  denseParams: number;
  /** tokens (or 1) per example, for FLOPs per step */
  tokens: number;
  groups: number;
}

export const SYNTHETIC_TASKS: readonly SynthTask[] = [
  {
    id: 'superposition',
    metric: { name: 'weighted MSE', unit: '', higherIsBetter: false },
    q0: 0.5,
    qInf: 0.02,
    budgetFactor: 0.1,
    denseParams: 2_000,
    tokens: 1,
    groups: 5,
  },
  {
    id: 'parity',
    metric: { name: 'accuracy', unit: '', higherIsBetter: true },
    q0: 0.5,
    qInf: 0.995,
    budgetFactor: 0.5,
    denseParams: 20_000,
    tokens: 1,
    groups: 2,
  },
  {
    id: 'mnist',
    metric: { name: 'accuracy', unit: '', higherIsBetter: true },
    q0: 0.1,
    qInf: 0.99,
    budgetFactor: 1,
    denseParams: 100_000,
    tokens: 1,
    groups: 10,
  },
  {
    id: 'charlm',
    metric: { name: 'bits per character', unit: 'bpc', higherIsBetter: false },
    q0: 4.75,
    qInf: 1.3,
    budgetFactor: 2,
    denseParams: 200_000,
    tokens: 64,
    groups: 27,
  },
];

interface SynthArch {
  name: string;
  family: Family;
  description: string;
  /** effective-compute multiplier the curves are drawn with (dense = 1) */
  efficiency: number;
  /** total and active parameters relative to the task's dense size */
  totalRatio: number;
  activeRatio: number;
  /** throughput relative to dense (routing and dispatch cost time) */
  speed: number;
  experts: number;
}

export const SYNTHETIC_ARCHITECTURES: readonly SynthArch[] = [
  {
    name: 'dense',
    family: 'dense',
    description: 'Synthetic: the dense MLP/transformer baseline.',
    efficiency: 1,
    totalRatio: 1,
    activeRatio: 1,
    speed: 1,
    experts: 0,
  },
  {
    name: 'dense-narrow-deep',
    family: 'dense',
    description: 'Synthetic: a narrower, deeper dense model at matched parameters.',
    efficiency: 0.85,
    totalRatio: 1,
    activeRatio: 1,
    speed: 0.9,
    experts: 0,
  },
  {
    name: 'switch-top1',
    family: 'moe',
    description: 'Synthetic: top-1 routing, 8 experts, capacity factor 1.25.',
    efficiency: 2.2,
    totalRatio: 4,
    activeRatio: 0.6,
    speed: 0.7,
    experts: 8,
  },
  {
    name: 'topk2-moe',
    family: 'moe',
    description: 'Synthetic: top-2 routing, 8 experts, load-balancing loss.',
    efficiency: 1.8,
    totalRatio: 4,
    activeRatio: 0.8,
    speed: 0.65,
    experts: 8,
  },
  {
    name: 'expert-choice',
    family: 'moe',
    description: 'Synthetic: experts choose their tokens (non-causal tasks only).',
    efficiency: 2.6,
    totalRatio: 4,
    activeRatio: 0.6,
    speed: 0.6,
    experts: 8,
  },
  {
    name: 'hash-moe',
    family: 'moe',
    description: 'Synthetic: fixed hash routing, 4 experts, no learned router.',
    efficiency: 0.9,
    totalRatio: 2,
    activeRatio: 0.5,
    speed: 0.85,
    experts: 4,
  },
  {
    name: 'sparse-ffn',
    family: 'hybrid',
    description: 'Synthetic: dense attention with a top-k activation-sparse feed-forward.',
    efficiency: 1.3,
    totalRatio: 1.2,
    activeRatio: 0.7,
    speed: 0.9,
    experts: 0,
  },
  {
    name: 'segmented-update',
    family: 'hybrid',
    description: 'Synthetic: dense forward, gradient masked to one segment per group.',
    efficiency: 0.7,
    totalRatio: 1,
    activeRatio: 1,
    speed: 0.95,
    experts: 4,
  },
];

const TIER_BUDGET: Record<TierName, number> = {
  smoke: 2e9,
  'cpu-eighth': 2e11 / 8,
  'cpu-quarter': 2e11 / 4,
  'cpu-half': 2e11 / 2,
  cpu: 2e11,
  gpu: 2e13,
};

interface SynthHardware {
  hardwareClass: string;
  device: string;
  backend: string;
  flopsPerSecond: number;
  gpu: boolean;
}

export const SYNTHETIC_HARDWARE: readonly SynthHardware[] = [
  { hardwareClass: 'cpu ×1 · wasm', device: 'cpu', backend: 'wasm', flopsPerSecond: 4e9, gpu: false },
  { hardwareClass: 'NVIDIA H200 ×1 · tensorflow-gpu', device: 'NVIDIA H200', backend: 'tensorflow-gpu', flopsPerSecond: 4e11, gpu: true },
];

/** Which (tier, hardware) slices exist: the gpu tier only on the GPU, the cpu tier only on the CPU. */
const SLICES: readonly { tier: TierName; hw: SynthHardware }[] = [
  { tier: 'smoke', hw: SYNTHETIC_HARDWARE[0] as SynthHardware },
  { tier: 'smoke', hw: SYNTHETIC_HARDWARE[1] as SynthHardware },
  { tier: 'cpu', hw: SYNTHETIC_HARDWARE[0] as SynthHardware },
  { tier: 'gpu', hw: SYNTHETIC_HARDWARE[1] as SynthHardware },
];

const SEEDS_PER_ROUND = 3;
const CURVE_POINTS = 10;
const BASE_TIME = Date.parse('2025-01-06T09:00:00.000Z');

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function seedOf(...parts: (string | number)[]): number {
  return Number.parseInt(sha256(parts.join('|')).slice(0, 8), 16);
}

function pick<T>(list: readonly T[], i: number): T {
  return list[((i % list.length) + list.length) % list.length] as T;
}

function compactTime(ms: number): string {
  // 2025-01-06T09:00:00.000Z → 20250106t090000z: lower case, as run ids require
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase();
}

function round(x: number, digits = 6): number {
  return Number(x.toPrecision(digits));
}

/** Quality after c effective FLOPs: a saturating power law from q0 towards qInf. */
function qualityAt(task: SynthTask, budget: number, effective: number): number {
  const c0 = budget / 40;
  return task.qInf + (task.q0 - task.qInf) * (1 + effective / c0) ** -0.55;
}

function routingStats(rand: () => number, arch: SynthArch, task: SynthTask, layer: string, balance: number): RoutingLayerStats {
  const e = arch.experts;
  const raw = Array.from({ length: e }, () => 0.3 + rand() * (1 - balance) * 2 + balance);
  const sum = raw.reduce((a, b) => a + b, 0);
  const load = raw.map((x) => round(x / sum, 5));
  const mean = 1 / e;
  const maxVio = Math.max(...load.map((x) => x / mean - 1), 0);
  const sd = Math.sqrt(load.reduce((a, x) => a + (x - mean) ** 2, 0) / e);
  const entropy = -load.reduce((a, p) => a + (p > 0 ? p * Math.log(p) : 0), 0);
  const examples = 200 * task.groups;
  const counts = Array.from({ length: task.groups }, (_, g) =>
    load.map((p, ex) => Math.round(p * (examples / task.groups) * (ex % task.groups === g % e ? 1.6 : 0.8))),
  );
  return {
    layer,
    experts: e,
    load,
    maxVio: round(maxVio, 4),
    coefficientOfVariation: round(sd / mean, 4),
    effectiveExperts: round(Math.exp(entropy), 4),
    routingEntropy: arch.name === 'hash-moe' ? null : round(Math.min(1, 0.3 + rand() * 0.5), 4),
    nmi: round(Math.min(1, 0.05 + rand() * 0.45 * balance), 4),
    counts,
  };
}

function legibilityOf(rand: () => number, arch: SynthArch, task: SynthTask, progress: number): Legibility {
  const routing: RoutingLayerStats[] =
    arch.family === 'moe' ? [routingStats(rand, arch, task, 'block0.moe', Math.min(1, 0.4 + progress * 0.5))] : [];
  const sparse = arch.family !== 'dense' || arch.name === 'dense-narrow-deep';
  return {
    activationSparsity: round(Math.min(1, (sparse ? 0.5 : 0.2) + progress * 0.2 + rand() * 0.05), 4),
    updateDensity: round(
      arch.name === 'segmented-update' ? 0.25 + rand() * 0.05 : arch.family === 'moe' ? 0.55 + rand() * 0.1 : 0.97 + rand() * 0.03,
      4,
    ),
    gradientDensity: round(arch.family === 'moe' ? 0.5 + rand() * 0.1 : 0.9 + rand() * 0.1, 4),
    routing,
    superposition:
      task.id === 'superposition'
        ? {
            dimensionsPerFeature: round(0.3 + rand() * 0.4, 4),
            perFeatureDimensionality: Array.from({ length: 8 }, () => round(rand(), 4)),
          }
        : null,
    ablation: null,
  };
}

function energyOf(rand: () => number, hw: SynthHardware, seconds: number): { energy: EnergyReading; watts: number } {
  if (!hw.gpu) {
    return {
      energy: {
        measured: false,
        reason: 'no readable energy counter: /sys/class/powercap/intel-rapl:0/energy_uj is not readable (permission denied)',
      },
      watts: 0,
    };
  }
  const idleWatts = 70 + rand() * 10;
  const watts = 350 + rand() * 150;
  const gross = watts * seconds;
  return {
    energy: {
      measured: true,
      method: 'nvml-energy-counter',
      devices: 'NVIDIA H200 ×1',
      grossJoules: round(gross),
      idleWatts: round(idleWatts, 4),
      idleSeconds: 5,
      netJoules: round(gross - idleWatts * seconds),
      windowSeconds: round(seconds),
      samples: Math.max(1, Math.round(seconds * 10)),
    },
    watts,
  };
}

/** One synthetic record: the i-th of the sequence for this seed. */
export function syntheticRecord(i: number, seed = 1): RunRecord {
  const archCount = SYNTHETIC_ARCHITECTURES.length;
  const arch = pick(SYNTHETIC_ARCHITECTURES, i);
  let rest = Math.floor(i / archCount);
  const seedIdx = rest % SEEDS_PER_ROUND;
  rest = Math.floor(rest / SEEDS_PER_ROUND);
  const task = pick(SYNTHETIC_TASKS, rest);
  rest = Math.floor(rest / SYNTHETIC_TASKS.length);
  const slice = pick(SLICES, rest);
  const round_ = Math.floor(rest / SLICES.length);
  const runSeed = round_ * SEEDS_PER_ROUND + seedIdx;
  const { tier, hw } = slice;

  const rand = rng(seedOf('synthetic', seed, i));
  const budget = TIER_BUDGET[tier] * task.budgetFactor;
  const total = Math.round(task.denseParams * arch.totalRatio);
  const active = Math.round(task.denseParams * arch.activeRatio);
  const batch = task.tokens > 1 ? 32 : 128;
  const perStep = 6 * active * batch * task.tokens * 1.15;
  const steps = Math.ceil(budget / perStep);

  // Seed-level luck: a run's curve is shifted by a small fraction of the range.
  const luck = gaussian(rand) * 0.012;
  // ~4% of runs do not complete, each with the reason a user would see.
  const fate = rand();
  const status: RunStatus = fate < 0.02 ? 'diverged' : fate < 0.03 ? 'timeout' : fate < 0.04 ? 'failed' : 'completed';
  const doneSteps = status === 'completed' ? steps : status === 'failed' ? 0 : Math.max(1, Math.floor(steps * (0.2 + rand() * 0.6)));
  const flopsPerSecond = hw.flopsPerSecond * arch.speed * (0.95 + rand() * 0.1);
  const modelRatio = arch.family === 'moe' ? 0.55 : 0.7;

  const started = BASE_TIME + i * 97_000;
  const wallSeconds = (doneSteps * perStep) / flopsPerSecond;
  const { energy, watts } = energyOf(rand, hw, wallSeconds);

  const curve: CurvePoint[] = [];
  const points = status === 'completed' ? CURVE_POINTS : Math.floor((doneSteps / steps) * CURVE_POINTS);
  for (let k = 1; k <= points; k++) {
    const step = k === CURVE_POINTS ? steps : Math.round((steps * k) / CURVE_POINTS);
    const flops = Math.ceil(step * perStep);
    const seconds = flops / flopsPerSecond;
    const clean = qualityAt(task, budget, flops * arch.efficiency);
    const noise = (task.q0 - task.qInf) * (luck + gaussian(rand) * 0.002);
    const quality = round(clean + noise);
    curve.push({
      step,
      flops,
      modelFlops: round(flops * modelRatio),
      seconds: round(seconds),
      joules: energy.measured ? round(watts * seconds) : null,
      trainLoss: round(Math.max(0.001, 2.5 * (1 + (flops * arch.efficiency) / (budget / 40)) ** -0.5 + gaussian(rand) * 0.01)),
      quality,
      evalLoss: round(Math.max(0.001, 2.6 * (1 + (flops * arch.efficiency) / (budget / 40)) ** -0.5 + luck)),
      legibility: legibilityOf(rand, arch, task, k / CURVE_POINTS),
    });
  }
  const last = curve.at(-1);
  const executed = Math.ceil((status === 'completed' ? steps : doneSteps) * perStep);
  const evalSeconds = wallSeconds * 0.08;
  const finished = started + Math.ceil((wallSeconds + evalSeconds) * 1000);

  const failure =
    status === 'completed'
      ? null
      : status === 'diverged'
        ? {
            phase: 'train' as const,
            message: `training loss became NaN at step ${doneSteps}; lower the learning rate or add a router z-loss`,
          }
        : status === 'timeout'
          ? { phase: 'train' as const, message: `stopped at the tier's time limit after ${doneSteps} of ${steps} steps` }
          : { phase: 'build' as const, message: `active parameters ${active} exceed the tier's cap; reduce the expert width` };

  // Two source versions of switch-top1, so architecture pages show a history.
  const sourceHash = sha256(`synthetic:${arch.name}${arch.name === 'switch-top1' && runSeed >= 3 ? ':v2' : ''}`);
  const key = sha256([task.id, tier, runSeed, sourceHash, SYNTHETIC_HARNESS_VERSION].join('|')).slice(0, 16);
  const powerTrace =
    energy.measured && wallSeconds > 0
      ? Array.from({ length: 20 }, (_, k) => ({ t: round((wallSeconds * k) / 19), watts: round(watts + gaussian(rand) * 15, 5) }))
      : [];

  const record: UnhashedRecord = {
    schemaVersion: 1,
    id: `${tier}.${task.id}.${arch.name}.s${runSeed}.${compactTime(started)}`,
    key,
    status,
    failure,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    harnessVersion: SYNTHETIC_HARNESS_VERSION,
    task: { id: task.id, tier, seed: runSeed, variantSeed: null, metric: task.metric },
    architecture: {
      name: arch.name,
      family: arch.family,
      description: arch.description,
      reference: null,
      origin: SYNTHETIC_ORIGIN,
      sourceHash,
      hyperparameters: arch.experts > 0 ? { experts: arch.experts, width: 64 } : { width: 64 },
    },
    params: { total, active },
    training: {
      optimizer: 'adam',
      learningRate: 0.001,
      batchSize: batch,
      steps: doneSteps,
      examples: doneSteps * batch,
      budgetFlops: budget,
      timeLimitSeconds: 3600,
      wallSeconds: round(wallSeconds),
      firstStepSeconds: round(Math.min(wallSeconds, 0.2 + rand() * 0.5)),
      evalSeconds: round(evalSeconds),
    },
    flops: {
      executed: executed,
      model: round(executed * modelRatio),
      byKind: { matmul: round(executed * 0.85), elementwise: round(executed * 0.12), reduction: round(executed * 0.03) },
      perStep: round(perStep),
    },
    energy,
    powerTrace,
    memory: { peakTensorBytes: total * 4 * 4, peakRssBytes: 300e6 + total * 16 },
    curve,
    final:
      status === 'completed' && last
        ? {
            quality: last.quality,
            evalLoss: last.evalLoss,
            subQualities: {},
            legibility: last.legibility ?? legibilityOf(rand, arch, task, 1),
          }
        : null,
    backend: { name: hw.backend, reason: 'synthetic record' },
    fingerprint: {
      cpu: 'Synthetic CPU',
      cpuCores: 16,
      gpus: hw.gpu ? [{ model: 'NVIDIA H200', vendor: 'NVIDIA', memoryMB: 143_771 }] : [],
      memoryBytes: 128 * 2 ** 30,
      os: 'linux',
      node: 'v20.19.0',
      tfjs: '4.22.0',
      backend: hw.backend,
      backendVersion: '4.22.0',
      device: hw.device,
      gitCommit: null,
      gitDirty: null,
    },
    hardwareClass: hw.hardwareClass,
  };
  return sealRecord(record);
}

/** `count` synthetic records, spread over every architecture, seed, task and slice in turn. */
export function syntheticRecords({ count, seed = 1 }: { count: number; seed?: number }): RunRecord[] {
  return Array.from({ length: count }, (_, i) => syntheticRecord(i, seed));
}

/** True for a record this module made. */
export function isSynthetic(record: RunRecord): boolean {
  return record.harnessVersion === SYNTHETIC_HARNESS_VERSION || record.architecture.origin === SYNTHETIC_ORIGIN;
}
