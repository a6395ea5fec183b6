import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { legibility } from '../results/record.ts';
import { featureInterference, superpositionStats } from './superposition.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 20;
const M = 5;
const zeros = () => Array.from({ length: N }, () => new Array<number>(M).fill(0));
const transpose = (w: number[][]) => (w[0] ?? []).map((_, j) => w.map((row) => row[j] as number));

/** Features 0..4 each own one hidden dimension; the other 15 are ignored. */
function identityLike(): number[][] {
  const w = zeros();
  for (let d = 0; d < M; d++) (w[d] as number[])[d] = 1;
  return w;
}

/** Features 2d and 2d+1 share dimension d with opposite signs: 10 features in 5 dimensions. */
function antipodal(): number[][] {
  const w = zeros();
  for (let d = 0; d < M; d++) {
    (w[2 * d] as number[])[d] = 1;
    (w[2 * d + 1] as number[])[d] = -1;
  }
  return w;
}

describe('superpositionStats', () => {
  it('scale-free D*: unchanged when the encoder is scaled by c (the decoder by 1/c leaves the model the same), where m/‖W‖²_F moves by 1/c²', () => {
    for (const w of [identityLike(), antipodal()]) {
      const a = superpositionStats(w);
      const b = superpositionStats(w.map((row) => row.map((v) => 0.45 * v)));
      expect(b?.dimensionsPerFeature).toBeCloseTo((a?.dimensionsPerFeature ?? 0) / 0.45 ** 2, 9);
      expect(b?.dimensionsPerFeatureScaleFree).toBeCloseTo(a?.dimensionsPerFeatureScaleFree ?? Number.NaN, 12);
      expect(b?.featureDimensionalitySum).toBeCloseTo(a?.featureDimensionalitySum ?? Number.NaN, 12);
    }
    // unit embeddings (the tied model's regime): the two D*s agree — 1 and 1/2
    expect(superpositionStats(identityLike())?.dimensionsPerFeatureScaleFree).toBeCloseTo(1, 12);
    expect(superpositionStats(antipodal())?.dimensionsPerFeatureScaleFree).toBeCloseTo(0.5, 12);
    expect(superpositionStats(antipodal())?.featureDimensionalitySum).toBeCloseTo(M, 12);
  });

  it('one feature per dimension: D* = 5/5 = 1, D_i = 1 for the represented features and 0 for the rest', () => {
    const s = superpositionStats(identityLike());
    expect(s).not.toBeNull();
    expect(s?.dimensionsPerFeature).toBeCloseTo(1, 12);
    expect(s?.perFeatureDimensionality).toEqual([...new Array(M).fill(1), ...new Array(N - M).fill(0)]);
    expect(legibility.shape.superposition.parse(s)).toEqual(s);
  });

  it('antipodal pairs: D* = 1/2, D_i = 1/2', () => {
    const s = superpositionStats(antipodal());
    expect(s?.dimensionsPerFeature).toBeCloseTo(0.5, 12);
    expect(s?.perFeatureDimensionality.slice(0, 10)).toEqual(new Array(10).fill(0.5));
    expect(s?.perFeatureDimensionality.slice(10)).toEqual(new Array(10).fill(0));
  });

  it('a pentagon (5 unit features in 2 dimensions) gives D* = D_i = 2/5', () => {
    const w = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);
    const s = superpositionStats(w);
    expect(s?.dimensionsPerFeature).toBeCloseTo(0.4, 12);
    for (const d of s?.perFeatureDimensionality ?? []) expect(d).toBeCloseTo(0.4, 12);
  });

  it('D_i does not depend on the scale of W; D* does (it counts ‖W‖²_F as features)', () => {
    const w = antipodal().map((r) => r.map((v) => 3 * v));
    const s = superpositionStats(w);
    expect(s?.perFeatureDimensionality[0]).toBeCloseTo(0.5, 12);
    expect(s?.dimensionsPerFeature).toBeCloseTo(5 / 90, 12);
  });

  it('reads a [n, m] tensor (the dense baseline hidden0.w) and the paper’s [m, n] layout alike', () => {
    const w = antipodal();
    const fromArray = superpositionStats(w);
    const t = tf.tensor2d(w, [N, M]);
    const tT = tf.tensor2d(transpose(w), [M, N]);
    expect(superpositionStats(t)).toEqual(fromArray);
    expect(superpositionStats(tT, 'hidden-by-features')).toEqual(fromArray);
    expect(superpositionStats(transpose(w), 'hidden-by-features')).toEqual(fromArray);
    // read in the wrong layout, the answer is different: the layout matters
    expect(superpositionStats(tT)?.dimensionsPerFeature).toBeCloseTo(20 / 10, 12);
    expect(t.isDisposed || tT.isDisposed).toBe(false);
    tf.dispose([t, tT]);
  });

  it('is null for an all-zero W, and refuses a non-matrix', () => {
    expect(superpositionStats(zeros())).toBeNull();
    const v = tf.tensor1d([1, 2]);
    expect(() => superpositionStats(v)).toThrow(/matrix/);
    v.dispose();
  });
});

describe('featureInterference', () => {
  it('is 0 for orthogonal features and 1 for each member of an antipodal pair', () => {
    expect(featureInterference(identityLike()).every((v) => Math.abs(v) < 1e-12)).toBe(true);
    const i = featureInterference(antipodal());
    for (const v of i.slice(0, 10)) expect(v).toBeCloseTo(1, 12);
    expect(i.slice(10)).toEqual(new Array(10).fill(0));
  });
});
