/**
 * `npm run bench:overhead`: what measuring costs, as ratios measured in one run.
 *
 * 1. The meters: the same dense MLP training step (mnist, cpu tier size) bare and with the
 *    FLOP counter counting plus a 10 Hz power sampler running. Target: ≤ 3%.
 * 2. The measurement freeze (freeze.ts): two child processes train the same dense MLPs with
 *    the FLOP counter counting, one with the freeze installed and each step frozen and thawed
 *    around it (as localRunner does; the confined child freezes once, which costs less), one
 *    without; the parent times them in alternating rounds. Tasks: mnist (dense 256×2 over 784
 *    inputs) and parity (dense 256×2 over few inputs: the smallest cpu-tier step, the worst
 *    case for a per-step cost). Target: ≤ 5%.
 *
 * Both installs are once per process and cannot be undone (a guard that could be lifted
 * would be no guard), so the freeze's comparison runs in two processes.
 *
 * The freeze's cost is CPU work on the step's own thread, so its ratio is also taken in CPU
 * time (process.cpuUsage), which a loaded machine disturbs far less than wall time.
 *
 * Measured on a 2-core machine shared with two compute processes (ROUNDS=8, CPU time): no
 * overhead the load lets one resolve (mnist −5.5%, parity −7.7% median of round ratios, the
 * rounds spread ±30%); a trivial kernel's dispatch −12.8%; freeze()+thaw() 74 ns a step.
 *
 * Env: ROUNDS (default 8), PART=meters|freeze (default both), TASKS=mnist,parity, STEPS
 * (each side's steps in a freeze round; default 10 on mnist, 20 on parity).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Bench } from 'tinybench';
import dense from '../../baselines/dense.ts';
import { selectBackend } from '../backend.ts';
import { createBuildContext } from '../build-context.ts';
import { RUN_TS } from '../submit/child.ts';
import { findTask } from '../tasks/index.ts';
import { installFlopCounter } from './flops.ts';
import { measurementFreeze } from './freeze.ts';
import { createPowerSampler } from './sampler.ts';

const rounds = Number(process.env.ROUNDS ?? 8);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const pct = (r: number) => `${(100 * (r - 1)).toFixed(2)}%`;

/** A training step of the dense baseline on `taskId` at the cpu tier's size, as the training loop runs it. */
function workload(taskId: string) {
  const task = findTask(taskId);
  const settings = task.tiers.cpu;
  const ctx = createBuildContext(0, `bench-${taskId}`);
  const model = dense.build(task.spec, settings.size, ctx);
  const data = task.load({ runSeed: 0, dataSeed: 0 });
  const optimizer = tf.train.adam(1e-3);
  const batch = data.nextTrainBatch(settings.batchSize);
  const describe = `dense ${settings.size.width}×${settings.size.depth} on ${taskId}, batch ${settings.batchSize}`;
  async function step() {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => data.loss(model.forward(batch.x, { training: true }).output, batch), model.variables);
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]); // tfjs's types disagree with its own variableGrads
      return value;
    });
    await loss.data(); // device sync, as the training loop does
    loss.dispose();
  }
  return { step, describe };
}

