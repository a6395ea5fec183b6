/**
 * The validation child, bundled and started by validate.ts under Node's permission model:
 * `node --experimental-permission … validate.mjs MODULE_BUNDLE LABEL IS_BASELINE SOURCE_HASH TIER BACKEND TENSOR_LIMIT_MB WASM_DIR`.
 * Loads the module (bundled by the parent) and, on every task of the tier, builds the model, checks its size, runs
 * one evaluation forward and a few training steps through the harness's own code
 * (train.ts), and reports each phase and result as JSON lines on fd 3 (protocol.ts). The
 * parent enforces the time and memory limits; this process only checks what it can see
 * between steps (tensor bytes).
 */
import { writeSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../../kernels/wasm-setup.ts';
import { type BackendChoice, selectBackend } from '../backend.ts';
import { createBuildContext } from '../build-context.ts';
import { ArchitectureError, thrownMessage } from '../errors.ts';
import { checkedForward, RunFailure } from '../forward.ts';
import { checkDefaultExport, type LoadedArchitecture } from '../load-architecture.ts';
import { installFlopCounter } from '../measure/flops.ts';
import { paramCounts } from '../measure/model-flops.ts';
import { type TierName, tierName } from '../results/record.ts';
import { TASKS } from '../tasks/index.ts';
import type { Task } from '../tasks/types.ts';
import { buildModel, checkParamCaps, ScheduledAdam, trainingStep } from '../train.ts';
import { type CheckName, type ChildMessage, REPORT_FD } from './protocol.ts';
import { timeVerdict } from './time-check.ts';

/** Steps per task: step 1 creates the optimizer's slots, step 2 sets the tensor baseline, 3–5 must not exceed it. */
const STEPS = 5;
/** the timing burst after the checked steps: at most this many steps or this long */
const TIMING_STEPS = 400;
const TIMING_MS = 1000;

const send = (m: ChildMessage) => writeSync(REPORT_FD, `${JSON.stringify(m)}\n`);
const begin = (check: CheckName, task: string | null, step?: number) => send({ type: 'begin', check, task, ...(step ? { step } : {}) });
const fail = (check: CheckName, task: string | null, message: string, fix: string) =>
  send({ type: 'fail', failure: { check, task, message, fix } });
const firstLine = (e: unknown) => thrownMessage(e).split('\n')[0] ?? '';

const FIX = {
  import: 'make the module import cleanly on its own: `npx middlepath run --arch <module> --task superposition` shows the full error',
  defaultExport:
    'end the module with `export default defineArchitecture({ name, family, description, build })`, importing defineArchitecture from middlepath',
  build:
    "make build(task, size, ctx) return { variables, forward } for this task's TaskSpec, or decline the task with `refuse: (task) => 'reason'`",
  paramCap:
    'make the model smaller for this task: use size.width / size.depth, and stay within size.maxParams (total) and size.maxActiveParams (per example)',
  outputShape:
    'return `output` with the shape TaskSpec.output asks for: classes → [batch, count], reconstruction → [batch, dim], next-token → [batch, length, vocab]',
  evalForward: 'make forward(x, { training: false }) free of exceptions for this task: the harness evaluates in this mode from step 0',
  finiteEval:
    'keep the outputs finite in evaluation mode too (training: false): scoring reads every value, and NaN or Infinity scores as a failed run',
  trainStep: 'make forward(x, { training: true }) and its auxLoss differentiable and free of exceptions for this task',
  finiteLoss:
    "keep the loss finite from the first steps at the harness's learning rate: look for division by zero, log of 0, sqrt of a negative, or an initialisation that explodes",
  leak: 'dispose every tensor forward() creates outside the harness tf.tidy (no tf.keep, no module-level arrays of tensors); create variables in build(), not forward()',
  memory: "stay within the tier's memory: dispose what you allocate and size tensors from SizeSpec, not from a loop",
  time: "make a training step cheaper: the run must reach the tier's FLOP budget within its time limit",
} as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : 0;
}

