/**
 * The compute estimate of a sweep plan, measured: every distinct (architecture, knobs) cell
 * of the plan's largest tier is trained in this process for a short budget (default 1e10
 * executed FLOPs, a few dozen steps), and its seconds per training step after the first and
 * its executed FLOPs per step are read from the record (seconds are the harness's CPU
 * seconds of the steps, so that other work on the machine does not count). A full run's training time is then
 * (tier budget ÷ FLOPs per step) × seconds per step; evaluation is extrapolated from the
 * pilot's own evaluations (seconds per evaluation × the tier's evaluation points + 1).
 * `--experts 1,4,32` pilots only those expert counts; a cell between two measured ones is
 * interpolated linearly in log E (seconds and FLOPs per step), and the output says which.
 * Nothing is written to results/. Run it alone on the machine (it times seconds):
 *   MIDDLEPATH_BLAS_THREADS=1 node bin/run-ts.js scripts/sweep-pilot.ts experts [--budget 2e10] [--jobs 2] [--experts 1,4,32]
 * (one BLAS thread per process is what each of `--jobs 2`'s processes gets on 2 cores).
 */
import { selectBackend } from '../harness/backend.ts';
import { executeRun } from '../harness/suite.ts';
import { expandPlan, loadSweepPlan, planPath, planSeeds } from '../harness/sweeps/plan.ts';
import { planSweep } from '../harness/sweeps/run.ts';

const [name, ...rest] = process.argv.slice(2);
if (!name) throw new Error('usage: sweep-pilot.ts <plan> [--budget FLOPS] [--jobs N]');
const flag = (f: string, d: number) => {
  const i = rest.indexOf(f);
  return i >= 0 ? Number(rest[i + 1]) : d;
};
const budget = flag('--budget', 2e10);
const onlyAt = rest.includes('--experts')
  ? new Set(
      String(rest[rest.indexOf('--experts') + 1])
        .split(',')
        .map(Number),
    )
  : null;
const jobs = flag('--jobs', 2);
const plan = loadSweepPlan(planPath(name));
const tiers = [...plan.tiers];
const top = tiers[tiers.length - 1] as (typeof tiers)[number];
await selectBackend('auto');

// one seed of each distinct cell at the largest tier
const { planned } = await planSweep(
  { ...plan, tiers: [top], seeds: { from: planSeeds(plan)[0] as number, count: 1 } },
  { outDir: '/nonexistent' },
);
interface Row {
  cell: string;
  fullTier: Record<string, number>;
  secPerStep: number;
  flopsPerStep: number;
  evalPerPoint: number;
  ablation: number;
  arch: string;
  experts: number;
  /** the knobs but experts, to find a cell's neighbours in E */
  rest: string;
}
const rows: Row[] = [];
const restOf = (k: object | undefined) => JSON.stringify(Object.entries(k ?? {}).filter(([name]) => name !== 'experts'));
/** Evaluation passes of the final evaluation's expert ablation: one per expert of the ablated layer. */
const ablationPasses = (r: { final: { legibility: { ablation: { matrix: number[][] } | null } } | null }) =>
  r.final?.legibility.ablation?.matrix.length ?? 0;
const tierSeconds = (
  task: (typeof planned)[number]['task'],
  r: Pick<Row, 'secPerStep' | 'flopsPerStep' | 'evalPerPoint'>,
  ablation: number,
) =>
  Object.fromEntries(
    tiers.map((tier) => {
      const t = task.tiers[tier];
      // step 0, the scheduled points (the plan's, else the tier's; the last is the final evaluation) and the ablation passes
      const points = plan.evaluation?.points ?? t.evalPoints;
      return [tier, (t.budgetFlops / r.flopsPerStep) * r.secPerStep + r.evalPerPoint * (points + 1 + ablation)];
    }),
  ) as Record<string, number>;
