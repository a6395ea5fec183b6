/**
 * The protocol's commands, added to the main `middlepath` program:
 *   middlepath protocol show                 the version, hash and per-task seeds and MDE
 *   middlepath protocol plan [--task ...]    the confirmatory set, what is recorded, the commands
 *   middlepath protocol run [--task ...] [--jobs N] [--shard i/N]
 *                                            run what is missing (each group through `middlepath run`)
 */
import { spawnSync } from 'node:child_process';
import { type Command, InvalidArgumentError } from 'commander';
import { baselineNames } from '../load-architecture.ts';
import { readValidRecords } from '../results/files.ts';
import { loadProtocol, protocolHash } from '../results/protocol.ts';
import { missingArgs, planLines, planOf } from './plan.ts';

function jobsValue(v: string): string {
  if (v !== 'auto' && !(Number.isInteger(Number(v)) && Number(v) > 0))
    throw new InvalidArgumentError("must be a positive integer or 'auto'");
  return v;
}

export function registerProtocolCommands(program: Command): void {
  const cmd = program.command('protocol').description('the pre-registered protocol (results/protocol.json) and its confirmatory runs');
  cmd
    .command('show')
    .description('print the protocol in force: version, hash, seeds and power per task')
    .action(() => {
      const p = loadProtocol();
      const lines = [
        `protocol v${p.version}, frozen ${p.frozenAt}, hash ${protocolHash(p)}`,
        `reference ${p.reference.architecture} (second column: ${p.reference.second}); target rule ${p.targetRules.primary.id}`,
        ...Object.entries(p.tasks).map(
          ([task, t]) =>
            `${task}: ${t.seedsPerCell} seeds per cell (power asks ${t.seedsRequired ?? '> 1000'} for ${p.power.targetMde}×), MDE ${t.mdeAtSeedsPerCell}×`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  cmd
    .command('plan')
    .description('the confirmatory set: each group of runs, how many are recorded, the command that runs it')
    .option('--task <id...>', 'only these tasks')
    .option('--out <dir>', 'where records are (DIR/runs/*.json)', 'results')
    .action((o: { task?: string[]; out: string }) => {
      const p = loadProtocol();
      const baselines = baselineNames();
      process.stdout.write(`${planLines(p, planOf(p, baselines, readValidRecords(o.out), o.task), baselines).join('\n')}\n`);
    });
  cmd
    .command('run')
    .description('run every confirmatory group that is not fully recorded (resumable: recorded runs are skipped)')
    .option('--task <id...>', 'only these tasks')
    .option('--out <dir>', 'where records go (DIR/runs/*.json)', 'results')
    .option('--jobs <n>', "runs at once ('auto': one per core)", jobsValue, '1')
    .option('--shard <i/N>', 'only slice i of N of each group')
    .option(
      '--in-process',
      "run the baselines in the harness's process, not in the confined child (development; see `middlepath run --in-process`)",
    )
    .action((o: { task?: string[]; out: string; jobs: string; shard?: string; inProcess?: boolean }) => {
      const p = loadProtocol();
      const baselines = baselineNames();
      for (const g of planOf(p, baselines, readValidRecords(o.out), o.task)) {
        for (const run of missingArgs(p, g)) {
          const args = [
            ...run,
            '--out',
            o.out,
            '--jobs',
            o.jobs,
            ...(o.shard ? ['--shard', o.shard] : []),
            ...(o.inProcess ? ['--in-process'] : []),
          ];
          process.stderr.write(`\n# ${g.task} ${g.role}: middlepath ${args.join(' ')}\n`);
          const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1] as string, ...args], { stdio: 'inherit' });
          if (r.signal === 'SIGINT' || r.status === 130) {
            process.exitCode = 130;
            return;
          }
          if (r.status !== 0) process.exitCode = 1;
        }
      }
    });
}
