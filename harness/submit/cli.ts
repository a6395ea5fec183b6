/**
 * The submission commands, added to the main `middlepath` program:
 *   middlepath validate MODULE [--tier T]                  check a module in a child process
 *   middlepath submit MODULE [--tier T] [--seeds N] [--server URL --token T]
 *   middlepath verify SUBMISSION [--variant-seed S]        maintainer: re-run and compare with the claim
 *   middlepath tokens create NAME | list | revoke NAME     maintainer: upload tokens
 * Exit codes as elsewhere: 0 fine, 1 the module, run or check failed, 2 bad usage.
 * Each action imports what it runs: listing the commands loads no tfjs, store or server.
 */

import { type Command, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendChoice } from '../backend-names.ts';
import { positiveInt } from '../cli-options.ts';
import { sandboxStatus } from '../confined/sandbox.ts';
import type { TierName } from '../results/record.ts';
import { DEFAULT_TIER, TIER_HELP, TIER_NAMES } from '../tiers.ts';
import type { openSubmissionDb } from './db.ts';

export interface SubmitCommandOptions {
  setExit?: (code: number) => void;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/**
 * `submit` and `verify` run untrusted code, so only inside the OS sandbox: without one they
 * refuse and say why. Set for this process and every run it starts (MIDDLEPATH_SANDBOX), so a
 * child run cannot fall back to the permission model alone.
 */
function requireSandbox(command: string, error: (line: string) => void, setExit: (code: number) => void): boolean {
  const sandbox = sandboxStatus();
  if (!sandbox.available) {
    error(
      `middlepath ${command}: refused — it runs untrusted code, and this machine has no OS sandbox for it: ${sandbox.reason}. Run it on Linux with bubblewrap and unprivileged user namespaces, or in a container or VM without network (README: the trust boundary)`,
    );
    setExit(2);
    return false;
  }
  process.env.MIDDLEPATH_SANDBOX = 'required';
  return true;
}

export function registerSubmitCommands(program: Command, options: SubmitCommandOptions = {}): void {
  const setExit =
    options.setExit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  const tierOption = () => new Option('--tier <tier>', TIER_HELP).choices([...TIER_NAMES]).default(DEFAULT_TIER);
  const backendOption = () => new Option('--backend <backend>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto');

  program
    .command('validate')
    .description(
      'check an architecture module as a run would, in the confined child: on every task of the tier it builds, fits the caps, evaluates and trains a few steps cleanly, timed by the harness',
    )
    .argument('<module>', 'path to the architecture module')
    .addOption(tierOption())
    .addOption(backendOption())
    .option('--time-limit <s>', 'wall-clock limit for the whole validation', positiveNumber)
    .option('--json', 'print the report as JSON', false)
    .option(
      '--records <dir>',
      "recorded runs (DIR/runs/*.json): the baselines' on this machine's hardware class are what each task's pace (seconds per counted FLOP) is compared with",
      'results',
    )
    .action(
      async (modulePath: string, o: { tier: TierName; backend: BackendChoice; timeLimit?: number; json: boolean; records: string }) => {
        const [{ formatReport, validateModule }, { readValidRecords }] = await Promise.all([
          import('./validate.ts'),
          import('../results/files.ts'),
        ]);
        const report = await validateModule(modulePath, {
          tier: o.tier,
          backend: o.backend,
          baselines: readValidRecords(o.records).filter((r) => r.architecture.origin === 'baseline'),
          ...(o.timeLimit ? { timeLimitSeconds: o.timeLimit } : {}),
          onProgress: o.json ? undefined : error,
        });
        if (o.json) log(JSON.stringify(report, null, 2));
        else for (const line of formatReport(report)) (report.ok ? log : error)(line);
        setExit(report.ok ? 0 : 1);
      },
    );

  program
    .command('submit')
    .description(
      'validate a module, run the suite for it (and dense where this machine has none), write a submission bundle, optionally upload it',
    )
    .argument('<module>', 'path to the architecture module')
    .addOption(tierOption())
    .option('--seeds <n>', "seeds per task (default: the tier's)", positiveInt)
    .option('--task <id...>', 'only these tasks (default: every task the module accepts)')
    .addOption(backendOption())
    .option('--out <dir>', 'records root: the bundle goes to DIR/submissions/<name>/', 'results')
    .option('--sqlite <path>', 'SQLite store (default .middlepath/store.sqlite; DATABASE_URL selects Postgres)')
    .option('--no-store', 'do not index runs in the store (dense runs are then looked for in DIR/runs only)')
    .option('--server <url>', 'upload the bundle to this leaderboard (POST URL/api/submissions)')
    .option('--token <token>', 'upload token (or MIDDLEPATH_TOKEN)')
    .option('--json', 'print the outcome as JSON on stdout', false)
    .action(
      async (
        modulePath: string,
        o: {
          tier: TierName;
          seeds?: number;
          task?: string[];
          backend: BackendChoice;
          out: string;
          sqlite?: string;
          store: boolean;
          server?: string;
          token?: string;
          json: boolean;
        },
      ) => {
        if (!requireSandbox('submit', error, setExit)) return;
        const token = o.token ?? process.env.MIDDLEPATH_TOKEN;
        if (o.server && !token) {
          error(
            'middlepath: --server needs an upload token: --token T or MIDDLEPATH_TOKEN (a maintainer makes one with `middlepath tokens create NAME`)',
          );
          setExit(2);
          return;
        }
        const controller = new AbortController();
        const onSigint = () => {
          process.stderr.write('\ninterrupt: stopping after the current step; finished runs are kept\n');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        try {
          const { submit } = await import('./submit.ts');
          const r = await submit({
            modulePath,
            tier: o.tier,
            seeds: o.seeds,
            tasks: o.task,
            backend: o.backend,
            outDir: o.out,
            store: o.store,
            sqlitePath: o.sqlite,
            server: o.server,
            token,
            json: o.json,
            signal: controller.signal,
            log: error, // progress and messages on stderr; stdout is for --json
          });
          if (o.json) {
            log(
              JSON.stringify(
                {
                  ok: r.exitCode === 0,
                  problem: r.problem,
                  bundleDir: r.bundleDir,
                  bundleHash: r.bundleHash,
                  claim: r.manifest?.claim ?? null,
                  validation: r.validation,
                  upload: r.upload,
                },
                null,
                2,
              ),
            );
          }
          setExit(r.exitCode);
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    );

  program
    .command('verify')
    .description('maintainer: re-run a submission in a child process with time and memory limits and compare with its claim')
    .argument('<submission>', 'a submission id or bundle hash in the store, or a bundle folder')
    .option('--variant-seed <n>', "regenerate the tasks' data from this held-out seed (default MIDDLEPATH_VARIANT_SEED)", positiveInt)
    .option('--sqlite <path>', 'SQLite store (default .middlepath/store.sqlite; DATABASE_URL selects Postgres)')
    .addOption(backendOption())
    .option(
      '--time-limit <s>',
      "wall-clock limit for the whole re-run (default: the tier's per-run limits, plus a minute a run)",
      positiveNumber,
    )
    .option('--no-ingest', 'do not add a verified submission’s records to the store')
    .option(
      '--accept-slow',
      'accept re-runs flagged as slow per counted FLOP (uncounted compute?) after reading the module; readback compute is refused regardless',
      false,
    )
    .option('--json', 'print the verdict as JSON', false)
    .action(
      async (
        target: string,
        o: {
          variantSeed?: number;
          sqlite?: string;
          backend: BackendChoice;
          timeLimit?: number;
          ingest: boolean;
          acceptSlow: boolean;
          json: boolean;
        },
      ) => {
        if (!requireSandbox('verify', error, setExit)) return;
        const fromEnv = process.env.MIDDLEPATH_VARIANT_SEED;
        let variantSeed = o.variantSeed ?? null;
        if (variantSeed === null && fromEnv) {
          variantSeed = Number(fromEnv);
          if (!Number.isInteger(variantSeed) || variantSeed < 1) {
            error(`middlepath: MIDDLEPATH_VARIANT_SEED must be a positive integer, got '${fromEnv}'`);
            setExit(2);
            return;
          }
        }
        const { verify } = await import('./verify.ts');
        const r = await verify({
          target,
          variantSeed,
          sqlitePath: o.sqlite,
          backend: o.backend,
          timeLimitSeconds: o.timeLimit,
          ingest: o.ingest,
          acceptSlow: o.acceptSlow,
          log: error,
        });
        if (o.json) log(JSON.stringify(r, null, 2));
        setExit(r.status === 'verified' ? 0 : 1);
      },
    );

  const tokens = program
    .command('tokens')
    .description('maintainer: upload tokens for POST /api/submissions (only their SHA-256 is stored)');
  const sqliteOption = () =>
    new Option('--sqlite <path>', 'SQLite store (default .middlepath/store.sqlite; DATABASE_URL selects Postgres)');
  const withDb = async <T>(sqlite: string | undefined, f: (db: Awaited<ReturnType<typeof openSubmissionDb>>) => Promise<T>): Promise<T> => {
    const { openSubmissionDb } = await import('./db.ts');
    const db = await openSubmissionDb(sqlite !== undefined ? { sqlitePath: sqlite } : {});
    try {
      return await f(db);
    } finally {
      await db.close();
    }
  };
  tokens
    .command('create')
    .description('make a token; it is printed once, here, and cannot be shown again')
    .argument('<name>', 'who or what it is for (lower-case letters, digits, . _ -)')
    .addOption(sqliteOption())
    .action(async (name: string, o: { sqlite?: string }) => {
      await withDb(o.sqlite, async (db) => {
        try {
          const t = await db.createToken(name);
          log(t.token);
          error(`token '${t.name}' created: it is shown only this once; give it to the submitter (--token or MIDDLEPATH_TOKEN)`);
          setExit(0);
        } catch (e) {
          error(`middlepath: ${(e as Error).message}`);
          setExit(2);
        }
      });
    });
  tokens
    .command('list')
    .description('every token: name, when made, when revoked')
    .addOption(sqliteOption())
    .action(async (o: { sqlite?: string }) => {
      await withDb(o.sqlite, async (db) => {
        const all = await db.listTokens();
        if (!all.length) error('no tokens yet: `middlepath tokens create NAME`');
        for (const t of all) log(`${t.name.padEnd(24)} created ${t.createdAt}${t.revokedAt ? `  revoked ${t.revokedAt}` : '  live'}`);
        setExit(0);
      });
    });
  tokens
    .command('revoke')
    .description('revoke a token: uploads with it are refused (403) from now on')
    .argument('<name>')
    .addOption(sqliteOption())
    .action(async (name: string, o: { sqlite?: string }) => {
      await withDb(o.sqlite, async (db) => {
        const done = await db.revokeToken(name);
        if (done) log(`token '${name}' revoked`);
        else error(`middlepath: no live token named '${name}' (\`middlepath tokens list\` shows them)`);
        setExit(done ? 0 : 2);
      });
    });
}
