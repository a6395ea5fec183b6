/**
 * The tuning command, added to the main `middlepath` program:
 *   middlepath tune [--tier T] [--task ...] [--arch ...] [--grid 0.3,1,3] [--extend N] [--budget-fraction F]
 *                   [--seed S | --seeds 900,901,902] [--around FILE] [--set width=32] [--jobs N] [--file PATH]
 * Resumable: trials already in the file are skipped. Exit codes as elsewhere: 0 fine,
 * 1 a (task, architecture) got no completed trial, 2 bad usage, 130 interrupted.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendChoice } from '../backend.ts';
import { parseKnobs } from '../knobs.ts';
import type { TierName } from '../results/record.ts';
import { defaultTuningFile } from '../results/tuning.ts';
import { TUNED_TIER_NAMES } from '../tiers.ts';
import { DEFAULT_BUDGET_FRACTION, DEFAULT_EXTEND, DEFAULT_MULTIPLIERS, runTune, type TuneEvent } from './tune.ts';

function multipliers(value: string): number[] {
  const values = value.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0))
    throw new InvalidArgumentError('must be positive numbers separated by commas, e.g. 0.5,1,2');
  return values;
}

function seedList(value: string): number[] {
  const values = value.split(',').map((v) => Number(v.trim()));
  if (values.length < 2 || values.some((v) => !Number.isInteger(v) || v < 0) || new Set(values).size !== values.length)
    throw new InvalidArgumentError('must be two or more distinct non-negative integers separated by commas, e.g. 900,901,902');
  return values;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('must be a number in (0, 1]');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function describe(event: TuneEvent): string | null {
  switch (event.type) {
    case 'skip':
      return `${event.task} · ${event.arch} · lr ${event.learningRate}: already recorded, skipped`;
    case 'stale':
      return `${event.task} · ${event.arch}: earlier trials dropped (${event.reason})`;
    case 'centre':
      return `${event.task} · ${event.arch}: ${event.reason}`;
    case 'trial': {
      const t = event.trial;
      const result =
        t.quality === null ? `${t.status}: ${t.failure ?? ''}` : `validation ${t.quality.toPrecision(4)} after ${t.steps} steps`;
      return `${event.task} · ${event.arch} · lr ${t.learningRate}${t.seed === undefined ? '' : ` · seed ${t.seed}`}: ${result}`;
    }
    case 'chosen':
      return `${event.entry.task} · ${event.entry.arch}: chose ${event.entry.chosen ?? 'nothing (no trial completed)'} from [${event.entry.grid.join(', ')}]${event.entry.why ? `: ${event.entry.why}` : ''}`;
    default:
      return null;
  }
}

export function registerTuneCommands(program: Command, options: { setExit?: (code: number) => void } = {}): void {
  const setExit =
    options.setExit ??
    ((code: number) => {
      process.exitCode = code;
    });
  program
    .command('tune')
    .description(
      "tune each architecture's learning rate per task on a validation split carved from the training data (a small grid at a reduced budget, one seed); resumable; the suite then trains at the chosen values",
    )
    .addOption(new Option('--tier <tier>', 'budget and size tier').choices([...TUNED_TIER_NAMES]).default('smoke'))
    .option('--task <id...>', 'tasks to tune (default all)')
    .option('--arch <name-or-path...>', 'baseline names or module paths (default every baseline)')
    .option('--grid <multipliers>', `multiples of the tier's learning rate (default ${DEFAULT_MULTIPLIERS.join(',')})`, multipliers)
    .option('--budget-fraction <f>', `share of the tier's FLOP budget per trial (default ${DEFAULT_BUDGET_FRACTION})`, fraction)
    .option('--seed <n>', 'the one seed every trial uses (default 0)', nonNegativeInt)
    .addOption(
      new Option(
        '--seeds <list>',
        "several seeds per grid value: a value is then chosen only where its mean beats the runner-up's by more than the seed SD, else the grid's centre",
      )
        .argParser(seedList)
        .conflicts('seed'),
    )
    .option('--around <file>', "centre each grid on the rate this tuning file chose (default: the tier's rate)")
    .option(
      '--set <name=value...>',
      "knobs every trial runs with (e.g. --set width=32, a sweep's size): a tuning entry of their own, which the standard suite never reads",
    )
    .option('--jobs <n>', "a grid value's seeds run this many at a time, in child processes (default 1)", positiveInt)
    .option(
      '--extend <n>',
      `grid steps to add on a side while the best value sits on the grid's edge (default ${DEFAULT_EXTEND}; 0: never)`,
      nonNegativeInt,
    )
    .option('--file <path>', 'tuning file to resume and write (default results/tuning/<tier>.json, which the suite reads)')
    .addOption(new Option('--backend <backend>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto'))
    .action(
      async (o: {
        tier: TierName;
        task?: string[];
        arch?: string[];
        grid?: number[];
        budgetFraction?: number;
        seed?: number;
        seeds?: number[];
        around?: string;
        jobs?: number;
        set?: string[];
        extend?: number;
        file?: string;
        backend: BackendChoice;
      }) => {
        const controller = new AbortController();
        const onSigint = () => controller.abort();
        process.on('SIGINT', onSigint);
        try {
          const file = o.file ?? defaultTuningFile(o.tier);
          const result = await runTune({
            tier: o.tier,
            tasks: o.task,
            archs: o.arch,
            backend: o.backend,
            file,
            multipliers: o.grid,
            budgetFraction: o.budgetFraction,
            seed: o.seed,
            seeds: o.seeds,
            around: o.around,
            jobs: o.jobs,
            knobs: parseKnobs(o.set ?? []),
            extend: o.extend,
            signal: controller.signal,
            onEvent: (event) => {
              const line = describe(event);
              if (line) console.log(line);
            },
          });
          console.log(`${result.trialsRun} trial(s) run; tuning in ${file}`);
          setExit(result.interrupted ? 130 : result.entries.some((e) => e.chosen === null) ? 1 : 0);
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    );
}
