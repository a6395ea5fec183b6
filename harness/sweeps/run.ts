/**
 * `middlepath sweep <plan>`: a plan's cells × seeds become planned runs of the ordinary suite
 * (same keys, shards, --jobs children and records), so a sweep is resumable — what is
 * recorded is skipped — and sliceable across machines with --shard.
 */
import { relative } from 'node:path';
import { UsageError } from '../errors.ts';
import { type LoadedArchitecture, loadArchitecture } from '../load-architecture.ts';
import { loadProtocol, protocolHash, seedsOf } from '../results/protocol.ts';
import type { TierName, TuningRecord } from '../results/record.ts';
import { defaultTuningFile, findTuningEntry, readTuningFile, type TuningEntry, tuningRecordOf } from '../results/tuning.ts';
import { runKey } from '../run-key.ts';
import { checkKnobsFor, type PlannedRun, runPlanned, type SuiteOptions, type SuitePlan, type SuiteResult, settledPlan } from '../suite.ts';
import { findTask } from '../tasks/index.ts';
import { tuningTierOf } from '../tasks/ladder.ts';
import { expandPlan, planSeeds, type SweepCell, type SweepPlan } from './plan.ts';

export type SweepOptions = Omit<SuiteOptions, 'tier' | 'tasks' | 'archs' | 'seeds' | 'seedList' | 'knobs' | 'tuningFile'>;

/**
 * The plan must name the protocol in force (its hash, not only its version), and give at
 * least the protocol's seeds per cell for its task: a sweep made under another protocol is
 * not comparable, and fewer seeds than the power calculation asks for is not this study.
 */
export function checkPlanProtocol(plan: SweepPlan): void {
  const protocol = loadProtocol();
  const hash = protocolHash(protocol);
  if (plan.protocol.hash !== hash || plan.protocol.version !== protocol.version) {
    throw new UsageError(
      `sweep '${plan.name}' was planned under protocol v${plan.protocol.version} (${plan.protocol.hash.slice(0, 12)}…) but v${protocol.version} (${hash.slice(0, 12)}…) is in force (results/protocol.json): re-plan the sweep under it (set its protocol field) before running`,
    );
  }
  const seeds = seedsOf(protocol, plan.task);
  const wanted = seeds?.comparison.length ?? 0;
  if (plan.seeds.count < wanted) {
    throw new UsageError(`sweep '${plan.name}': ${plan.seeds.count} seeds per cell, below the protocol's ${wanted} for ${plan.task}`);
  }
}

/** Planned runs of every cell × seed, sliced to the shard and without what `outDir` already holds. */
export async function planSweep(plan: SweepPlan, opts: Pick<SuiteOptions, 'shard' | 'outDir' | 'force' | 'settings'>): Promise<SuitePlan> {
  const task = findTask(plan.task);
  const cells = expandPlan(plan);
  const archs = new Map<string, LoadedArchitecture>();
  for (const name of new Set(cells.map((c) => c.arch))) archs.set(name, await loadArchitecture(name));
  const runs: PlannedRun[] = [];
  const rateOf = tunedRates(task.spec.id);
  for (const cell of cells) {
    const arch = archs.get(cell.arch) as LoadedArchitecture;
    checkKnobsFor(arch, cell.arch, cell.knobs);
    const tuning = plan.learningRate === 'tier' ? undefined : rateOf(cell, plan.learningRate === 'tuned per width');
    for (const seed of planSeeds(plan)) {
      const key = runKey({
        task: task.spec.id,
        tier: cell.tier,
        seed,
        variantSeed: null,
        sourceHash: arch.sourceHash,
        knobs: cell.knobs,
        tuning,
      });
      runs.push({ task, tier: cell.tier, arch, archSpec: cell.arch, seed, key, knobs: cell.knobs, ...(tuning ? { tuning } : {}) });
    }
  }
  return { ...settledPlan(runs, opts), loadErrors: [] };
}

/**
 * The tuned rate of a sweep cell. 'tuned by name': the rate its architecture's tuning chose at
 * the standard size, whatever its knobs. 'tuned per width': the entry tuned with knobs { width },
 * or the standard one where the width is the tier's own. Matched by name, not source: the knobs
 * changed the routed baselines' source after they were tuned. Refused, saying what to run, where
 * no rate was chosen. The tuning file is read once per plan.
 */
function tunedRates(task: string): (cell: SweepCell, perWidth: boolean) => TuningRecord {
  const files = new Map<TierName, { path: string; entries: TuningEntry[] }>();
  return (cell, perWidth) => {
    const tuned = tuningTierOf(cell.tier);
    let file = files.get(tuned);
    if (!file) {
      const path = defaultTuningFile(tuned);
      file = { path, entries: readTuningFile(path, tuned).entries };
      files.set(tuned, file);
    }
    const width = perWidth && cell.width !== findTask(task).tiers[tuned].size.width ? cell.width : undefined;
    const entry = findTuningEntry(file.entries, task, cell.arch, width === undefined ? {} : { knobs: { width } });
    const record = entry ? tuningRecordOf(entry, relative(process.cwd(), file.path) || file.path) : undefined;
    if (record) return record;
    throw new UsageError(
      width === undefined
        ? `the sweep asks for tuned learning rates, but ${file.path} has no chosen rate for ${cell.arch} on ${task}: tune it first, or set "learningRate": "tier"`
        : `the sweep asks for rates tuned per width, but ${file.path} has no chosen rate for ${cell.arch} on ${task} at width ${width}: run \`middlepath tune --tier ${tuned} --task ${task} --arch ${cell.arch} --set width=${width}\` first`,
    );
  };
}

export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SuiteResult> {
  checkPlanProtocol(plan);
  return runPlanned(await planSweep(plan, opts), opts);
}

/** One line per cell for --dry-run: what would run, what is recorded. */
export function describePlan(plan: SweepPlan, planned: SuitePlan): string[] {
  const lines: string[] = [];
  const todo = new Map<string, number>();
  const done = new Map<string, number>();
  const cellKey = (r: { tier: string; archSpec: string; knobs?: object }) => `${r.tier} ${r.archSpec} ${JSON.stringify(r.knobs ?? {})}`;
  for (const r of planned.planned) todo.set(cellKey(r), (todo.get(cellKey(r)) ?? 0) + 1);
  for (const s of planned.skipped) done.set(cellKey(s.run), (done.get(cellKey(s.run)) ?? 0) + 1);
  const label = (c: SweepCell) =>
    `${c.tier.padEnd(11)} ${c.arch.padEnd(14)} E=${String(c.experts).padEnd(3)} G=${String(c.granularity).padEnd(2)} d=${String(c.width).padEnd(4)}`;
  for (const c of expandPlan(plan)) {
    const k = cellKey({ tier: c.tier, archSpec: c.arch, knobs: c.knobs });
    lines.push(`${label(c)} ${todo.get(k) ?? 0} to run, ${done.get(k) ?? 0} recorded`);
  }
  lines.push(`${planned.planned.length} run(s) to make, ${planned.skipped.length} already recorded`);
  return lines;
}
