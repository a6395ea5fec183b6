/**
 * The confined runner: the training loop's Runner (harness/runner.ts) with the model in a
 * confined child process (host.ts). The data, the held-out labels, the scorer and the
 * clock stay here; the child gets each training batch and, once, the held-out inputs. What
 * comes back is checked before it is used: every reply is parsed (protocol.ts), each
 * evaluation output must have the task's shape, and nothing the child says about itself
 * (its name, its parameters) is taken without a check against what the harness knows.
 */
import * as tf from '@tensorflow/tfjs';
import { loadBlas } from '../../kernels/blas.ts';
import { loadXsmm } from '../../kernels/xsmm.ts';
import type { BackendChoice } from '../backend-names.ts';
import { UsageError } from '../errors.ts';
import type { EvalModel } from '../evaluate.ts';
import { expectedOutputShape, RunFailure } from '../forward.ts';
import type { Runner, RunnerSetup } from '../runner.ts';
import type { TierName } from '../tasks/tiers.ts';
import { limitsFor } from '../tiers.ts';
import { bundleForChild } from './bundle.ts';
import { ConfinedChild, type ConfinedOptions, moduleUrl, wasmDistDir } from './host.ts';
import type { ConfinedBackend, RawTensor, Reply, WireTensor } from './protocol.ts';
import { sandboxStatus } from './sandbox.ts';

export interface ConfinedRunOptions extends Omit<ConfinedOptions, 'bundle'> {
  /** the architecture module's path (a baseline's file or a submission), bundled here */
  modulePath: string;
}

const wireOf = (t: tf.Tensor): WireTensor => {
  const data = t.dataSync(); // a copy already: sent as is
  return { data: data instanceof Int32Array || data instanceof Float32Array ? data : Float32Array.from(data), shape: [...t.shape] };
};
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A tensor from the child's arrays, refused unless its shape and length agree. */
function tensorFrom(w: WireTensor, what: string, dtype: 'float32' | 'int32'): tf.Tensor {
  if (sizeOf(w.shape) !== w.data.length) {
    throw new RunFailure('eval', `${what}: ${w.data.length} values for shape [${w.shape.join(', ')}]`);
  }
  return tf.tensor(w.data, w.shape, dtype);
}

/** Bundle the module (in this, the trusted, process) and return the runner factory trainRun takes. */
export async function confinedRunner(o: ConfinedRunOptions): Promise<(setup: RunnerSetup) => Runner> {
  const bundle = await bundleForChild(o.modulePath);
  return (setup) => {
    let child: ConfinedChild | undefined;
    const live = () => {
      if (!child) throw new Error('confinedRunner: start() first');
      return child;
    };
    const evalModel = (reply: Reply<'evaluated'>): EvalModel => {
      const batches = setup.data.evalBatches;
      if (reply.batches.length !== batches.length) {
        throw new RunFailure(
          'eval',
          `the architecture's process returned ${reply.batches.length} evaluation outputs for ${batches.length} batches`,
        );
      }
      const embedding = reply.featureEmbedding;
      return {
        forwardEval(batch, index) {
          const r = reply.batches[index];
          if (!r) throw new RunFailure('eval', `no evaluation output for batch ${index}`);
          const want = expectedOutputShape(setup.spec, batch.x.shape[0] as number);
          if (r.output.shape.length !== want.length || r.output.shape.some((d, i) => d !== want[i])) {
            throw new RunFailure(
              'eval',
              `forward() returned output of shape [${r.output.shape.join(', ')}]; the task '${setup.spec.id}' needs [${want.join(', ')}] (${setup.spec.output.kind})`,
            );
          }
          return {
            output: tensorFrom(r.output, 'evaluation output', 'float32'),
            routing: r.routing.map((t) => ({
              layer: t.layer,
              experts: t.experts,
              assignment: tensorFrom(t.assignment, `routing assignment of '${t.layer}'`, 'int32'),
              ...(t.probabilities
                ? { probabilities: tensorFrom(t.probabilities, `routing probabilities of '${t.layer}'`, 'float32') }
                : {}),
            })),
            sparsity: r.sparsity,
          };
        },
        ...(embedding ? { featureEmbedding: () => tensorFrom(embedding, 'featureEmbedding()', 'float32') } : {}),
      };
    };
    return {
      async start() {
        const { modulePath: _, ...limits } = o;
        child = ConfinedChild.start({ ...limits, bundle });
        const ready = await live().request(
          {
            type: 'init',
            moduleUrl: moduleUrl(bundle),
            moduleLabel: o.modulePath,
            backend: o.backend,
            wasmDir: wasmDistDir(),
            spec: setup.spec,
            size: setup.size,
            seed: setup.seed,
            scope: setup.scope,
            learningRate: setup.learningRate,
            knobs: setup.knobs ?? {},
            evalInputs: setup.data.evalBatches.map((b) => wireOf(b.x)),
          },
          'ready',
        );
        if (ready.backend.name !== o.backend) {
          throw new RunFailure('build', `the architecture's process runs ${ready.backend.name}, not the ${o.backend} it was started for`);
        }
        return ready.architecture;
      },
      async build() {
        return live().request({ type: 'build' }, 'built');
      },
      confined: true,
      async step(batch, learningRate, sample, step) {
        // the batch travels with the step request, its values raw after it: one round trip a step, all of it on the caller's clock
        const values: ArrayBufferView[] = [];
        let offset = 0;
        const raw = (t: tf.Tensor): RawTensor => {
          const data = wireOf(t).data;
          values.push(data);
          const r = { shape: [...t.shape], dtype: data instanceof Int32Array ? ('int32' as const) : ('float32' as const), offset };
          offset += data.byteLength;
          return r;
        };
        const wired = { x: raw(batch.x), y: raw(batch.y), groups: raw(batch.groups) };
        return live().request({ type: 'step', step, learningRate, sample, batch: wired }, 'stepped', undefined, values);
      },
      async evaluation(ablate) {
        return evalModel(await live().request({ type: 'eval', ...(ablate ? { ablate } : {}) }, 'evaluated'));
      },
      // measured here, from /proc: the kernel's high-water mark where it can be read, else the polled peak
      peakRssBytes: () => child?.kernelPeakRssBytes() ?? child?.peakRssBytes ?? 0,
      cpuSeconds: () => child?.cpuSeconds() ?? null,
      stopped: () => child?.stoppedFor ?? null,
      stop: (why) => child?.stop(why),
      sandbox: () =>
        child?.sandbox ? { tool: child.sandbox.tool, version: child.sandbox.version, outsideUid: child.sandbox.outsideUid } : null,
      dispose() {
        child?.close();
      },
    };
  };
}