// ---- the child: one side of the freeze comparison -------------------------------------------
if (process.env.BENCH_FREEZE_ROLE) {
  const frozen = process.env.BENCH_FREEZE_ROLE === 'frozen';
  const backend = await selectBackend((process.env.MIDDLEPATH_BACKEND as 'wasm' | undefined) ?? 'wasm');
  const counter = installFlopCounter(backend.tfjsName);
  const tasks = (process.env.TASKS ?? 'mnist,parity').split(',');
  const loads = Object.fromEntries(tasks.map((t) => [t, workload(t)]));
  const freezer = frozen ? measurementFreeze() : null; // installed after the counter, as the runners do
  counter.active = true;
  const a = tf.scalar(1);
  const b = tf.scalar(2);
  process.on('message', async (m: { task: string; steps: number } | { done: true } | { dispatches: number }) => {
    if ('done' in m) process.exit(0);
    if ('dispatches' in m) {
      // The guards' worst case: dispatching a trivial kernel, nothing else, in CPU time; and freeze()+thaw() alone.
      const cpu0 = process.cpuUsage();
      freezer?.freeze('bench');
      tf.tidy(() => {
        for (let i = 0; i < m.dispatches; i++) tf.add(a, b);
      });
      freezer?.thaw();
      const used = process.cpuUsage(cpu0);
      let pairNs = 0;
      if (freezer) {
        const n = 200_000;
        const c0 = process.cpuUsage();
        for (let i = 0; i < n; i++) {
          freezer.freeze('bench');
          freezer.thaw();
        }
        const c = process.cpuUsage(c0);
        pairNs = ((c.user + c.system) * 1000) / n;
      }
      process.send?.({ ms: 0, cpu: (used.user + used.system) / m.dispatches, steps: 0, describe: '', backend: backend.name, pairNs });
      return;
    }
    const w = loads[m.task];
    if (!w) throw new Error(`no workload ${m.task}`);
    const step = freezer
      ? async () => {
          freezer.freeze('bench');
          try {
            await w.step();
          } finally {
            freezer.thaw();
          }
          if (freezer.refused) throw freezer.refused;
        }
      : w.step;
    for (let i = 0; i < 2; i++) await step(); // warm
    const calls0 = counter.totals.calls;
    await step();
    const dispatches = counter.totals.calls - calls0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const n = m.steps;
    for (let i = 0; i < n; i++) await step();
    const wall = (performance.now() - t0) / n;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1000 / n;
    process.send?.({ ms: wall, cpu, steps: n, describe: w.describe, backend: backend.name, dispatches });
  });
  process.send?.({ ready: true });
} else {
  const parts = (process.env.PART ?? 'meters,freeze').split(',');
  if (parts.includes('meters')) await meters();
  if (parts.includes('freeze')) await freeze();
}

async function meters() {
  const backend = await selectBackend((process.env.MIDDLEPATH_BACKEND as 'wasm' | undefined) ?? 'wasm');
  const settings = findTask('mnist').tiers.cpu;
  const { step } = workload('mnist');

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
  console.log(
    `backend ${backend.name}; dense MLP ${settings.size.width}×${settings.size.depth} on mnist, batch ${settings.batchSize}; ${rounds} alternating rounds`,
  );
  console.log(`bare step        ${median(means.bare).toFixed(2)} ms (median of round means)`);
  console.log(`measured step    ${median(means.measured).toFixed(2)} ms (FLOP counter counting + 10 Hz power sampler)`);
  console.log(`overhead         ${pct(median(ratios))} median, rounds ${ratios.map((r) => pct(r)).join(' ')} (target ≤ 3%)`);
}

