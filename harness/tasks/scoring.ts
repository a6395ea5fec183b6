/** Losses and held-out scorers shared by the tasks. */
import * as tf from '@tensorflow/tfjs';
import type { Batch, Scorer } from './types.ts';

/**
 * Mean softmax cross-entropy (nats) of logits [..., classes] against int32 labels [...]. One
 * kernel forward and one backward where the backend has FusedSoftmaxCrossEntropy
 * (kernels/fused-elementwise.ts: wasm+libxsmm), the composite tfjs ops elsewhere; the FLOP
 * ledger charges both the same.
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1] as number;
    const flat = logits.reshape([-1, classes]);
    if (logits.dtype === 'float32' && labels.dtype === 'int32' && tf.getKernel('FusedSoftmaxCrossEntropy', tf.getBackend())) {
      const [picked] = tf.engine().runKernel('FusedSoftmaxCrossEntropy', { logits: flat, labels: labels.reshape([-1]) }) as tf.Tensor[];
      return tf.neg(tf.mean(picked as tf.Tensor)) as tf.Scalar;
    }
    const logProbs = tf.logSoftmax(flat);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels.reshape([-1]), classes)), -1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * Accuracy and cross-entropy of class logits, overall and per group. Groups are weighted
 * by `groupWeights` when given (so a uniform held-out set can report accuracy under the
 * training distribution), else by their counts.
 */
export function classificationScorer(groupName: (g: number) => string, groupWeights?: number[]): Scorer {
  const correct = new Map<number, number>();
  const count = new Map<number, number>();
  let lossSum = 0;
  let n = 0;
  const exampleGroups: number[] = [];
  const exampleScores: number[] = [];
  return {
    add(output: tf.Tensor, batch: Batch) {
      const [pred, nll] = tf.tidy(() => {
        const labels = batch.y.reshape([-1]);
        const classes = output.shape[output.shape.length - 1] as number;
        const flat = output.reshape([-1, classes]);
        const picked = tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(labels, classes)), -1);
        return [tf.argMax(flat, -1), tf.neg(picked)];
      });
      const p = pred.dataSync();
      const l = nll.dataSync();
      const y = batch.y.dataSync();
      const g = batch.groups.dataSync();
      pred.dispose();
      nll.dispose();
      for (let i = 0; i < p.length; i++) {
        const group = g[i] as number;
        count.set(group, (count.get(group) ?? 0) + 1);
        if (p[i] === y[i]) correct.set(group, (correct.get(group) ?? 0) + 1);
        exampleGroups.push(group);
        exampleScores.push(p[i] === y[i] ? 1 : 0);
        lossSum += l[i] as number;
        n++;
      }
    },
    result() {
      const subQualities: Record<string, number> = {};
      let weighted = 0;
      let totalWeight = 0;
      for (const [group, c] of [...count.entries()].sort((a, b) => a[0] - b[0])) {
        const acc = (correct.get(group) ?? 0) / c;
        subQualities[groupName(group)] = acc;
        const w = groupWeights ? (groupWeights[group] ?? 0) : c;
        weighted += w * acc;
        totalWeight += w;
      }
      return { quality: totalWeight > 0 ? weighted / totalWeight : 0, evalLoss: n > 0 ? lossSum / n : Number.NaN, subQualities };
    },
    examples: () => ({ groups: Int32Array.from(exampleGroups), scores: Float64Array.from(exampleScores) }),
  };
}
