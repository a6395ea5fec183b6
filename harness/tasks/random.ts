import seedrandom from 'seedrandom';

/** A deterministic uniform [0, 1) stream from any number of seed parts. */
export function rng(...parts: Array<string | number>): () => number {
  return seedrandom(parts.join(':'));
}

/** Fisher–Yates shuffle of 0..n-1 with the given stream. */
export function permutation(n: number, random: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** Sample an index from unnormalised weights. */
export function sampleIndex(cumulative: Float64Array, random: () => number): number {
  const total = cumulative[cumulative.length - 1] as number;
  const r = random() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