async function freeze() {
  type Reply =
    | { ready: true }
    | { ms: number; cpu: number; steps: number; describe: string; backend: string; dispatches?: number; pairNs?: number };
  const start = (role: 'plain' | 'frozen') => {
    const child = fork(RUN_TS, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_FREEZE_ROLE: role },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let waiting: ((r: Reply) => void) | null = null;
    const ready = new Promise<Reply>((resolve) => {
      waiting = resolve;
    });
    child.on('message', (m: Reply) => {
      const w = waiting;
      waiting = null;
      w?.(m);
    });
    child.on('exit', (code) => {
      if (code !== 0 && waiting) throw new Error(`the ${role} child ended with code ${code}`);
    });
    return {
      ready,
      round(task: string, steps: number): Promise<Extract<Reply, { ms: number }>> {
        return new Promise((resolve) => {
          waiting = resolve as (r: Reply) => void;
          child.send({ task, steps });
        });
      },
      micro(dispatches: number): Promise<Extract<Reply, { ms: number }>> {
        return new Promise((resolve) => {
          waiting = resolve as (r: Reply) => void;
          child.send({ dispatches });
        });
      },
      end: () => child.send({ done: true }),
    };
  };
  const plain = start('plain');
  const frozen = start('frozen');
  await Promise.all([plain.ready, frozen.ready]);
  const tasks = (process.env.TASKS ?? 'mnist,parity').split(',');
  const stepsOf = (task: string) => Number(process.env.STEPS ?? (task === 'mnist' ? 10 : 20));
  console.log(
    `\nmeasurement freeze: two processes (one frozen, one not), FLOP counter counting in both; ${rounds} alternating rounds per task, ratio of each round's means`,
  );
  for (const task of tasks) {
    const means = { plain: [] as number[], frozen: [] as number[], plainCpu: [] as number[], frozenCpu: [] as number[] };
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    let describe = '';
    let dispatchesPerStep = 0;
    let backend = '';
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ([plain, frozen] as const) : ([frozen, plain] as const);
      const first = await order[0].round(task, stepsOf(task));
      const second = await order[1].round(task, stepsOf(task));
      const [p, f] = round % 2 === 0 ? [first, second] : [second, first];
      means.plain.push(p.ms);
      means.frozen.push(f.ms);
      ratios.push(f.ms / p.ms);
      means.plainCpu.push(p.cpu);
      means.frozenCpu.push(f.cpu);
      cpuRatios.push(f.cpu / p.cpu);
      describe = p.describe;
      dispatchesPerStep = p.dispatches ?? 0;
      backend = p.backend;
    }
    console.log(`${describe} (backend ${backend}; ${dispatchesPerStep} kernel dispatches a step)`);
    console.log(
      `  unfrozen step  ${median(means.plain).toFixed(3)} ms wall, ${median(means.plainCpu).toFixed(3)} ms CPU (medians of round means)`,
    );
    console.log(
      `  frozen step    ${median(means.frozen).toFixed(3)} ms wall, ${median(means.frozenCpu).toFixed(3)} ms CPU (guards installed, freeze()+thaw() around each step)`,
    );
    console.log(`  overhead, CPU  ${pct(median(cpuRatios))} median, rounds ${cpuRatios.map((r) => pct(r)).join(' ')} (target ≤ 5%)`);
    console.log(`  overhead, wall ${pct(median(ratios))} median, rounds ${ratios.map((r) => pct(r)).join(' ')}`);
  }
  // The guards' worst case: a trivial kernel's dispatch (tf.add of two scalars), nothing else.
  const micro = { plain: [] as number[], frozen: [] as number[], ratios: [] as number[], pairNs: [] as number[] };
  const dispatches = Number(process.env.DISPATCHES ?? 20_000);
  for (let round = 0; round < 2 * rounds; round++) {
    const order = round % 2 === 0 ? ([plain, frozen] as const) : ([frozen, plain] as const);
    const first = await order[0].micro(dispatches);
    const second = await order[1].micro(dispatches);
    const [p, f] = round % 2 === 0 ? [first, second] : [second, first];
    micro.plain.push(p.cpu);
    micro.frozen.push(f.cpu);
    micro.ratios.push(f.cpu / p.cpu);
    micro.pairNs.push(f.pairNs ?? 0);
  }
  console.log(`a trivial kernel's dispatch (tf.add of two scalars, ${dispatches} a round, ${2 * rounds} alternating rounds), CPU time:`);
  console.log(`  unfrozen       ${median(micro.plain).toFixed(2)} µs   frozen ${median(micro.frozen).toFixed(2)} µs   (medians)`);
  console.log(
    `  overhead       ${pct(median(micro.ratios))} median of round ratios (an upper bound per dispatch: a step's kernels also compute)`,
  );
  console.log(`freeze()+thaw() with its checks: ${median(micro.pairNs).toFixed(0)} ns a step`);
  plain.end();
  frozen.end();
}
