/**
 * What the validation child reports to its parent, one JSON object per line on fd 3 (not
 * stdout: a module's own console output must not be able to forge or corrupt a report).
 * The parent parses every line with these schemas.
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
  'memory',
  'time',
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

export const childMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), backend: z.string(), tier: z.string() }),
  /** sent before every phase that runs the module's code, so a child killed mid-phase is attributable */
  z.object({ type: z.literal('begin'), check: checkName, task: z.string().nullable(), step: z.number().int().optional() }),
  z.object({
    type: z.literal('module'),
    name: z.string(),
    family: z.string(),
    description: z.string(),
    sourceHash: z.string(),
  }),
  z.object({ type: z.literal('fail'), failure }),
  /** a concern that does not fail validation (an estimate near a limit) */
  z.object({ type: z.literal('warn'), check: checkName, task: z.string().nullable(), message: z.string() }),
  z.object({ type: z.literal('refused'), task: z.string(), reason: z.string() }),
  z.object({
    type: z.literal('task-ok'),
    task: z.string(),
    params: z.object({ total: z.number(), active: z.number() }),
    /** median seconds of the measured steps, and the tier's run time it implies */
    stepSeconds: z.number(),
    flopsPerStep: z.number(),
    estimatedRunSeconds: z.number(),
    peakTensorBytes: z.number(),
  }),
  z.object({ type: z.literal('done') }),
]);
export type ChildMessage = z.infer<typeof childMessage>;

/** The file descriptor the child writes its report lines to. */
export const REPORT_FD = 3;