/**
 * The backend a confined run uses. Inside the OS sandbox (sandbox.ts) a native addon is no
 * escape hatch — the process can reach no file, process or socket of the harness whatever C
 * it calls — so submissions and baselines alike run on the system BLAS (`auto` picks
 * wasm+blas where one loads) and share the baselines' hardware class. Without the sandbox,
 * only Node's permission model confines the child and an FFI could call any C function, so
 * untrusted code gets no addons: `auto` and `wasm` give wasm, and wasm+blas is for baselines.
 */
export async function confinedBackendFor(choice: BackendChoice, origin: string): Promise<ConfinedBackend> {
  const boxed = sandboxStatus().available;
  if (choice === 'wasm') return 'wasm';
  if (choice === 'cpu') return 'cpu';
  if (choice === 'auto') return boxed ? await fastestNative() : 'wasm';
  if ((choice === 'wasm+blas' || choice === 'wasm+libxsmm') && (boxed || origin === 'baseline')) return choice;
  throw new UsageError(
    choice === 'wasm+blas' || choice === 'wasm+libxsmm'
      ? `${choice} calls native kernels through an addon (an FFI), which a confined submission may load only inside the OS sandbox, and this machine has none (${(sandboxStatus() as { reason?: string }).reason}): use --backend wasm`
      : `the ${choice} backend loads a native addon or a GPU driver, which a confined run may not: use --backend wasm, wasm+blas or cpu, or run it in a container without --confine`,
  );
}

/** What `auto` picks in the sandbox: the order selectBackend uses, of the native paths that load here. */
async function fastestNative(): Promise<ConfinedBackend> {
  const loads = (p: Promise<unknown>) =>
    p.then(
      () => true,
      () => false,
    );
  if (await loads(loadXsmm())) return 'wasm+libxsmm';
  if (await loads(loadBlas())) return 'wasm+blas';
  return 'wasm';
}

/** The confined runner for one run of the suite: the tier's memory limits, a step or evaluation at most the tier's time limit. */
export function confinedRunFor(
  arch: { path: string; origin: string },
  tier: TierName,
  backend: ConfinedBackend,
  timeLimitSeconds: number,
  blasThreads?: number,
): Promise<(setup: RunnerSetup) => Runner> {
  const limits = limitsFor(tier);
  return confinedRunner({
    modulePath: arch.path,
    backend,
    allowAddons: backend === 'wasm+blas' || backend === 'wasm+libxsmm',
    // the harness's own baselines may run without the OS sandbox where a machine has none; a module
    // given by path only as MIDDLEPATH_SANDBOX says (submit and verify: required; run: a loud warning)
    ...(arch.origin === 'baseline' ? { sandbox: 'optional' as const } : {}),
    heapMB: limits.heapMB,
    rssLimitMB: limits.rssLimitMB,
    requestSeconds: timeLimitSeconds,
    ...(blasThreads ? { blasThreads } : {}),
  });
}
