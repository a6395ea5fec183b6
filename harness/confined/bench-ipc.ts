/**
 * `npm run bench:ipc`: what the trust boundary costs. Trains the dense baseline on mnist at
 * a tier's size (default cpu) with both runners in one process — the model in this process
 * (localRunner) and in a confined child (confinedRunner, batches over IPC) — in short
 * alternating rounds, and prints the time per step of each and the overhead as a ratio.
 * Target: ≤ 3% of a cpu-tier step (issue 24). The child's step time is the parent's clock
 * around handing the batch over and the step's round trip, exactly as trainRun measures it
 * (everything the child does is on the clock); the hand-over's share is printed apart.
 * BACKEND (default auto: the same native kernels in both processes; the child in the OS
 * sandbox where the machine has one).
 */
import { availableParallelism, loadavg } from 'node:os';
import { selectBackend } from '../backend.ts';
import { loadArchitecture } from '../load-architecture.ts';
import { installFlopCounter } from '../measure/flops.ts';
import { tierName } from '../results/record.ts';
import { localRunner, type Runner } from '../runner.ts';
import { findTask } from '../tasks/index.ts';
import { confinedBackendFor, confinedRunFor } from './runner.ts';
import { sandboxStatus } from './sandbox.ts';

const tier = tierName.parse(process.env.TIER ?? 'cpu');
const taskId = process.env.TASK ?? 'mnist';
const archName = process.env.ARCH ?? 'dense';
const rounds = Number(process.env.ROUNDS ?? 8);
const stepsPerRound = Number(process.env.STEPS ?? 40);

const choice = (process.env.BACKEND ?? 'auto') as Parameters<typeof selectBackend>[0];
const childBackend = await confinedBackendFor(choice, 'baseline');
const backend = await selectBackend(childBackend);
const counter = installFlopCounter(backend.tfjsName);
const task = findTask(taskId);
const settings = task.tiers[tier];
const arch = await loadArchitecture(archName);
const data = task.load({ runSeed: 0, dataSeed: 0 });
const setup = { spec: task.spec, size: settings.size, seed: 0, scope: 'bench', learningRate: settings.learningRate, data };

const runners: Record<'local' | 'confined', Runner> = {
  local: localRunner(arch, counter, setup),
  confined: (await confinedRunFor(arch, tier, childBackend, 600))(setup),
};
for (const r of Object.values(runners)) {
  await r.start();
  await r.build();
}

let bytesPerStep = 0;
/** CPU seconds so far of this process and, for the confined runner, of its child's process tree. */
const cpuOf = (r: Runner) => {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + (r.cpuSeconds?.() ?? 0);
};
const cpuMs = { local: [] as number[], confined: [] as number[], parent: [] as number[] };
const ownCpu = () => {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6;
};
async function round(r: Runner): Promise<number> {
  let ms = 0;
  const cpu0 = cpuOf(r);
  const own0 = ownCpu();
  for (let i = 0; i < stepsPerRound; i++) {
    const batch = data.nextTrainBatch(settings.batchSize);
    bytesPerStep = batch.x.size * 4 + batch.y.size * 4 + batch.groups.size * 4;
    const t0 = performance.now();
    await r.step(batch, settings.learningRate, false, i + 10);
    ms += performance.now() - t0;
    batch.x.dispose();
    batch.y.dispose();
    batch.groups.dispose();
  }
  (r === runners.local ? cpuMs.local : cpuMs.confined).push((1000 * (cpuOf(r) - cpu0)) / stepsPerRound);
  if (r !== runners.local) cpuMs.parent.push((1000 * (ownCpu() - own0)) / stepsPerRound);
  return ms / stepsPerRound;
}

// warm-up: the first steps pay for kernel set-up in both processes
await round(runners.local);
await round(runners.confined);
const ratios: number[] = [];
const means = { local: [] as number[], confined: [] as number[] };
for (let i = 0; i < rounds; i++) {
  const order: Array<'local' | 'confined'> = i % 2 === 0 ? ['local', 'confined'] : ['confined', 'local'];
  const got: Record<string, number> = {};
  for (const name of order) got[name] = await round(runners[name]);
  means.local.push(got.local as number);
  means.confined.push(got.confined as number);
  ratios.push((got.confined as number) / (got.local as number));
}
for (const r of Object.values(runners)) r.dispose();
data.dispose();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `${archName} on ${taskId}, ${tier} tier (width ${settings.size.width}, depth ${settings.size.depth}, batch ${settings.batchSize}); backend ${backend.name}; ${rounds} alternating rounds of ${stepsPerRound} steps; load average ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores`,
);
console.log(
  `batch            ${(bytesPerStep / 1024).toFixed(0)} KiB per step (x, y, groups), sent with the step's request on the child's pipe (in-process: made before the step)`,
);
console.log(`in-process step  ${median(means.local).toFixed(2)} ms (median of round means)`);
console.log(
  `confined step    ${median(means.confined).toFixed(2)} ms (${sandboxStatus().available ? 'child in the OS sandbox' : 'child under the permission model, no sandbox here'}: hand-over, the step's request and its signed answer)`,
);
// CPU time does not wait on a busy machine's scheduler: on a loaded machine it is the steadier reading of the work each side does
console.log(
  `CPU per step     in-process ${median(cpuMs.local).toFixed(2)} ms, confined ${median(cpuMs.confined).toFixed(2)} ms (parent ${median(cpuMs.parent).toFixed(2)} + child): ${(100 * (median(cpuMs.confined) / median(cpuMs.local) - 1)).toFixed(1)}% more`,
);
console.log(
  `overhead         ${(100 * (median(ratios) - 1)).toFixed(2)}% median, rounds ${ratios.map((r) => `${(100 * (r - 1)).toFixed(1)}%`).join(' ')} (target ≤ 3%: ${median(ratios) - 1 <= 0.03 ? 'met' : 'NOT met'})`,
);
process.exit(0);
