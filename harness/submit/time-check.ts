/**
 * validate's step-time check, as a decision: a module whose estimated run is past twice the
 * tier's time limit fails, past the limit it is warned. The estimate is wall-clock from a
 * one-second burst, so on a busy machine it measures the machine, not the module (CI read
 * 18x an idle step with other test files running): there a failure becomes a warning that
 * says the load and asks for a quiet re-validation.
 */

/** Runnable threads per core above which a timing says more about the machine than the module. */
export const BUSY_LOAD_PER_CORE = 1.5;

export type TimeVerdict = 'ok' | 'may time out' | 'too slow' | 'too slow, machine busy';

export function timeVerdict(estimatedRunSeconds: number, limitSeconds: number, loadPerCore: number): TimeVerdict {
  if (!(estimatedRunSeconds > limitSeconds)) return 'ok';
  if (!(estimatedRunSeconds > 2 * limitSeconds)) return 'may time out';
  return loadPerCore > BUSY_LOAD_PER_CORE ? 'too slow, machine busy' : 'too slow';
}
