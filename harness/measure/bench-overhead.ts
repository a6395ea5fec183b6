/**
 * `npm run bench:overhead`: what measuring costs. Times the same dense MLP training step
 * (mnist, cpu tier size) bare and with the FLOP counter counting plus a 10 Hz power sampler
 * running, in one run, and prints the overhead as a ratio. Target: ≤ 3%.
 */
import * as tf from '@tensorflow/tfjs';
import { Bench } from 'tinybench';
import dense from '../../baselines/dense.ts';
import { selectBackend } from '../backend.ts';
import { createBuildContext } from '../build-context.ts';
import { mnist } from '../tasks/mnist.ts';
import { installFlopCounter } from './flops.ts';
import { createPowerSampler } from './sampler.ts';

const backend = await selectBackend((process.env.MIDDLEPATH_BACKEND as 'wasm' | undefined) ?? 'wasm');
const settings = mnist.tiers.cpu;
const ctx = createBuildContext(0, 'bench');
const model = dense.build(mnist.spec, settings.size, ctx);
const data = mnist.load({ runSeed: 0, dataSeed: 0 });
const optimizer = tf.train.adam(1e-3);
const batch = data.nextTrainBatch(settings.batchSize);

async function step() {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => data.loss(model.forward(batch.x, { training: true }).output, batch), model.variables);
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]); // tfjs's types disagree with its own variableGrads
    return value;
  });
  await loss.data(); // device sync, as the training loop does
  loss.dispose();
}

let counter: ReturnType<typeof installFlopCounter> | undefined;
let sampler: ReturnType<typeof createPowerSampler> | undefined;
const measuredHooks = {
  beforeAll() {
    counter = installFlopCounter(backend.tfjsName);
    counter.active = true;
    sampler = createPowerSampler(() => 100 + Math.random(), { hz: 10 });
    sampler.start();
  },
  afterAll() {
    sampler?.stop();
    counter?.uninstall();
  },
};

// Short alternating rounds, not one long run per variant: on a shared machine the load
// drifts, and a ratio taken within each round cancels most of it. The median round is reported.
const rounds = Number(process.env.ROUNDS ?? 8);
const ratios: number[] = [];
const means = { bare: [] as number[], measured: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time: 600, warmup: true, warmupTime: 100 });
  const add = (name: 'bare' | 'measured') => (name === 'bare' ? bench.add('bare', step) : bench.add('measured', step, measuredHooks));
  if (round % 2 === 0) add('bare') && add('measured');
  else add('measured') && add('bare');
  await bench.run();
  const mean = (name: string) => {
    const r = bench.getTask(name)?.result as { latency?: { mean: number } } | undefined;
    if (!r?.latency) throw new Error(`${name} did not run`);
    return r.latency.mean;
  };
  means.bare.push(mean('bare'));
  means.measured.push(mean('measured'));
  ratios.push(mean('measured') / mean('bare'));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `backend ${backend.name}; dense MLP ${settings.size.width}×${settings.size.depth} on mnist, batch ${settings.batchSize}; ${rounds} alternating rounds`,
);
console.log(`bare step        ${median(means.bare).toFixed(2)} ms (median of round means)`);
console.log(`measured step    ${median(means.measured).toFixed(2)} ms (FLOP counter counting + 10 Hz power sampler)`);
console.log(
  `overhead         ${(100 * (median(ratios) - 1)).toFixed(2)}% median, rounds ${ratios.map((r) => `${(100 * (r - 1)).toFixed(1)}%`).join(' ')} (target ≤ 3%)`,
);
