/**
 * One forward pass as the harness makes it, and the failure type every phase of a run
 * reports: a wrong shape or a non-finite output is the architecture's fault, with the fix.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, ForwardResult, Model, TaskSpec } from './architecture.ts';
import type { RunStatus } from './results/record.ts';
import type { Batch } from './tasks/types.ts';

/** A failure with the phase it happened in, for the record. */
export class RunFailure extends Error {
  constructor(
    readonly phase: 'build' | 'train' | 'eval',
    message: string,
    readonly status: RunStatus = 'failed',
  ) {
    super(message);
  }
}

export function expectedOutputShape(spec: TaskSpec, batch: number): number[] {
  const { input, output } = spec;
  if (output.kind === 'classes') return [batch, output.count];
  if (output.kind === 'reconstruction') return [batch, output.dim];
  return [batch, input.kind === 'tokens' ? input.length : 1, output.vocab];
}

/** Forward and check what came back; a wrong shape or a non-finite output is the architecture's fault. */
export function checkedForward(
  model: Model,
  spec: TaskSpec,
  batch: Batch,
  training: boolean,
  ablate?: ForwardContext['ablate'],
): ForwardResult {
  // Labels go to training steps only (gradient routing needs them); an evaluation that
  // passed them would let a model read the answer.
  const fctx: ForwardContext = training ? { training, groups: batch.groups } : ablate ? { training, ablate } : { training };
  const result = model.forward(batch.x, fctx);
  if (!result || !(result.output instanceof tf.Tensor)) {
    throw new RunFailure(training ? 'train' : 'eval', 'forward() must return { output: tf.Tensor, ... }');
  }
  if (result.output.dtype !== 'float32') {
    throw new RunFailure(
      training ? 'train' : 'eval',
      `forward() returned output of dtype ${result.output.dtype}; the task '${spec.id}' needs float32 (logits or values, not rounded or cast)`,
    );
  }
  const want = expectedOutputShape(spec, batch.x.shape[0] as number);
  const got = result.output.shape;
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new RunFailure(
      training ? 'train' : 'eval',
      `forward() returned output of shape [${got.join(', ')}]; the task '${spec.id}' needs [${want.join(', ')}] (${spec.output.kind})`,
    );
  }
  return result;
}
