/**
 * The parts of a run that execute the architecture's code: building its model and one
 * training step. They run wherever the architecture runs — in the confined child
 * (harness/confined/child.ts) or, for the in-process path, in the harness's own process —
 * so they import nothing of the meters, the data or the record.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../kernels/fused-adam.ts';
import type { Model, SizeSpec, TaskSpec } from './architecture.ts';
import type { OwnedBuildContext } from './build-context.ts';
import { thrownMessage } from './errors.ts';
import { checkedForward, RunFailure } from './forward.ts';
import type { LoadedArchitecture } from './load-architecture.ts';
import { tamperOf } from './measure/freeze.ts';
import { densityOfChange } from './metrics/sparsity.ts';
import type { Batch, TaskData } from './tasks/types.ts';

/** Adam whose learning rate the harness's schedule sets before every step (one fused pass on wasm+libxsmm: kernels/fused-adam.ts). */
export class ScheduledAdam extends FusedAdamOptimizer {
  setLearningRate(lr: number) {
    this.learningRate = lr;
  }
}

/**
 * Build the architecture's model for a task and check that it is a Model (its size is
 * checked by checkParamCaps). Exported for submission validation, which runs the same checks.
 */
export function buildModel(arch: Pick<LoadedArchitecture, 'architecture'>, spec: TaskSpec, size: SizeSpec, ctx: OwnedBuildContext): Model {
  let model: Model;
  try {
    model = arch.architecture.build(spec, size, ctx);
  } catch (e) {
    // a frozen kernel config's or the engine's TypeError is the measurement freeze's refusal (measure/freeze.ts)
    const tamper = tamperOf(e);
    if (tamper) throw new RunFailure('build', tamper.message);
    throw new RunFailure('build', `build() threw: ${thrownMessage(e)}`);
  }
  if (!model || !Array.isArray(model.variables) || typeof model.forward !== 'function') {
    throw new RunFailure('build', 'build() must return a Model: { variables: tf.Variable[], forward(x, ctx) }');
  }
  if (model.variables.length === 0) throw new RunFailure('build', 'the model has no variables to train');
  return model;
}

/**
 * One training step: forward, task loss (+ aux loss), gradients (masked if the model asks),
 * optimizer update, all inside one tidy. Returns the task loss (kept; the caller disposes it)
 * and, when sampled, the share of non-zero gradients. Exported for submission validation.
 */
export function trainingStep(
  model: Model,
  spec: TaskSpec,
  data: Pick<TaskData, 'loss'>,
  batch: Batch,
  optimizer: ScheduledAdam,
  sample: boolean,
  step: number,
): { taskLoss: tf.Scalar | undefined; gradientShare: number } {
  let taskLoss: tf.Scalar | undefined;
  let gradientShare = 0;
  try {
    tf.tidy(() => {
      const { grads: reached } = tf.variableGrads(() => {
        const result = checkedForward(model, spec, batch, true);
        const loss = data.loss(result.output, batch);
        taskLoss = tf.keep(loss);
        return result.auxLoss ? (tf.add(loss, result.auxLoss) as tf.Scalar) : loss;
      }, model.variables);
      // tfjs's Adam pairs its moment slots with gradients by position, not by name: a variable
      // this step did not reach (an idle expert) must still get a (zero) gradient, in its place.
      // So: every variable, always in the model's order.
      const grads: tf.NamedTensorMap = {};
      for (const v of model.variables) grads[v.name] = reached[v.name] ?? tf.zerosLike(v);
      const masks = model.gradientMask?.({ x: batch.x, groups: batch.groups });
      if (masks) {
        for (const v of model.variables) {
          const mask = masks.get(v);
          const g = grads[v.name];
          if (mask && g) grads[v.name] = tf.mul(g, mask);
        }
      }
      if (sample) gradientShare = densityOfChange(Object.values(grads));
      optimizer.applyGradients(grads as tf.NamedTensorMap as Parameters<ScheduledAdam['applyGradients']>[0]);
    });
  } catch (e) {
    taskLoss?.dispose();
    if (e instanceof RunFailure) throw e;
    throw new RunFailure('train', `forward/backward threw at step ${step}: ${thrownMessage(e)}`);
  }
  return { taskLoss, gradientShare };
}