async function validateTask(
  loaded: LoadedArchitecture,
  task: Task,
  tier: TierName,
  counter: ReturnType<typeof installFlopCounter>,
  tensorLimitBytes: number,
) {
  const id = task.spec.id;
  const settings = task.tiers[tier];
  begin('refuse', id);
  let refusal: string | undefined;
  try {
    refusal = loaded.architecture.refuse?.(task.spec);
  } catch (e) {
    fail('refuse', id, `refuse() threw: ${firstLine(e)}`, 'make refuse(task) return a reason string or undefined, never throw');
    return;
  }
  if (refusal) {
    send({ type: 'refused', task: id, reason: refusal });
    return;
  }
  begin('data', id);
  const data = task.load({ runSeed: 0, dataSeed: 0 });
  const ctx = createBuildContext(0, `validate.${id}`);
  let optimizer: ScheduledAdam | undefined;
  try {
    begin('build', id);
    let model: ReturnType<typeof buildModel>;
    try {
      model = buildModel(loaded, task.spec, settings.size, ctx);
    } catch (e) {
      fail('build', id, firstLine(e), FIX.build);
      return;
    }
    const params = paramCounts(model, ctx);
    begin('param-cap', id);
    try {
      checkParamCaps(params, settings.size, tier, id, loaded);
    } catch (e) {
      fail('param-cap', id, firstLine(e), FIX.paramCap);
      return;
    }

    begin('eval-forward', id);
    const evalBatch = data.evalBatches[0];
    if (evalBatch) {
      try {
        // evaluation reads the outputs: a non-finite one is refused here as a run would fail on it
        const bad = tf.tidy(() => {
          const out = checkedForward(model, task.spec, evalBatch, false).output;
          return out.isFinite().logicalNot().sum().dataSync()[0] ?? 0;
        });
        if (bad > 0) {
          fail('eval-forward', id, `forward(x, { training: false }) returned ${bad} NaN or infinite output value(s)`, FIX.finiteEval);
          return;
        }
      } catch (e) {
        if (e instanceof RunFailure) fail('output-shape', id, `in evaluation (training: false): ${e.message}`, FIX.outputShape);
        else fail('eval-forward', id, `forward(x, { training: false }) threw: ${firstLine(e)}`, FIX.evalForward);
        return;
      }
    }

    optimizer = new ScheduledAdam(settings.learningRate, 0.9, 0.999, 1e-8);
    let baseline = -1;
    let strikes = 0;
    let peakTensorBytes = 0;
    for (let step = 1; step <= STEPS; step++) {
      begin('train-step', id, step);
      const batch = data.nextTrainBatch(settings.batchSize);
      let loss: number;
      // counted as in a run: a kernel with no FLOP price is refused here, not first in the suite
      counter.active = true;
      try {
        const { taskLoss } = trainingStep(model, task.spec, data, batch, optimizer, false, step);
        loss = taskLoss ? ((await taskLoss.data())[0] as number) : Number.NaN; // device sync, as in training
        taskLoss?.dispose();
      } catch (e) {
        const message = firstLine(e);
        // trainingStep wraps the module's own exceptions; anything else from checkedForward is a wrong output
        if (message.startsWith('forward/backward threw')) fail('train-step', id, message, FIX.trainStep);
        else fail('output-shape', id, `in training (training: true): ${message}`, FIX.outputShape);
        return;
      } finally {
        counter.active = false;
        tf.dispose([batch.x, batch.y, batch.groups]);
      }
      if (!Number.isFinite(loss)) {
        fail('finite-loss', id, `the training loss is ${loss} at step ${step}`, FIX.finiteLoss);
        return;
      }
      const mem = tf.memory();
      peakTensorBytes = Math.max(peakTensorBytes, mem.numBytes);
      if (mem.numBytes > tensorLimitBytes) {
        fail(
          'memory',
          id,
          `${(mem.numBytes / 2 ** 20).toFixed(0)} MB of tensors alive after step ${step} (limit ${(tensorLimitBytes / 2 ** 20).toFixed(0)} MB)`,
          FIX.memory,
        );
        return;
      }
      // the same rule as training: more tensors than after step 2 at each of steps 3, 4 and 5
      if (step === 2) baseline = mem.numTensors;
      else if (step > 2 && mem.numTensors > baseline) strikes++;
      if (step === STEPS && strikes === STEPS - 2) {
        fail(
          'leak',
          id,
          `${mem.numTensors - baseline} more tensors alive after step ${step} than after step 2 — the model leaks tensors on every step`,
          FIX.leak,
        );
        return;
      }
    }
    // Step time: the first steps pay for kernel set-up (7× a settled step for a small MLP),
    // so time a short burst of further steps and take the median of its second half.
    begin('time', id);
    const timed: { seconds: number; flops: number }[] = [];
    const burstStart = performance.now();
    while (timed.length < TIMING_STEPS && performance.now() - burstStart < TIMING_MS) {
      const batch = data.nextTrainBatch(settings.batchSize);
      counter.reset();
      counter.active = true;
      const t0 = performance.now();
      try {
        const { taskLoss } = trainingStep(model, task.spec, data, batch, optimizer, false, STEPS + timed.length + 1);
        if (taskLoss) await taskLoss.data();
        taskLoss?.dispose();
      } catch (e) {
        fail('train-step', id, firstLine(e), FIX.trainStep);
        return;
      } finally {
        counter.active = false;
        tf.dispose([batch.x, batch.y, batch.groups]);
      }
      timed.push({ seconds: (performance.now() - t0) / 1000, flops: counter.totals.total });
    }
    const settled = timed.slice(Math.floor(timed.length / 2));
    const seconds = median(settled.map((t) => t.seconds));
    const flops = median(settled.map((t) => t.flops));
    const estimatedRunSeconds = flops > 0 ? (settings.budgetFlops / flops) * seconds : Number.POSITIVE_INFINITY;
    // An estimate from a short burst runs high (a small MLP's settled step was 1.3× faster
    // still), so only twice the limit fails; past the limit alone is a warning.
    const estimate = `a training step takes ${(seconds * 1000).toFixed(2)} ms for ${flops.toExponential(2)} executed FLOPs: reaching the ${tier} budget of ${settings.budgetFlops.toExponential(1)} FLOPs would take about ${estimatedRunSeconds.toFixed(0)} s on this machine; the tier stops a run at ${settings.timeLimitSeconds} s`;
    const cores = availableParallelism();
    const load = loadavg()[0] ?? 0;
    switch (timeVerdict(estimatedRunSeconds, settings.timeLimitSeconds, load / cores)) {
      case 'too slow':
        fail('time', id, estimate, FIX.time);
        return;
      case 'too slow, machine busy':
        send({
          type: 'warn',
          check: 'time',
          task: id,
          message: `${estimate}, timed while the machine was busy (load ${load.toFixed(1)} on ${cores} cores), so not failed: validate again on a quiet machine`,
        });
        break;
      case 'may time out':
        send({ type: 'warn', check: 'time', task: id, message: `${estimate} — it may time out` });
        break;
      case 'ok':
        break;
    }
    send({ type: 'task-ok', task: id, params, stepSeconds: seconds, flopsPerStep: flops, estimatedRunSeconds, peakTensorBytes });
  } finally {
    optimizer?.dispose();
    ctx.dispose();
    data.dispose();
  }
}

