/**
 * The queue's commands, added to the main `middlepath` program (all need DATABASE_URL):
 *   middlepath queue add [--tier T] [--seeds N] [--task …] [--arch …] [--shard i/N]
 *   middlepath queue status [--watch] [--json]
 *   middlepath worker [--concurrency N] [--out DIR]
 * Each action imports what it runs, so registering them costs nothing.
 */
import { type Command, Option } from 'commander';
import { BACKENDS, type BackendChoice } from '../backend-names.ts';
import { confineFrom, nonNegativeInt, positiveInt, processCount, withConfineOptions, withKnobOptions } from '../cli-options.ts';
import { parseShard, type Shard } from '../jobs/shard.ts';
import type { TierName } from '../results/record.ts';
import { DEFAULT_TIER, TIER_HELP, TIER_NAMES } from '../tiers.ts';

export interface QueueCommandOptions {
  setExit?: (code: number) => void;
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(0)}%`);

export function registerQueueCommands(program: Command, options: QueueCommandOptions = {}): void {
  const setExit =
    options.setExit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const queue = program.command('queue').description('a job queue on PostgreSQL (DATABASE_URL) that workers on many machines drain');

  withKnobOptions(withConfineOptions(queue.command('add'), { inProcess: true }))
    .description('queue every run of the suite (or a slice) not yet queued or recorded; idempotent')
    .addOption(new Option('--tier <tier>', TIER_HELP).choices([...TIER_NAMES]).default(DEFAULT_TIER))
    .option('--task <id...>', 'tasks (default all)')
    .option('--arch <name-or-path...>', 'baseline names or module paths (default every baseline); a path must exist on every worker')
    .option('--seeds <n>', "seeds per task and architecture, 0..n−1 (default: the tier's)", positiveInt)
    .option('--shard <i/N>', 'only slice i of N', parseShard)
    .option('--retries <n>', 'attempts after the first before a job is dead-lettered', nonNegativeInt, 2)
    .action(
      async (o: {
        tier: TierName;
        task?: string[];
        arch?: string[];
        seeds?: number;
        shard?: Shard;
        retries: number;
        confine?: boolean;
        inProcess?: boolean;
        set?: string[];
      }) => {
        const [{ databaseUrl, openBoss }, { enqueueSuite }, { openStore }, { parseKnobs }] = await Promise.all([
          import('./boss.ts'),
          import('./add.ts'),
          import('../store/index.ts'),
          import('../knobs.ts'),
        ]);
        const knobs = parseKnobs(o.set ?? []);
        const url = databaseUrl();
        const store = await openStore({ url });
        const boss = await openBoss(url);
        try {
          const s = await enqueueSuite(boss, store, {
            tier: o.tier,
            tasks: o.task,
            archs: o.arch,
            seeds: o.seeds,
            shard: o.shard,
            retries: o.retries,
            confine: confineFrom(o),
            ...(knobs ? { knobs } : {}),
          });
          for (const e of s.loadErrors) console.error(`✗ ${e.message}`);
          console.log(`${s.added} run(s) added to the queue; ${s.queued} already queued; ${s.recorded} already recorded (skipped)`);
          setExit(s.loadErrors.length ? 1 : 0);
        } finally {
          await boss.stop({ graceful: false });
          await store.close();
        }
      },
    );

  queue
    .command('status')
    .description(
      'pending / running / finished / failed per task × architecture; running jobs with host and progress; failures with the reason',
    )
    .option('--watch [seconds]', 'redraw every few seconds until Ctrl-C', (v) => positiveInt(v))
    .option('--json', 'print the status as JSON', false)
    .action(async (o: { watch?: number | true; json: boolean }) => {
      const [{ databaseUrl, openPool }, { queueStatus }, { default: Table }] = await Promise.all([
        import('./boss.ts'),
        import('./status.ts'),
        import('cli-table3'),
      ]);
      const pool = openPool(databaseUrl());
      const draw = async () => {
        const s = await queueStatus(pool);
        if (o.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        const t = new Table({
          head: ['task', 'architecture', 'pending', 'running', 'finished', 'failed'],
          style: { head: [], border: [] },
        });
        for (const g of s.groups) t.push([g.task, g.arch, g.pending, g.running, g.finished, g.failed]);
        const lines = [
          t.toString(),
          `total: ${s.totals.pending} pending, ${s.totals.running} running, ${s.totals.finished} finished, ${s.totals.failed} failed`,
        ];
        for (const j of s.jobs.filter((x) => x.state === 'running')) {
          lines.push(
            `running  ${j.task} · ${j.arch} · seed ${j.seed} on ${j.host ?? '?'}: ${pct(j.fraction)} (step ${j.step ?? 0}, attempt ${j.attempts})`,
          );
        }
        for (const j of s.jobs.filter((x) => x.state === 'failed')) {
          lines.push(
            `failed   ${j.task} · ${j.arch} · seed ${j.seed} after ${j.attempts} attempt(s): ${j.outcome ?? 'no reason recorded'}`,
          );
        }
        process.stdout.write(`${o.watch ? '\x1b[2J\x1b[H' : ''}${lines.join('\n')}\n`);
      };
      try {
        await draw();
        if (o.watch) {
          const every = o.watch === true ? 5 : o.watch;
          await new Promise<void>((done) => {
            const timer = setInterval(() => void draw().catch((e: Error) => console.error(`queue status: ${e.message}`)), every * 1000);
            process.once('SIGINT', () => {
              clearInterval(timer);
              done();
            });
          });
        }
      } finally {
        await pool.end();
      }
    });

  program
    .command('worker')
    .description(
      'take runs from the queue (DATABASE_URL) until stopped; each run in its own process. SIGTERM: finish the runs in progress (or release them after --grace), then exit',
    )
    .option('--concurrency <n>', "runs at once on this machine ('auto': one per core)", processCount, 1)
    .option('--out <dir>', 'where this worker writes record files (DIR/runs/*.json)', 'results')
    .addOption(new Option('--backend <backend>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto'))
    .option(
      '--grace <seconds>',
      'on SIGTERM, how long runs in progress may take to finish before they are released to the queue',
      positiveInt,
      3600,
    )
    .option('--expiry-check <seconds>', 'how often to send jobs of dead workers back to the queue', positiveInt, 30)
    .action(async (o: { concurrency: number; out: string; backend: BackendChoice; grace: number; expiryCheck: number }) => {
      const [{ databaseUrl }, { startWorker }] = await Promise.all([import('./boss.ts'), import('./worker.ts')]);
      const worker = await startWorker({
        url: databaseUrl(),
        concurrency: o.concurrency,
        outDir: o.out,
        backend: o.backend,
        maintenanceSeconds: o.expiryCheck,
      });
      await new Promise<void>((done) => {
        let stopping = false;
        const onSignal = (signal: string) => {
          if (stopping) {
            console.error(`${signal} again: releasing the runs in progress to the queue`);
            worker.release();
            return;
          }
          stopping = true;
          console.error(`${signal}: taking no new runs; finishing those in progress (${signal} again releases them)`);
          void worker.stop(o.grace).then(done, (e: Error) => {
            console.error(`worker: ${e.message}`);
            done();
          });
        };
        process.on('SIGTERM', () => onSignal('SIGTERM'));
        process.on('SIGINT', () => onSignal('SIGINT'));
      });
      setExit(0);
    });
}
