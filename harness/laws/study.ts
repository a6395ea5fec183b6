/**
 * A sweep read as the papers read theirs: the fits (fit.ts), the papers' qualitative findings
 * checked point by point with verdicts under the plan's margin, and the same cells read in
 * executed FLOPs and in seconds. Computed on read from records; nothing here is stored.
 */
import { mean } from 'simple-statistics';
import type { RunRecord } from '../results/record.ts';
import { expandPlan, type SweepPlan } from '../sweeps/plan.ts';
import { type ClarkFit, type Estimate, fitClark, fitGranularity, type GranularityFit, routerGap, type Verdict, verdictOf } from './fit.ts';
import { groupBy, type Observation, sweepObservations } from './observations.ts';

/** One of the papers' findings, as this sweep measures it. */
export interface PaperPoint {
  id: string;
  paper: 'Clark et al. 2022' | 'Krajewski et al. 2024';
  /** the finding as the paper states it */
  claim: string;
  /** the sign the paper reports for the measured quantity */
  paperSign: 'negative' | 'positive';
  /** what is measured, and at which router and tier */
  measured: string;
  estimate: Estimate | null;
  verdict: Verdict | null;
  /** agrees (the effect, with the paper's sign), disagrees (the opposite sign), no effect (TOST), inconclusive, or not measured */
  agreement: 'agrees' | 'disagrees' | 'no effect' | 'inconclusive' | 'not measured';
}

export interface CostCell {
  tier: string;
  arch: string;
  experts: number;
  granularity: number;
  width: number;
  seeds: number;
  meanLoss: number;
  meanExecutedFlops: number;
  meanSeconds: number;
  /** seconds per executed GFLOP: what a practitioner pays per unit of the budget */
  secondsPerGflop: number;
}

export interface LawsStudy {
  plan: SweepPlan;
  observations: number;
  /** cells × seeds the plan asks for */
  expected: number;
  clark: ClarkFit[];
  granularity: GranularityFit[];
  points: PaperPoint[];
  cost: CostCell[];
  observationsList: Observation[];
}

function agreementOf(v: Verdict | null, sign: 'negative' | 'positive'): PaperPoint['agreement'] {
  if (!v) return 'not measured';
  if (v.kind === 'effect') return v.direction === sign ? 'agrees' : 'disagrees';
  return v.kind;
}

function point(p: Omit<PaperPoint, 'verdict' | 'agreement'>, margin: number): PaperPoint {
  const verdict = p.estimate && Number.isFinite(p.estimate.se) ? verdictOf(p.estimate, margin) : null;
  return { ...p, verdict, agreement: agreementOf(verdict, p.paperSign) };
}

export function lawsStudy(plan: SweepPlan, records: readonly RunRecord[], draws?: number): LawsStudy {
  const obs = sweepObservations(plan, records);
  const margin = plan.margin.logLossPerDoubling;
  const clark: ClarkFit[] = [];
  const granularity: GranularityFit[] = [];
  const points: PaperPoint[] = [];
  const learned = plan.grid.routers.filter((r) => r !== 'hash');
  for (const tier of plan.tiers) {
    if (plan.study === 'expert-count') {
      for (const router of plan.grid.routers) {
        const fit = fitClark(obs, router, tier, draws);
        if (fit) clark.push(fit);
        const at = `${router}, ${tier}`;
        points.push(
          point(
            {
              id: `clark.falls-with-e.${router}.${tier}`,
              paper: 'Clark et al. 2022',
              claim: 'at fixed N, loss falls log-linearly with the expert count E',
              paperSign: 'negative',
              measured: `effect on log L of doubling E at the geometric-mean N (${at})`,
              estimate: fit?.perDoublingE ?? null,
            },
            margin,
          ),
          point(
            {
              id: `clark.benefit-shrinks-with-n.${router}.${tier}`,
              paper: 'Clark et al. 2022',
              claim: 'the interaction term is positive: routing’s benefit shrinks as N grows',
              paperSign: 'positive',
              measured: `change of that effect per doubling of N, c·(ln 2)² (${at})`,
              estimate: fit?.interactionPerDoubling ?? null,
            },
            margin,
          ),
        );
      }
      if (plan.grid.routers.includes('hash')) {
        for (const other of learned) {
          points.push(
            point(
              {
                id: `clark.hash-below-learned.${other}.${tier}`,
                paper: 'Clark et al. 2022',
                claim: 'hash routing is below learned routing (S-BASE > RL-R > HASH): its loss is higher',
                paperSign: 'positive',
                measured: `mean log L(hash) − log L(${other}) over the shared E > 1 cells (${tier})`,
                estimate: routerGap(obs, 'hash', other, tier, draws),
              },
              margin,
            ),
          );
        }
      }
    } else {
      for (const router of plan.grid.routers) {
        const fit = fitGranularity(obs, router, tier, draws);
        if (fit) granularity.push(fit);
        points.push(
          point(
            {
              id: `krajewski.finer-helps.${router}.${tier}`,
              paper: 'Krajewski et al. 2024',
              claim: 'at equal active compute, finer experts (higher G) lower the loss',
              paperSign: 'negative',
              measured: `effect on log L of doubling G, s·ln 2 (${router}, ${tier})`,
              estimate: fit?.perDoublingG ?? null,
            },
            margin,
          ),
        );
      }
    }
  }
  const cost = [...groupBy(obs, (o) => `${o.tier}|${o.arch}|${o.experts}|${o.granularity}|${o.width}`).values()].map((cell) => {
    const o = cell[0] as Observation;
    const flops = mean(cell.map((x) => x.executedFlops));
    const seconds = mean(cell.map((x) => x.seconds));
    return {
      tier: o.tier,
      arch: o.arch,
      experts: o.experts,
      granularity: o.granularity,
      width: o.width,
      seeds: cell.length,
      meanLoss: mean(cell.map((x) => x.loss)),
      meanExecutedFlops: flops,
      meanSeconds: seconds,
      secondsPerGflop: seconds / (flops / 1e9),
    };
  });
  const expected = expandPlan(plan).length * plan.seeds.count;
  return { plan, observations: obs.length, expected, clark, granularity, points, cost, observationsList: obs };
}
