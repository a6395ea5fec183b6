/**
 * The `middlepath` command. Exit codes: 0 every run completed (or was refused by its
 * architecture), 1 some run failed (still recorded) or a module could not be loaded, 2 bad usage.
 *
 * Only commander and constants are imported up front: each action imports what it uses
 * (tfjs, the store, the site), so `--version`, `--help` and `list tasks` answer at once.
 * Command groups living elsewhere register themselves the same way (store, submit, queue).
 */
import { availableParallelism } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendChoice } from './backend-names.ts';
import { confineFrom, positiveInt, processCount, withConfineOptions, withKnobOptions } from './cli-options.ts';
import { sandboxStatus } from './confined/sandbox.ts';
import { UsageError } from './errors.ts';
import { parseShard, type Shard } from './jobs/shard.ts';
import { registerProtocolCommands } from './protocol/cli.ts';
import { registerQueueCommands } from './queue/cli.ts';
import type { TierName } from './results/record.ts';
import { registerStoreCommands } from './store/cli.ts';
import { DEFAULT_SQLITE_PATH } from './store/defaults.ts';
import type { Store } from './store/types.ts';
import { registerSubmitCommands } from './submit/cli.ts';
import type { SuiteOptions, SuiteResult } from './suite.ts';
import { SWEEP_RECORDS } from './sweeps/where.ts';
import { DEFAULT_TIER, TASK_INFOS, TIER_HELP, TIER_NAMES } from './tiers.ts';
import { registerTuneCommands } from './tune/cli.ts';
import { HARNESS_VERSION } from './version.ts';

