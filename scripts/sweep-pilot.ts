/**
 * The compute estimate of a sweep plan, measured: every distinct (architecture, knobs) cell
 * of the plan's largest tier is trained in this process for a short budget (default 1e10
 * executed FLOPs, a few dozen steps), and its seconds per training step after the first and
 * its executed FLOPs per step are read from the record. A full run's training time is then
 * (tier budget ÷ FLOPs per step) × seconds per step; evaluation is extrapolated from the
 * pilot's own evaluations (seconds per evaluation × the tier's evaluation points + 1).
 * Nothing is written to results/. Run it alone on the machine (it times seconds):
 *   node bin/run-ts.js scripts/sweep-pilot.ts experts [--budget 1e10] [--jobs 2]
 */
import { selectBackend } from '../harness/backend.ts';
import { expandPlan, loadSweepPlan, planPath, planSeeds } from '../harness/sweeps/plan.ts';
import { planSweep } from '../harness/sweeps/run.ts';
import { executeRun } from '../harness/suite.ts';

const [name, ...rest] = process.argv.slice(2);
if (!name) throw new Error('usage: sweep-pilot.ts <plan> [--budget FLOPS] [--jobs N]');
const flag = (f: string, d: number) => {
  const i = rest.indexOf(f);
  return i >= 0 ? Number(rest[i + 1]) : d;
};
const budget = flag('--budget', 1e10);
const jobs = flag('--jobs', 2);
const plan = loadSweepPlan(planPath(name));
const tiers = [...plan.tiers];
const top = tiers[tiers.length - 1] as (typeof tiers)[number];
await selectBackend('auto');

// one seed of each distinct cell at the largest tier
const { planned } = await planSweep({ ...plan, tiers: [top], seeds: { from: planSeeds(plan)[0] as number, count: 1 } }, { outDir: '/nonexistent' });
const rows: Array<{ cell: string; fullTier: Record<string, number>; secPerStep: number; flopsPerStep: number; evalPerPoint: number }> = [];
for (const run of planned) {
  const settings = { budgetFlops: budget, evalPoints: 1, timeLimitSeconds: 300 };
  const r = await executeRun(run, run.tier, null, { backend: 'auto', settings });
  if (r.status !== 'completed' || r.training.steps < 3) {
    console.log(`${run.archSpec} ${JSON.stringify(run.knobs)}: ${r.status} ${r.failure?.message ?? ''}`);
    continue;
  }
  const secPerStep = (r.training.wallSeconds - r.training.firstStepSeconds) / (r.training.steps - 1);
  const flopsPerStep = r.flops.perStep;
  const evalPerPoint = r.training.evalSeconds / 3; // step 0, the one scheduled point, the final (legibility) evaluation
  const fullTier: Record<string, number> = {};
  for (const tier of tiers) {
    const t = run.task.tiers[tier];
    fullTier[tier] = (t.budgetFlops / flopsPerStep) * secPerStep + evalPerPoint * (t.evalPoints + 2);
  }
  const cell = `${run.archSpec} ${Object.entries(run.knobs ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  rows.push({ cell, fullTier, secPerStep, flopsPerStep, evalPerPoint });
  console.log(
    `${cell.padEnd(58)} ${(1000 * secPerStep).toFixed(1).padStart(7)} ms/step ${flopsPerStep.toExponential(2)} FLOPs/step  eval ${evalPerPoint.toFixed(2)} s  full: ${tiers.map((t) => `${t} ${fullTier[t]?.toFixed(0)} s`).join(', ')}`,
  );
}
// the whole plan: every cell × seeds, at each tier, on `jobs` processes at once
const cells = expandPlan(plan);
let total = 0;
for (const c of cells) {
  const label = `${c.arch} ${Object.entries(c.knobs)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  const row = rows.find((r) => r.cell === label);
  if (row) total += (row.fullTier[c.tier] ?? 0) * plan.seeds.count;
}
console.log(
  `plan '${plan.name}': ${cells.length} cells × ${plan.seeds.count} seeds; measured ${(total / 3600).toFixed(2)} run-hours at one process, ≈ ${(total / 3600 / jobs).toFixed(2)} h with --jobs ${jobs} if ${jobs} processes each keep the single-process speed (they share the cores: an upper bound on speed, so a lower bound on hours)`,
);
