/** Parsers for command-line values, shared by every command group: each error says what to give. */
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from './errors.ts';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/** A count of processes: N, or 'auto' for one per core. */
export function processCount(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer, or 'auto' for one per core");
  return n;
}

/**
 * --confine / --no-confine, for every command that plans runs. Neither given: a module named
 * by path runs confined and the baselines in-process (SuiteOptions.confine 'untrusted'), or,
 * with `inProcess` (run, sweep), the baselines too where the OS sandbox is ('auto';
 * `--in-process` keeps them here).
 */
export function withConfineOptions(cmd: Command, o: { inProcess?: boolean } = {}): Command {
  const baselines = o.inProcess
    ? "baselines too where this machine has the OS sandbox (--in-process keeps them in the harness's process)"
    : "baselines in the harness's process";
  cmd
    .option(
      '--confine',
      `run every architecture, baselines too, in a confined child process (the OS sandbox where there is one, Node's permission model, scrubbed environment): the data, clock, FLOP totals, scoring and record stay in the harness's process. Default: modules given by path run confined, ${baselines}`,
    )
    .option('--no-confine', "run modules given by path in the harness's process too (your own code, trusted: it may then use native BLAS)");
  if (o.inProcess)
    cmd.option(
      '--in-process',
      "run the baselines in the harness's process (development: no child, no pipe), modules given by path still confined; their records say training.confined false",
    );
  return cmd;
}

/** SuiteOptions.confine from --confine / --no-confine / --in-process; a contradiction is refused. */
export function confineFrom(o: { confine?: boolean; inProcess?: boolean }): boolean | 'auto' | 'untrusted' {
  if (o.inProcess && o.confine === true) throw new UsageError('--in-process and --confine contradict each other: give one');
  if (o.confine === false) return false;
  if (o.inProcess) return 'untrusted';
  return o.confine === true ? true : 'auto';
}

/** Commander collects a repeatable option's values through this. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** --set name=value (repeatable): the sweep knobs (harness/knobs.ts), for every command that plans runs. */
export function withKnobOptions(cmd: Command): Command {
  return cmd.option(
    '--set <name=value>',
    'a knob, repeatable: experts=E, granularity=G (architectures that declare them), width=d, totalHeadroom=x, activeHeadroom=x (caps as multiples of the dense reference at d; defaults 16 and 1.25), evalPoints=n (held-out evaluations along the budget); in the run key and the record',
    collect,
  );
}
