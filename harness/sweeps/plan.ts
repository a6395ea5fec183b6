/**
 * A sweep plan (results/sweeps/<name>.json): a grid over router × expert count E × width d ×
 * granularity G on one task, at one or more tiers, with its seeds, its caps, the protocol it
 * runs under and the equivalence margin its "no effect" verdicts are tested against — all
 * fixed before the runs. Expanding it gives the cells; harness/sweeps/run.ts turns cells into
 * planned runs of the ordinary suite machinery. Free of tfjs: the fits and the site read it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { definedKnobs, type RunKnobs } from '../knobs.ts';
import { type TierName, tierName } from '../tasks/tiers.ts';

const count = z.number().int().min(1);

export const sweepPlan = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'name: lower-case letters, digits and dashes'),
    /** 'expert-count': Clark et al.'s law over E and N; 'granularity': Krajewski et al.'s term over G */
    study: z.enum(['expert-count', 'granularity']),
    description: z.string().min(1),
    task: z.string().min(1),
    /** each tier a budget with its own full schedule, e.g. ['cpu-eighth', 'cpu'] */
    tiers: z.array(tierName).min(1),
    /** the protocol the sweep runs under: every run must be made with exactly this one in force */
    protocol: z.object({ version: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    seeds: z.object({ from: z.number().int().nonnegative(), count }).strict(),
    /** where the seed count comes from (the protocol's power calculation) */
    seedsBasis: z.string().min(1),
    grid: z
      .object({
        /** the routed architectures (baseline names) */
        routers: z.array(z.string().min(1)).min(1),
        experts: z.array(count).min(1),
        widths: z.array(count).min(1),
        granularity: z.array(count).min(1).default([1]),
      })
      .strict(),
    /**
     * The architecture every router's E = 1 cell is: the routed scaffold with one expert
     * (dense-block), run once per (tier, width, seed) and shared by every router's fit.
     */
    control: z.string().min(1).default('dense-block'),
    /** caps as multiples of the dense reference at each width: stated here, recorded in every run's knobs */
    caps: z
      .object({ totalHeadroom: z.number().min(1), activeHeadroom: z.number().min(1) })
      .partial()
      .strict()
      .default({}),
    /**
     * The equivalence margin, fixed in advance: a fitted effect on log loss (natural log, per
     * doubling of E or G, or the E-by-N interaction per doubling of both) inside ±margin is
     * "no effect" only if TOST says so at alpha.
     */
    margin: z.object({ logLossPerDoubling: z.number().positive(), alpha: z.number().gt(0).lt(0.5), basis: z.string().min(1) }).strict(),
    /**
     * Where each cell's learning rate comes from: 'tier', the tier's own rate; 'tuned by name',
     * the rate the tier's tuning file (results/tuning/<tier>.json) chose for the architecture's
     * name on this task, reused across E, G and d (the tuning ran the architecture without
     * knobs; its source hash may predate the knobs).
     */
    /**
     * 'tier': the tier's rate; 'tuned by name': the rate tuned for the architecture at the standard
     * size, whatever the cell's knobs; 'tuned per width': the rate tuned for the architecture at the
     * cell's width (`middlepath tune --set width=d`; the standard entry at the tier's own width),
     * reused across expert counts and granularities (issue 21: per router and N).
     */
    learningRate: z.enum(['tier', 'tuned by name', 'tuned per width']).default('tier'),
    /** held-out evaluations per run where not the tier's (the laws read the final loss), and why: in every run's knobs */
    evaluation: z
      .object({ points: z.number().int().min(1).max(100), basis: z.string().min(1) })
      .strict()
      .optional(),
    /** the measured cost estimate, written by the pilot (README says how) */
    estimate: z.string().optional(),
  })
  .strict();
export type SweepPlan = z.infer<typeof sweepPlan>;

/** One cell of the grid at one tier: the architecture to run and its knobs (seeds are the plan's). */
export interface SweepCell {
  tier: TierName;
  arch: string;
  /** the router this cell belongs to; every router for the shared E = 1 control */
  routers: string[];
  experts: number;
  granularity: number;
  width: number;
  knobs: RunKnobs;
}

/** Read and validate a plan file; the error names the field and what to fix. */
export function loadSweepPlan(path: string): SweepPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`sweep plan ${path}: ${(e as Error).message}`);
  }
  return parseSweepPlan(raw, path);
}

export function parseSweepPlan(raw: unknown, where = 'sweep plan'): SweepPlan {
  const parsed = sweepPlan.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new UsageError(`${where} is not a valid sweep plan: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The plan's seeds, in order. */
export const planSeeds = (plan: SweepPlan): number[] => Array.from({ length: plan.seeds.count }, (_, i) => plan.seeds.from + i);

/**
 * Every cell of the plan, smallest tier first. E = 1 (at G = 1) is the control, once per
 * (tier, width), for all routers; G > 1 at E = 1 is not a cell (nothing to split).
 */
export function expandPlan(plan: SweepPlan): SweepCell[] {
  const cells: SweepCell[] = [];
  const { routers, experts, widths, granularity } = plan.grid;
  for (const tier of plan.tiers) {
    for (const width of widths) {
      const knobsOf = (e: number | undefined, g: number) =>
        definedKnobs({
          experts: e,
          granularity: g > 1 ? g : undefined,
          width,
          ...plan.caps,
          evalPoints: plan.evaluation?.points,
        }) as RunKnobs;
      if (experts.includes(1)) {
        cells.push({ tier, arch: plan.control, routers: [...routers], experts: 1, granularity: 1, width, knobs: knobsOf(undefined, 1) });
      }
      for (const e of experts.filter((x) => x > 1)) {
        for (const g of granularity) {
          for (const router of routers) {
            cells.push({ tier, arch: router, routers: [router], experts: e, granularity: g, width, knobs: knobsOf(e, g) });
          }
        }
      }
    }
  }
  return cells;
}

/** Where a plan's name points: a path as given, or results/sweeps/<name>.json. */
export function planPath(nameOrPath: string, resultsDir = 'results'): string {
  return nameOrPath.endsWith('.json') ? nameOrPath : `${resultsDir}/sweeps/${nameOrPath}.json`;
}