/** Commander collects a variadic option's values through this, one at a time. */
function seedValues(value: string, previous: number[] = []): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('each seed must be a non-negative integer');
  return [...previous, n];
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command()
    .name('middlepath')
    .description('Train dense, MoE and hybrid architectures on fixed tasks under fixed FLOP budgets; measure cost and capability.')
    .version(HARNESS_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride(); // before the subcommands, so they inherit it: parse errors then exit 2, not 1

  withKnobOptions(withConfineOptions(program.command('run'), { inProcess: true }))
    .description('run the standard suite (or a slice of it) and write a record per run')
    .addOption(new Option('--tier <tier>', TIER_HELP).choices([...TIER_NAMES]).default(DEFAULT_TIER))
    .option('--task <id...>', `tasks to run (default all: ${TASK_INFOS.map((t) => t.spec.id).join(', ')})`)
    .option('--arch <name-or-path...>', 'baseline names or paths to architecture modules (default every baseline)')
    .option('--seeds <n>', "seeds per task and architecture, 0..n−1 (default: the tier's)", positiveInt)
    .option('--seed <n...>', 'exactly these seeds (e.g. --seed 2 adds a third seed; not with --seeds)', seedValues)
    .addOption(new Option('--backend <backend>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto'))
    .option('--out <dir>', 'where records go (DIR/runs/*.json)', 'results')
    .option('--force', 're-run even when a record with the same key exists', false)
    .option('--variant-seed <n>', "regenerate the tasks' data from this seed (held-out variants)", positiveInt)
    .option('--json', 'print the records as JSON instead of a table', false)
    .option('--no-store', 'write record files only, not the store (SQLite, or Postgres via DATABASE_URL)')
    .option('--jobs <n>', "runs at once, each in its own process ('auto': one per core)", processCount, 1)
    .option('--shard <i/N>', 'only slice i of N of the suite, balanced by expected run time (SLURM/Kubernetes array jobs)', parseShard)
    .action(
      async (o: {
        tier: TierName;
        task?: string[];
        arch?: string[];
        seeds?: number;
        seed?: number[];
        backend: BackendChoice;
        out: string;
        force: boolean;
        variantSeed?: number;
        json: boolean;
        store: boolean;
        jobs: number;
        shard?: Shard;
        confine?: boolean;
        inProcess?: boolean;
        set?: string[];
      }) => {
        const [{ runSuite }, { isBaselineName }, { parseKnobs, knobsLabel }] = await Promise.all([
          import('./suite.ts'),
          import('./load-architecture.ts'),
          import('./knobs.ts'),
        ]);
        const knobs = parseKnobs(o.set ?? []);
        if (knobs) {
          // a run with knobs is a sweep cell, not a leaderboard entry: its record goes beside the sweeps', never in the store
          if (o.out === 'results') o.out = SWEEP_RECORDS;
          o.store = false;
          if (!o.json)
            process.stderr.write(
              `knobs ${knobsLabel(knobs)}: a sweep cell, recorded in ${o.out}/runs and not in the store (the leaderboard)\n`,
            );
        }
        const confine = confineFrom(o);
        const modules = (o.arch ?? []).filter((a) => !isBaselineName(a));
        if (o.confine === undefined && modules.length > 0 && !o.json) {
          process.stderr.write(
            sandboxStatus().available
              ? `${modules.join(', ')}: confined (a module's code is untrusted until you say otherwise): its own process in the OS sandbox, on the same kernels and IPC path as the baselines. For your own code, --no-confine runs it in this process.\n`
              : `${modules.join(', ')}: confined (a module's code is untrusted until you say otherwise), so on wasm, without native BLAS — its hardware class differs from baselines run here in-process. For your own code, --no-confine runs it in this process; --confine runs the baselines confined too.\n`,
          );
        }
        await runReported(o, setExit, (hooks) =>
          runSuite({
            tier: o.tier,
            tasks: o.task,
            archs: o.arch,
            seeds: o.seeds,
            seedList: o.seed,
            backend: o.backend,
            outDir: o.out,
            force: o.force,
            variantSeed: o.variantSeed ?? null,
            jobs: o.jobs,
            shard: o.shard,
            confine,
            ...(knobs ? { knobs } : {}),
            ...hooks,
          }),
        );
      },
    );

  program
    .command('sweep')
    .description(
      'run a sweep plan (results/sweeps/<name>.json): its grid × seeds × tiers through the suite; resumable, skips what is recorded',
    )
    .argument('<plan>', 'a plan name under results/sweeps/ or a path to a plan file')
    .addOption(new Option('--backend <backend>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto'))
    .option(
      '--out <dir>',
      "where records go (DIR/runs/*.json): apart from the leaderboard's results/runs, and never indexed in the store, so a sweep's cells do not join the board",
      SWEEP_RECORDS,
    )
    .option('--force', 're-run even when a record with the same key exists', false)
    .option('--json', 'print the records as JSON instead of a table', false)
    .option('--jobs <n>', "runs at once, each in its own process ('auto': one per core)", processCount, 1)
    .option('--shard <i/N>', 'only slice i of N of the sweep, balanced by expected run time', parseShard)
    .option('--dry-run', 'list the cells and how many runs each still needs; run nothing', false)
    .option(
      '--in-process',
      "run the baselines in the harness's process (development: no child, no pipe) rather than in the confined child, where this machine has the OS sandbox; their records say training.confined false",
    )
    .action(
      async (
        name: string,
        o: {
          backend: BackendChoice;
          out: string;
          force: boolean;
          json: boolean;
          store: boolean;
          jobs: number;
          shard?: Shard;
          dryRun: boolean;
          inProcess?: boolean;
        },
      ) => {
        const [{ loadSweepPlan, planPath }, { checkPlanProtocol, describePlan, planSweep, runSweep }] = await Promise.all([
          import('./sweeps/plan.ts'),
          import('./sweeps/run.ts'),
        ]);
        const plan = loadSweepPlan(planPath(name));
        checkPlanProtocol(plan);
        if (o.dryRun) {
          const planned = await planSweep(plan, { outDir: o.out, force: o.force, shard: o.shard });
          for (const line of describePlan(plan, planned)) console.log(line);
          return;
        }
        await runReported({ ...o, store: false }, setExit, (hooks) =>
          runSweep(plan, {
            backend: o.backend,
            outDir: o.out,
            force: o.force,
            jobs: o.jobs,
            shard: o.shard,
            confine: confineFrom({ inProcess: o.inProcess }),
            ...hooks,
          }),
        );
      },
    );

  program
    .command('laws')
    .description("fit a sweep's records to the published laws (Clark et al., Krajewski et al.) and print the tables as markdown")
    .argument('<plan>', 'a plan name under results/sweeps/ or a path to a plan file')
    .option('--records <dir>', 'the record files to read (DIR/runs/*.json)', SWEEP_RECORDS)
    .action(async (name: string, o: { records: string }) => {
      const [{ loadSweepPlan, planPath }, { lawsStudy }, { lawsSection }, { readValidRecords }] = await Promise.all([
        import('./sweeps/plan.ts'),
        import('./laws/study.ts'),
        import('./laws/text.ts'),
        import('./results/files.ts'),
      ]);
      const plan = loadSweepPlan(planPath(name));
      const records = readValidRecords(o.records);
      console.log(lawsSection(lawsStudy(plan, records)));
    });

  const list = program.command('list').description('list tasks, architectures or recorded runs');
  list
    .command('tasks')
    .description('the standard tasks with their metric and budgets')
    .action(() => {
      for (const t of TASK_INFOS) {
        const budgets = TIER_NAMES.map((tier) => `${tier} ${t.tiers[tier].budgetFlops.toExponential(0)}`).join(', ');
        console.log(
          `${t.spec.id.padEnd(14)} ${t.metric.name} (${t.metric.higherIsBetter ? 'higher' : 'lower'} is better); FLOP budgets: ${budgets}`,
        );
      }
    });
  list
    .command('archs')
    .description('the baselines')
    .action(async () => {
      const { baselineNames, loadArchitecture } = await import('./load-architecture.ts');
      for (const name of baselineNames()) {
        const { architecture } = await loadArchitecture(name);
        console.log(`${name.padEnd(16)} ${architecture.family.padEnd(7)} ${architecture.description}`);
      }
    });
  list
    .command('runs')
    .description('recorded runs in DIR/runs')
    .option('--out <dir>', 'records directory', 'results')
    .action(async (o: { out: string }) => {
      const { readRecordDir } = await import('./results/files.ts');
      const { formatCostToTarget } = await import('./report.ts');
      for (const parsed of readRecordDir(o.out)) {
        if ('error' in parsed) console.log(`${parsed.path}: ${parsed.error}`);
        else {
          const r = parsed.record;
          const q = r.final ? r.final.quality.toPrecision(4) : r.status;
          console.log(
            `${r.id}  ${r.status.padEnd(9)} ${r.task.metric.name}=${q}  ${r.flops.executed.toExponential(2)} FLOPs  ${r.training.wallSeconds.toFixed(1)} s  ${formatCostToTarget(r)}`,
          );
        }
      }
    });

  registerStoreCommands(program, { setExit });
  registerSubmitCommands(program, { setExit });
  registerQueueCommands(program, { setExit });
  registerTuneCommands(program, { setExit });
  registerProtocolCommands(program);

  program
    .command('site')
    .description('serve the leaderboard over the store (live: reload to see a suite in progress), or export it as static files')
    .option('--port <n>', 'port to listen on', positiveInt, 3000)
    .option('--host <host>', 'address to bind (0.0.0.0 to publish on the network)', '127.0.0.1')
    .option('--sqlite <path>', `SQLite store (default ${DEFAULT_SQLITE_PATH}; DATABASE_URL selects Postgres)`)
    .option('--export <dir>', 'write a static site built from the record files in --records instead of serving')
    .option('--records <dir>', 'the record files to publish (--export) or to index into the store before serving', 'results')
    .option('--no-ingest', 'serve the store as it is, without indexing --records first')
    .action(async (o: { port: number; host: string; sqlite?: string; export?: string; records: string; ingest: boolean }) => {
      // Loaded only here: the harness does not depend on the site for anything else.
      const [{ exportSite, serveSite }, { openStore }, { ingestDir }, { mkdtempSync }, { tmpdir }, { join, resolve }] = await Promise.all([
        import('../site/serve.ts'),
        import('./store/index.ts'),
        import('./store/ingest.ts'),
        import('node:fs'),
        import('node:os'),
        import('node:path'),
      ]);
      if (o.export) {
        // Publish exactly the committed records: index them into a scratch store first.
        const sqlitePath = join(mkdtempSync(join(tmpdir(), 'middlepath-export-')), 'store.sqlite');
        const scratch = await openStore({ sqlitePath });
        const summary = await ingestDir(scratch, o.records);
        await scratch.close();
        console.error(`exporting ${summary.files.filter((f) => f.outcome !== 'error').length} record(s) from ${o.records}…`);
        const dir = await exportSite(o.export, { sqlitePath, stdio: 'inherit' });
        console.log(`static site written to ${dir}`);
        return;
      }
      // Checked before anything else: another server on the port would answer our readiness probe.
      await assertPortFree(o.port, o.host);
      const sqlitePath = process.env.DATABASE_URL ? undefined : resolve(o.sqlite ?? DEFAULT_SQLITE_PATH);
      if (o.ingest) {
        // The committed records (e.g. the published cpu suite) belong on the board too; re-indexing is a no-op.
        const store = await openStore(sqlitePath ? { sqlitePath } : {});
        const summary = await ingestDir(store, o.records).finally(() => store.close());
        const bad = summary.files.filter((f) => f.outcome === 'error').length;
        console.error(
          `indexed ${summary.files.length - bad} record file(s) from ${o.records}${bad ? `; ${bad} skipped (\`middlepath ingest ${o.records}\` says why)` : ''}`,
        );
      }
      console.error('building the site if needed (first time: a minute or so)…');
      const server = await serveSite({ port: o.port, hostname: o.host, sqlitePath, stdio: 'pipe' });
      console.log(`middlepath leaderboard: ${server.url}  (Ctrl-C to stop)`);
      let stopped = false;
      await new Promise<void>((done) => {
        process.once('SIGINT', () => {
          stopped = true;
          void server.close().then(done);
        });
        server.process.once('exit', () => done());
      });
      const code = server.process.exitCode;
      if (!stopped && code !== 0) {
        console.error(
          `middlepath: the site server stopped on its own (exit ${code ?? server.process.signalCode}):\n${server.log().slice(-2000)}`,
        );
        setExit(1);
      }
    });

  program
    .command('doctor')
    .description('which backend auto picks and why, the device, the energy meter (or why none), versions')
    .action(async () => {
      const { doctor } = await import('./doctor.ts');
      await doctor();
    });

  return program;
}

/**
 * Run a suite-like job with the reporter, the store and Ctrl-C handling, and set the exit code:
 * 0 all completed (or refused by the architecture), 1 a run failed or a module did not load, 130 interrupted.
 */
async function runReported(
  o: { json: boolean; jobs: number; backend: BackendChoice; store: boolean },
  setExit: (code: number) => void,
  run: (hooks: Pick<SuiteOptions, 'signal' | 'onEvent' | 'onRecord'>) => Promise<SuiteResult>,
): Promise<void> {
  const { createReporter } = await import('./report.ts');
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupt: stopping after the current step (Ctrl-C again to quit now); nothing partial is written\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const reporter = createReporter({ json: o.json, concurrent: o.jobs > 1 });
  if (!o.json && (o.backend === 'auto' || o.backend.startsWith('wasm+'))) process.stderr.write(`${threadsNote(o.jobs)}\n`);
  const store = o.store ? await openStoreForRun() : undefined;
  try {
    const result = await run({
      signal: controller.signal,
      onEvent: reporter.event,
      onRecord: store
        ? async (record) => {
            // The record file is the source of truth; a store that fails is a warning, not a lost run.
            await store
              .ingest(record)
              .catch((e: Error) => process.stderr.write(`warning: ${record.id} not indexed in the store: ${e.message}\n`));
          }
        : undefined,
    });
    reporter.summary(result);
    // A refusal is the architecture declining the task: recorded, and not a failure.
    const failed =
      result.records.some((r) => r.status !== 'completed' && r.status !== 'refused') ||
      result.loadErrors.length > 0 ||
      (result.crashed ?? 0) > 0;
    setExit(result.interrupted ? 130 : failed ? 1 : 0);
  } finally {
    reporter.stop();
    await store?.close();
    process.off('SIGINT', onSigint);
  }
}

/**
 * The BLAS threads each run gets is part of its hardware class ("×2 threads"), and --jobs changes
 * it (cores shared out, harness/jobs/pool.ts): say so before a suite, so that nobody is surprised
 * that `--jobs 1` and `--jobs 2` records are not compared with each other.
 */
function threadsNote(jobs: number): string {
  const cores = availableParallelism();
  const env = Number(process.env.MIDDLEPATH_BLAS_THREADS);
  const threads = jobs > 1 ? Math.max(1, Math.floor(cores / jobs)) : Number.isInteger(env) && env >= 1 ? env : cores;
  const why =
    jobs > 1
      ? `--jobs ${jobs} shares ${cores} cores out`
      : Number.isInteger(env) && env >= 1
        ? 'MIDDLEPATH_BLAS_THREADS'
        : `all ${cores} cores, --jobs 1`;
  const other = jobs > 1 ? `--jobs 1 gives ×${cores}` : `--jobs ${cores} gives ×1`;
  return `BLAS threads per run: ${threads} (${why}); the thread count is part of a record's hardware class (wasm+blas, wasm+libxsmm), so ${other} — another class, compared separately. MIDDLEPATH_BLAS_THREADS with --jobs 1 picks it.`;
}

/** A UsageError naming the port and what to do when something already listens there. */
async function assertPortFree(port: number, host: string): Promise<void> {
  const { createServer } = await import('node:net');
  await new Promise<void>((ok, fail) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} on ${host} is already in use (another \`middlepath site\`?): stop it, or pick another with --port`)
          : e.code === 'EACCES'
            ? new UsageError(`port ${port} on ${host} needs privileges to bind: pick one above 1023 with --port`)
            : e,
      ),
    );
    probe.listen(port, host, () => probe.close(() => ok()));
  });
}

/** The store each record is indexed in as it lands; a store that cannot open is a warning. */
async function openStoreForRun(): Promise<Store | undefined> {
  try {
    const { openStore } = await import('./store/index.ts');
    return await openStore();
  } catch (e) {
    process.stderr.write(
      `warning: the store could not be opened (${(e as Error).message}); records go to files only — load them later with \`middlepath ingest\`\n`,
    );
    return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every parse error is a usage error
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      console.error(`middlepath: ${e.message}`);
      return 2;
    }
    console.error(e);
    return 1;
  }
}
