/**
 * The checks `validate` makes (validate.ts) and the shape of a failure in its report: what
 * `submit --json` prints and a bundle's manifest keeps.
 */
import { z } from 'zod';

/** Every check validation makes, in the order it makes them. */
export const CHECKS = [
  'import',
  'default-export',
  'refuse',
  'data',
  'build',
  'param-cap',
  'eval-forward',
  'train-step',
  'output-shape',
  'finite-loss',
  'leak',
  'causality',
  'off-clock',
  'memory',
  'time',
  'uncounted-compute',
  'crash',
] as const;
export const checkName = z.enum(CHECKS);
export type CheckName = z.infer<typeof checkName>;

export const failure = z.object({
  check: checkName,
  /** the task it failed on; null for module-level checks (import, default export) */
  task: z.string().nullable(),
  message: z.string(),
  /** what to change */
  fix: z.string(),
});
export type ValidationFailure = z.infer<typeof failure>;