const knobE = (k: { experts?: number } | undefined) => k?.experts ?? 1;
for (const run of planned.filter((r) => !onlyAt || onlyAt.has(knobE(r.knobs)))) {
  const settings = { budgetFlops: budget, evalPoints: 1, timeLimitSeconds: 300 };
  const r = await executeRun(run, run.tier, null, { backend: 'auto', settings });
  if (r.status !== 'completed' || r.training.steps < 3) {
    console.log(`${run.archSpec} ${JSON.stringify(run.knobs)}: ${r.status} ${r.failure?.message ?? ''}`);
    continue;
  }
  // CPU seconds, not wall seconds: on a shared machine the wall clock measures the other
  // sessions too, while the CPU time a step needs is what one process of --jobs 2 will take on
  // its own core. Wall seconds are printed beside it.
  const cpu = r.training.cpuSeconds ?? null;
  const wallPerStep = (r.training.wallSeconds - r.training.firstStepSeconds) / (r.training.steps - 1);
  const secPerStep = cpu !== null ? cpu / r.training.steps : wallPerStep;
  const busy = cpu !== null && r.training.wallSeconds > 0 ? Math.min(1, cpu / r.training.wallSeconds) : 1;
  const flopsPerStep = r.flops.perStep;
  // One pass of the held-out set per curve point (step 0, the scheduled points, the final one)
  // plus, where the task scores groups, one per expert of the final ablation; scaled by the
  // share of the training wall time that was this process's CPU time (the same contention).
  const ablation = ablationPasses(r);
  const evalPerPoint = (r.training.evalSeconds / (r.curve.length + ablation)) * busy;
  const fullTier = tierSeconds(run.task, { secPerStep, flopsPerStep, evalPerPoint }, ablation);
  const cell = `${run.archSpec} ${Object.entries(run.knobs ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  rows.push({
    ablation,
    cell,
    fullTier,
    secPerStep,
    flopsPerStep,
    evalPerPoint,
    arch: run.archSpec,
    experts: knobE(run.knobs),
    rest: restOf(run.knobs),
  });
  console.log(
    `${cell.padEnd(58)} ${(1000 * secPerStep).toFixed(1).padStart(7)} cpu-ms/step (wall ${(1000 * wallPerStep).toFixed(1)}, load ${r.training.load?.atStart.toFixed(1)}) ${flopsPerStep.toExponential(2)} FLOPs/step  eval ${evalPerPoint.toFixed(2)} s  full: ${tiers.map((t) => `${t} ${fullTier[t]?.toFixed(0)} s`).join(', ')}`,
  );
}
// the whole plan: every cell × seeds, at each tier, on `jobs` processes at once
const cells = expandPlan(plan);
let total = 0;
let interpolated = 0;
let missing = 0;
const task = planned[0]?.task;
for (const c of cells) {
  const label = `${c.arch} ${Object.entries(c.knobs)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  let row: Pick<Row, 'fullTier'> | undefined = rows.find((r) => r.cell === label);
  if (!row && task) {
    // linear in log E between the nearest measured neighbours of the same architecture and other knobs
    // the shared control is every router's E = 1
    const same = rows
      .filter((r) => (r.arch === c.arch || (r.arch === plan.control && r.experts === 1)) && r.rest === restOf(c.knobs))
      .sort((a, b) => a.experts - b.experts);
    const below = same.filter((r) => r.experts < c.experts).at(-1);
    const above = same.find((r) => r.experts > c.experts);
    if (below && above) {
      const t = (Math.log(c.experts) - Math.log(below.experts)) / (Math.log(above.experts) - Math.log(below.experts));
      const mix = (k: 'secPerStep' | 'flopsPerStep' | 'evalPerPoint') => below[k] + t * (above[k] - below[k]);
      row = {
        fullTier: tierSeconds(
          task,
          {
            secPerStep: mix('secPerStep'),
            flopsPerStep: mix('flopsPerStep'),
            evalPerPoint: mix('evalPerPoint'),
          },
          c.experts,
        ),
      };
      interpolated++;
    }
  }
  if (row) total += (row.fullTier[c.tier] ?? 0) * plan.seeds.count;
  else missing++;
}
console.log(
  `${cells.length - interpolated - missing} cells measured, ${interpolated} interpolated in log E, ${missing} neither (left out of the total)`,
);
console.log(
  `plan '${plan.name}': ${cells.length} cells × ${plan.seeds.count} seeds; measured ${(total / 3600).toFixed(2)} run-hours at one process, ≈ ${(total / 3600 / jobs).toFixed(2)} h with --jobs ${jobs} if ${jobs} processes each keep the single-process speed (they share the cores: an upper bound on speed, so a lower bound on hours)`,
);
