/**
 * Superposition of an encoder W (Elhage et al. 2022, "Toy Models of Superposition"):
 * how many hidden dimensions each input feature gets.
 *
 * Layout: by default W is [n features, m hidden] — row i is feature i's embedding W_i —
 * which is how nn.linear stores x·W (the dense baseline's `hidden0.w` is [20, 5]). The
 * paper's W ∈ R^{m×n}, with W_i as columns, is accepted as 'hidden-by-features'.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Legibility } from '../results/record.ts';

export type SuperpositionStats = NonNullable<Legibility['superposition']>;
export type WeightLayout = 'features-by-hidden' | 'hidden-by-features';
export type Weights = tf.Tensor | readonly (readonly number[])[];

/** Feature embeddings W_i as float64 rows. */
function featureRows(w: Weights, layout: WeightLayout): { rows: Float64Array[]; hidden: number } {
  let matrix: readonly (readonly number[])[];
  if (Array.isArray(w)) matrix = w as readonly (readonly number[])[];
  else {
    const t = w as tf.Tensor;
    if (t.rank !== 2) throw new Error(`superposition: W must be a matrix, got shape [${t.shape}]`);
    matrix = t.arraySync() as number[][];
  }
  const outer = matrix.length;
  const inner = matrix[0]?.length ?? 0;
  if (matrix.some((r) => r.length !== inner)) throw new Error('superposition: W has rows of different lengths');
  if (layout === 'features-by-hidden') return { rows: matrix.map((r) => Float64Array.from(r)), hidden: inner };
  const rows = Array.from({ length: inner }, (_, i) => Float64Array.from(matrix, (r) => r[i] as number));
  return { rows, hidden: outer };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * Per feature i: its squared norm ‖W_i‖² and Σ_j (Ŵ_i·W_j)² over all j (including i,
 * which contributes ‖W_i‖²). A feature with W_i = 0 has no direction: both are 0.
 */
function projections(rows: Float64Array[]): { norm2: number[]; projected: number[] } {
  const norm2 = rows.map((r) => dot(r, r));
  const projected = rows.map((ri, i) => {
    const ni = norm2[i] as number;
    if (!(ni > 0)) return 0;
    let s = 0;
    for (const rj of rows) s += dot(ri, rj) ** 2;
    return s / ni; // Σ_j (W_i·W_j)² / ‖W_i‖² = Σ_j (Ŵ_i·W_j)²
  });
  return { norm2, projected };
}

/**
 * Why two D*s. Elhage et al.'s D* = m / ‖W‖²_F assumes the tied toy model, where a
 * represented feature's embedding has norm ≈ 1. An untied encoder/decoder can scale its
 * encoder by c and its decoder by 1/c without changing the function, and D* moves by 1/c²
 * (the dense baseline read 0.19–0.22 while ~5 features had D_i = 1). So a record also
 * carries, on the same encoder W:
 * - dimensionsPerFeatureScaleFree = m / PR, PR = (Σ_i ‖W_i‖²)² / Σ_i ‖W_i‖⁴, the
 *   participation ratio of the feature norms: the effective number of represented
 *   features. It is unchanged by W → cW, and equals D* when the represented features have
 *   equal norms and the rest are 0 (k unit embeddings: PR = ‖W‖²_F = k).
 * - featureDimensionalitySum = Σ_i D_i: the hidden dimensions the features occupy (≤ m;
 *   unchanged by W → cW).
 * Read these across architectures; `dimensionsPerFeature` is kept only so older records
 * keep their meaning.
 *
 * Dimensions per feature D* = m / ‖W‖²_F and per-feature dimensionality
 * D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (0 for a feature the encoder ignores, W_i = 0).
 * D* is sticky at 1 (one feature per dimension) and 1/2 (antipodal pairs); D_i is 1 for a
 * feature with a dimension of its own, 1/2 for one of an antipodal pair, 0 when ignored.
 * Null when W is all zeros: no feature is represented and D* is undefined.
 */
export function superpositionStats(w: Weights, layout: WeightLayout = 'features-by-hidden'): SuperpositionStats | null {
  const { rows, hidden } = featureRows(w, layout);
  const { norm2, projected } = projections(rows);
  const frobenius2 = norm2.reduce((a, b) => a + b, 0);
  if (!(frobenius2 > 0) || !Number.isFinite(frobenius2)) return null;
  const perFeature = norm2.map((n, i) => ((projected[i] as number) > 0 ? n / (projected[i] as number) : 0));
  const fourth = norm2.reduce((a, n) => a + n * n, 0);
  return {
    dimensionsPerFeature: hidden / frobenius2,
    perFeatureDimensionality: perFeature,
    // m over the participation ratio of the feature norms (see the comment above the schema field)
    dimensionsPerFeatureScaleFree: (hidden * fourth) / (frobenius2 * frobenius2),
    featureDimensionalitySum: perFeature.reduce((a, b) => a + b, 0),
  };
}

/** Interference of each feature, Σ_{j≠i} (Ŵ_i·W_j)² (0 for an ignored feature); not recorded, for analysis. */
export function featureInterference(w: Weights, layout: WeightLayout = 'features-by-hidden'): number[] {
  const { rows } = featureRows(w, layout);
  const { norm2, projected } = projections(rows);
  // The j = i term of the projection sum is ‖W_i‖² itself.
  return projected.map((p, i) => Math.max(0, p - (norm2[i] as number)));
}
