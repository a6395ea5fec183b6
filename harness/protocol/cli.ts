/**
 * The protocol's commands, added to the main `middlepath` program:
 *   middlepath protocol show                 the version, hash and per-task seeds and MDE
 *   middlepath protocol plan [--task ...]    the confirmatory set, what is recorded, the commands
 *   middlepath protocol run [--task ...] [--jobs N] [--shard i/N]
 *                                            run what is missing (each group through `middlepath run`)
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { baselineNames } from '../load-architecture.ts';
import { readValidRecords } from '../results/files.ts';
import { loadProtocol, PROTOCOL_PATH, protocolHash } from '../results/protocol.ts';
import { defaultDraft, freezeDraft } from './freeze.ts';
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
    .command('freeze')
    .description(
      "freeze the drafted next version (results/protocols/v<N+1>.draft.json): it becomes results/protocol.json with today's date and its tuning file's hash; the replaced version's records move to results/superseded/protocol-v<N>/",
    )
    .option('--draft <path>', 'the draft (default: the next version beside the protocol in force)')
    .option('--out <dir>', 'where records are (DIR/runs/*.json)', 'results')
    .option('--dry-run', 'say what would change, change nothing')
    .action((o: { draft?: string; out: string; dryRun?: boolean }) => {
      const r = freezeDraft({
        draft: o.draft ?? defaultDraft(PROTOCOL_PATH),
        inForce: PROTOCOL_PATH,
        records: o.out,
        root: resolve(dirname(PROTOCOL_PATH), '..'),
        today: new Date().toISOString().slice(0, 10),
        dryRun: o.dryRun,
      });
      const verb = o.dryRun ? 'would move' : 'moved';
      process.stdout.write(
        `${o.dryRun ? 'dry run: ' : ''}protocol v${r.frozen.version} ${o.dryRun ? 'would be' : 'is'} in force, hash ${r.hash}\n` +
          `${verb} ${r.moved.length} record(s) of the version it replaces to ${r.supersededDir}/runs\n` +
          'next: middlepath publish results && npm run findings; sweep plans that name the old hash need the new one before they run\n',
      );
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
    .option(
      '--jobs <n>',
      "runs at once ('auto': one per core). Seconds count only from quiet records (the protocol's load per core at start and end): a confined run keeps about 1.3 cores busy (the child, and the harness scoring it), so on 2 cores --jobs 2 read a load of 3.2-3.5 and left no record quiet; keep 1 there",
      jobsValue,
      '1',
    )
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
