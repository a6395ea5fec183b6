/**
 * The names tasks are sized and scored by: the tiers, and how a task's quality metric is
 * stated. They live with the tasks (the lowest layer); the run record's schema, the loop,
 * the confined runner and validation read them from here.
 */
import { z } from 'zod';

/** smoke, the scaling ladder's rungs (⅛, ¼, ½ of cpu's budget), cpu, gpu: smallest first */
export const TIERS = ['smoke', 'cpu-eighth', 'cpu-quarter', 'cpu-half', 'cpu', 'gpu'] as const;
export const tierName = z.enum(TIERS);
export type TierName = z.infer<typeof tierName>;

/** How a task scores a model: the metric's name, unit and direction. */
export const qualityMetric = z.object({
  name: z.string(), // 'accuracy', 'bits per character', 'weighted MSE'
  unit: z.string(), // '%', 'bpc', ''
  higherIsBetter: z.boolean(),
});
export type QualityMetric = z.infer<typeof qualityMetric>;