async function main(): Promise<void> {
  const [moduleFile, label, isBaseline, sourceHash, tierArg, backendArg, tensorLimitArg, wasmDir] = process.argv.slice(2);
  const tier = tierName.parse(tierArg);
  if (!moduleFile || !label || !sourceHash || !wasmDir)
    throw new Error('usage: validate.mjs MODULE_BUNDLE LABEL IS_BASELINE SOURCE_HASH TIER BACKEND TENSOR_LIMIT_MB WASM_DIR');
  // the wasm backend is handed its folder: under the permission model it reads the .wasm files but resolves no packages
  if (backendArg !== 'cpu') await useWasmBackend(wasmDir);
  const backend = await selectBackend((backendArg ?? 'wasm') as BackendChoice);
  const counter = installFlopCounter(backend.tfjsName);
  send({ type: 'hello', backend: backend.name, tier });

  begin('import', null);
  let loaded: LoadedArchitecture;
  try {
    const mod = (await import(pathToFileURL(moduleFile).href)) as { default?: unknown };
    const architecture = checkDefaultExport(label, isBaseline === 'true', mod.default);
    loaded = { architecture, origin: isBaseline === 'true' ? 'baseline' : label, path: label, sourceHash };
  } catch (e) {
    const message = firstLine(e);
    if (e instanceof ArchitectureError && /no default export|default export is not an architecture/.test(message)) {
      fail('default-export', null, message, FIX.defaultExport);
    } else fail('import', null, `${label} failed to load: ${message}`, FIX.import);
    send({ type: 'done' });
    return;
  }
  const a = loaded.architecture;
  send({ type: 'module', name: a.name, family: a.family, description: a.description, sourceHash: loaded.sourceHash });
  const tensorLimitBytes = Number(tensorLimitArg ?? 1024) * 2 ** 20;
  for (const task of TASKS) await validateTask(loaded, task, tier, counter, tensorLimitBytes);
  send({ type: 'done' });
}

try {
  await main();
  process.exit(0);
} catch (e) {
  // a harness error, not the module's: the parent reports it as a crash with this text
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(3);
}
