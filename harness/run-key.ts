import { definedKnobs, type RunKnobs } from './knobs.ts';
import { canonicalJson, sha256 } from './results/files.ts';
import { stampInForce } from './results/protocol.ts';
import { HARNESS_VERSION } from './version.ts';

/**
 * What makes two runs the same experiment: a re-run with the same key is skipped unless
 * forced. 16 hex digits of SHA-256. A tuned learning rate is part of the experiment (a
 * run at the tier's rate is not one at the tuned rate); untuned keys are as before. The
 * protocol in force (results/protocol.json) is part of it too, so a new protocol version
 * re-runs its seeds instead of skipping them. So are knobs (a sweep's cell): a run without
 * knobs has the key it would have had before knobs existed.
 */
export function runKey(
  k: {
    task: string;
    tier: string;
    seed: number;
    variantSeed: number | null;
    sourceHash: string;
    /** the tuning the run applies, if any: its chosen rate enters the key */
    tuning?: { chosen: number } | undefined;
    /** the sweep knobs the run sets (experts, granularity, width, caps, evaluation points) */
    knobs?: RunKnobs | undefined;
  },
  protocol: string = stampInForce().hash,
): string {
  const { tuning, knobs, ...rest } = k;
  const set = definedKnobs(knobs);
  return sha256(
    canonicalJson({
      ...rest,
      ...(tuning ? { tunedLearningRate: tuning.chosen } : {}),
      ...(set ? { knobs: set } : {}),
      protocol,
      harness: HARNESS_VERSION,
    }),
  ).slice(0, 16);
}
