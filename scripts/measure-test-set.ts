/**
 * Measure a held-out set's standard error where no formula gives it (a mean loss, not an
 * accuracy): train dense once at the tier, and at its final evaluation read each held-out
 * example's own contribution to the quality (superposition: its weighted squared error;
 * charlm: the bits per character of its window, so correlation inside a window is kept).
 * The standard error is their standard deviation over √n. Prints the figure the task's
 * constants state; writes no record.
 *
 *   node bin/run-ts.js scripts/measure-test-set.ts superposition charlm [--tier cpu] [--seed 0]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { sampleStandardDeviation } from 'simple-statistics';
import { selectBackend } from '../harness/backend.ts';
import { loadArchitecture } from '../harness/load-architecture.ts';
import { collectFingerprint, hardwareClass } from '../harness/measure/fingerprint.ts';
import { installFlopCounter } from '../harness/measure/flops.ts';
import type { TierName } from '../harness/results/record.ts';
import { findTask } from '../harness/tasks/index.ts';
import { IMPORTANCE } from '../harness/tasks/superposition.info.ts';
import type { Batch, Task, TaskData } from '../harness/tasks/types.ts';
import { trainRun } from '../harness/train.ts';

/** Each example's contribution to the task's quality (the quality is their mean). */
const PER_EXAMPLE: Record<string, (output: tf.Tensor, batch: Batch) => tf.Tensor1D> = {
  superposition: (output, batch) => tf.sum(tf.mul(tf.square(tf.sub(output, batch.y)), tf.tensor1d(IMPORTANCE)), -1) as tf.Tensor1D,
  charlm: (output, batch) => {
    const vocab = output.shape.at(-1) as number;
    const picked = tf.sum(tf.mul(tf.logSoftmax(output), tf.oneHot(tf.cast(batch.y, 'int32'), vocab)), -1);
    return tf.div(tf.neg(tf.mean(picked, -1)), Math.LN2) as tf.Tensor1D;
  },
};

/** The task with its scorer also keeping the latest evaluation's per-example values. */
function watched(task: Task, perExample: (o: tf.Tensor, b: Batch) => tf.Tensor1D, sink: { values: number[] }): Task {
  return {
    ...task,
    load(opts): TaskData {
      const data = task.load(opts);
      return {
        ...data,
        scorer() {
          const inner = data.scorer();
          const values: number[] = [];
          return {
            add(output, batch) {
              inner.add(output, batch);
              const v = tf.tidy(() => perExample(output, batch));
              values.push(...v.dataSync());
              v.dispose();
            },
            result() {
              sink.values = values;
              return inner.result();
            },
          };
        },
      };
    },
  };
}

async function main(): Promise<void> {
  const { values: o, positionals } = parseArgs({
    allowPositionals: true,
    options: { tier: { type: 'string', default: 'cpu' }, seed: { type: 'string', default: '0' } },
  });
  const tier = o.tier as TierName;
  const backend = await selectBackend('auto');
  const counter = installFlopCounter(backend.tfjsName);
  const fingerprint = await collectFingerprint({ backend: backend.name, backendVersion: backend.version, device: backend.device });
  const arch = await loadArchitecture('dense');
  for (const id of positionals) {
    const perExample = PER_EXAMPLE[id];
    if (!perExample)
      throw new Error(
        `no per-example reading for task '${id}' (accuracy tasks use the binomial formula): one of ${Object.keys(PER_EXAMPLE).join(', ')}`,
      );
    const sink = { values: [] as number[] };
    const record = await trainRun({
      task: watched(findTask(id), perExample, sink),
      tier,
      seed: Number(o.seed),
      variantSeed: null,
      arch,
      backend,
      counter,
      fingerprint,
      hardwareClass: hardwareClass(fingerprint),
    });
    const n = sink.values.length;
    const mean = sink.values.reduce((a, b) => a + b, 0) / n;
    const se = sampleStandardDeviation(sink.values) / Math.sqrt(n);
    console.log(
      `${id} ${tier}: dense seed ${o.seed} ${record.status}, final quality ${record.final?.quality.toPrecision(5)} (per-example mean ${mean.toPrecision(5)}); ` +
        `n = ${n}, sd ${sampleStandardDeviation(sink.values).toPrecision(4)}, standard error ${se.toPrecision(3)}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
