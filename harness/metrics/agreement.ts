/**
 * How much one partition of examples (expert choice) says about another (the task's group
 * label), chance-adjusted: adjusted mutual information (Vinh, Epps & Bailey 2010, "Information
 * theoretic measures for clusterings comparison", JMLR 11) and a permutation null beside it.
 *
 * No maintained JavaScript package computes AMI (scikit-learn's `adjusted_mutual_info_score`
 * is the reference this follows: arithmetic-mean normalisation, natural logs).
 */
import { mean, quantile } from 'simple-statistics';
import { permutation, rng } from '../tasks/random.ts';

/** log(k!) for k = 0..n, by cumulative sums (exact to float64 rounding; n is at most a held-out set). */
function logFactorials(n: number): Float64Array {
  const table = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) table[k] = (table[k - 1] as number) + Math.log(k);
  return table;
}

function plogp(counts: Iterable<number>, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** The occupied row and column sums of a count table, and its total. */
export function marginals(table: readonly (readonly number[])[]): { rows: number[]; cols: number[]; n: number } {
  const colSums: number[] = [];
  const rows: number[] = [];
  for (const row of table) {
    let r = 0;
    row.forEach((c, j) => {
      r += c;
      colSums[j] = (colSums[j] ?? 0) + c;
    });
    if (r > 0) rows.push(r);
  }
  const cols = colSums.filter((c) => c > 0);
  return { rows, cols, n: rows.reduce((a, b) => a + b, 0) };
}

/** Plug-in mutual information (nats) of a count table. */
export function mutualInformation(table: readonly (readonly number[])[]): number {
  const { rows, cols, n } = marginals(table);
  if (!(n > 0)) return 0;
  const cells = table.flatMap((row) => row.filter((c) => c > 0));
  return Math.max(0, plogp(rows, n) + plogp(cols, n) - plogp(cells, n));
}

/**
 * E[MI] of two partitions with these cluster sizes under random assignment (the
 * hypergeometric model, Vinh et al. 2010 eq. 24a): it depends on the marginals only.
 */
export function expectedMutualInformation(rows: readonly number[], cols: readonly number[], n: number): number {
  const lf = logFactorials(n);
  let emi = 0;
  for (const a of rows) {
    for (const b of cols) {
      const fixed = (lf[a] as number) + (lf[b] as number) + (lf[n - a] as number) + (lf[n - b] as number) - (lf[n] as number);
      for (let nij = Math.max(1, a + b - n); nij <= Math.min(a, b); nij++) {
        const logP = fixed - (lf[nij] as number) - (lf[a - nij] as number) - (lf[b - nij] as number) - (lf[n - a - b + nij] as number);
        emi += (nij / n) * Math.log((n * nij) / (a * b)) * Math.exp(logP);
      }
    }
  }
  return emi;
}

function adjusted(mi: number, rows: readonly number[], cols: readonly number[], n: number, emi: number): number {
  // One cluster on both sides, or none: the partitions agree trivially (scikit-learn's convention).
  if ((rows.length <= 1 && cols.length <= 1) || n === 0) return 1;
  const mean = (plogp(rows, n) + plogp(cols, n)) / 2;
  const denominator = mean - emi;
  const safe = denominator < 0 ? Math.min(denominator, -Number.EPSILON) : Math.max(denominator, Number.EPSILON);
  return (mi - emi) / safe;
}

/**
 * AMI = (MI − E[MI]) / (½(H(U) + H(V)) − E[MI]) of a count table table[u][v]: 1 when the
 * partitions are identical up to relabelling, ≈ 0 (either sign) when independent. Unlike
 * a min-normalised NMI, a many-to-one routing (10 digits onto 5 experts) scores below 1.
 */
export function adjustedMutualInformation(table: readonly (readonly number[])[]): number {
  const { rows, cols, n } = marginals(table);
  return adjusted(mutualInformation(table), rows, cols, n, expectedMutualInformation(rows, cols, n));
}

export interface PermutationNull {
  /** how many label permutations were scored */
  permutations: number;
  mean: number;
  /** 95th percentile */
  p95: number;
}

/**
 * AMI of paired labels u[i], v[i] (non-negative integers) and its permutation null: the
 * same AMI with u shuffled `permutations` times by a seeded stream (seed fixed, so a record
 * is reproducible). E[MI] is computed once: a permutation keeps both marginals.
 */
export function amiWithNull(
  u: Int32Array,
  v: Int32Array,
  opts: { permutations: number; seed: string },
): { ami: number; null: PermutationNull } {
  if (u.length !== v.length) throw new Error(`amiWithNull: ${u.length} labels against ${v.length}`);
  const width = v.reduce((m, x) => Math.max(m, x + 1), 0);
  const height = u.reduce((m, x) => Math.max(m, x + 1), 0);
  const tableOf = (labels: Int32Array) => {
    const table = Array.from({ length: height }, () => new Array<number>(width).fill(0));
    for (let i = 0; i < labels.length; i++) {
      const row = table[labels[i] as number] as number[];
      const j = v[i] as number;
      row[j] = (row[j] as number) + 1;
    }
    return table;
  };
  const observed = tableOf(u);
  const { rows, cols, n } = marginals(observed);
  const emi = expectedMutualInformation(rows, cols, n);
  const ami = adjusted(mutualInformation(observed), rows, cols, n, emi);
  const random = rng(opts.seed);
  const scores: number[] = [];
  for (let p = 0; p < opts.permutations; p++) {
    const order = permutation(u.length, random);
    const shuffled = order.map((i) => u[i] as number);
    scores.push(adjusted(mutualInformation(tableOf(shuffled)), rows, cols, n, emi));
  }
  return { ami, null: summariseNull(scores) };
}

/** Mean and 95th percentile (simple-statistics' quantile) of null scores; zeros when there are none. */
export function summariseNull(scores: readonly number[]): PermutationNull {
  if (scores.length === 0) return { permutations: 0, mean: 0, p95: 0 };
  return { permutations: scores.length, mean: mean([...scores]), p95: quantile([...scores], 0.95) };
}
