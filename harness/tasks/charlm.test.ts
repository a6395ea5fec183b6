/**
 * charlm's held-out chapters: the public split is every tenth chapter, as it always was; a
 * held-out variant draws one chapter per block of ten from its seed, so its test text is
 * (mostly) text the public split trains on, and the same seed always draws the same split.
 */
import { describe, expect, it } from 'vitest';
import { HELD_OUT_EVERY } from './charlm.info.ts';
import { heldOutChapters, loadCorpus } from './charlm.ts';

describe('charlm held-out chapters', () => {
  it('holds out the tenth chapter of each full block in the public data', () => {
    const held = heldOutChapters(135, 0);
    expect(held.flatMap((h, i) => (h ? [i] : []))).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99, 109, 119, 129]);
  });

  it('draws one chapter per block from a variant seed, the same for the same seed, another for another', () => {
    const a = heldOutChapters(135, 7);
    expect(a.filter(Boolean)).toHaveLength(13);
    for (let b = 0; b + HELD_OUT_EVERY <= 135; b += HELD_OUT_EVERY) expect(a.slice(b, b + HELD_OUT_EVERY).filter(Boolean)).toHaveLength(1);
    expect(heldOutChapters(135, 7)).toEqual(a);
    expect(heldOutChapters(135, 8)).not.toEqual(a);
    // mostly other chapters than the public split's: memorising the public held-out text does not carry over
    const pub = heldOutChapters(135, 0);
    expect(a.filter((h, i) => h && pub[i]).length).toBeLessThan(5);
  });

  it('a variant evaluates on other text than the public split, from the same book', () => {
    const pub = loadCorpus(0);
    const variant = loadCorpus(7);
    expect(variant.heldOut.length + variant.train.length).toBe(pub.heldOut.length + pub.train.length);
    expect(Buffer.from(variant.heldOut.buffer).equals(Buffer.from(pub.heldOut.buffer))).toBe(false);
    // the public split's held-out text is mostly training text in the variant
    const probe = Array.from(pub.heldOut.subarray(5000, 5064)).join(',');
    expect(Array.from(variant.train).join(',').includes(probe)).toBe(true);
  });
});
