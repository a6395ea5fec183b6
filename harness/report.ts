/**
 * What `middlepath run` shows while it works: a progress bar per run on a terminal, plain
 * log lines otherwise, and a summary table at the end (or JSON with --json).
 */
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { uncountedComputeFlags } from './measure/uncounted.ts';
import type { CostReading, RunRecord } from './results/record.ts';
import { costToTargetOfRun } from './stats/cost-to-target.ts';
import type { SuiteEvent, SuiteResult } from './suite.ts';

export interface Reporter {
  event(e: SuiteEvent): void;
  summary(result: SuiteResult): void;
  stop(): void;
}

const sci = (n: number) => n.toExponential(2);
const pct = (n: number) => `${(100 * n).toFixed(0)}%`;

export function formatQuality(r: RunRecord): string {
  if (!r.final) return '—';
  const q = r.final.quality;
  return r.task.metric.name === 'accuracy'
    ? `${(100 * q).toFixed(2)}%`
    : `${q.toPrecision(4)}${r.task.metric.unit ? ` ${r.task.metric.unit}` : ''}`;
}

export function formatEnergy(r: RunRecord): string {
  return r.energy.measured ? `${r.energy.grossJoules.toFixed(1)} J` : 'not measured';
}

const reading = (c: CostReading): string =>
  c.status === 'reached'
    ? `${c.cost.toPrecision(4)} FLOPs`
    : c.status === 'bound'
      ? `≤ ${c.cost.toPrecision(4)} FLOPs (on target at the first evaluation)`
      : c.status === 'not reached'
        ? `not reached (${c.spent.toPrecision(4)} FLOPs spent)`
        : `not measured: ${c.reason}`;

/**
 * A run's cost-to-target in executed FLOPs against the target in force (the figure the site
 * shows, from the same module), and a figure the record stored when it ran as history.
 */
export function formatCostToTarget(r: RunRecord): string {
  const { now, why, whenRun } = costToTargetOfRun(r);
  const sign = r.task.metric.higherIsBetter ? '≥' : '≤';
  const figure = now ? `cost-to-target ${reading(now.executedFlops)} (${sign} ${now.target.toPrecision(4)})` : `cost-to-target — (${why})`;
  const history =
    whenRun && whenRun.target !== now?.target
      ? `; when run, against the target then in force (${sign} ${whenRun.target.toPrecision(4)}): ${reading(whenRun.executedFlops)}`
      : '';
  return figure + history;
}

export function summaryTable(records: RunRecord[]): string {
  const table = new Table({
    head: ['task', 'architecture', 'seed', 'status', 'quality', 'executed FLOPs', 'model FLOPs', 'train s', 'energy', 'params'],
    style: { head: [], border: [] },
  });
  for (const r of records) {
    table.push([
      r.task.id,
      r.architecture.name,
      r.task.seed,
      r.status,
      formatQuality(r),
      sci(r.flops.executed),
      sci(r.flops.model),
      r.training.wallSeconds.toFixed(1),
      formatEnergy(r),
      r.params.active === r.params.total ? `${r.params.total}` : `${r.params.active}/${r.params.total}`,
    ]);
  }
  return table.toString();
}

/**
 * Seconds left of a run, from the FLOPs still to spend at the rate measured so far; null
 * for the first few steps (the first step sets up graphs and kernels and is no guide).
 */
export function etaSeconds(p: { step: number; flops: number; budgetFlops: number; seconds: number }): number | null {
  if (p.step < 5 || p.flops <= 0 || p.seconds <= 0) return null;
  return (Math.max(0, p.budgetFlops - p.flops) * p.seconds) / p.flops;
}

function formatEta(s: number | null): string {
  if (s === null) return '…';
  return s < 60
    ? `${Math.ceil(s)}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${(s / 3600).toFixed(1)}h`;
}

/** The bar's line, fitted to the terminal: the label is shortened first, then FLOPs and loss dropped. */
export function barFormat(label: string, columns: number): { format: string; barsize: number } {
  const width = Math.max(30, columns - 1);
  // at their widest: " 100% | 1.23e+10/3.00e+10 | loss 12.3456 | ETA 59m59s" is 54 columns, " 100% | ETA 59m59s" 18
  const full = width >= 54 + 10 + 12;
  const figures = full ? ' {percentage}% | {flops}/{budget} | loss {loss} | ETA {eta}' : ' {percentage}% | ETA {eta}';
  const figuresWidth = full ? 54 : 18;
  const barsize = Math.max(10, Math.min(30, width - figuresWidth - Math.min(label.length, 30) - 1));
  const room = Math.max(1, width - figuresWidth - barsize - 1);
  const shown = label.length > room ? `${label.slice(0, Math.max(0, room - 1))}…` : label;
  return { format: `${shown} {bar}${figures}`, barsize };
}

export function createReporter({ json, concurrent = false }: { json: boolean; concurrent?: boolean }): Reporter {
  // several runs at once share the terminal: they report in lines, not bars
  const tty = Boolean(process.stderr.isTTY) && !json && !concurrent;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let bar: cliProgress.SingleBar | undefined;
  const lastLogged = new Map<string, number>();
  let energyNote: string | null = null;

  return {
    event(e) {
      switch (e.type) {
        case 'backend':
          log(`backend ${e.backend.name} (${e.backend.reason}); hardware class: ${e.hardwareClass}`);
          if (e.backend.kernels.length) log(`custom kernels: ${e.backend.kernels.join(', ')}`);
          break;
        case 'plan':
          log(`${e.runs} run(s) to do${e.skipped ? `, ${e.skipped} already recorded (skipped; --force re-runs them)` : ''}`);
          break;
        case 'load-error':
          log(`✗ ${e.message}`);
          break;
        case 'start': {
          const label = `[${e.index + 1}/${e.total}] ${e.run.task.spec.id} · ${e.run.arch.architecture.name} · seed ${e.run.seed}`;
          if (tty) {
            bar = new cliProgress.SingleBar(
              { ...barFormat(label, process.stderr.columns ?? 80), hideCursor: true, stream: process.stderr },
              cliProgress.Presets.shades_classic,
            );
            bar.start(e.budgetFlops, 0, { flops: '0', budget: sci(e.budgetFlops), loss: '—', eta: formatEta(null) });
          } else log(`${label}: training to ${sci(e.budgetFlops)} executed FLOPs`);
          lastLogged.set(e.run.key, 0);
          break;
        }
        case 'progress': {
          const p = e.progress;
          if (bar) {
            bar.update(Math.min(p.flops, p.budgetFlops), {
              flops: sci(p.flops),
              loss: p.loss?.toFixed(4) ?? '—',
              eta: formatEta(etaSeconds(p)),
            });
          } else if (!json && p.flops - (lastLogged.get(e.run.key) ?? 0) >= p.budgetFlops / 4) {
            lastLogged.set(e.run.key, p.flops);
            const who = concurrent ? `  ${e.run.task.spec.id} · ${e.run.arch.architecture.name} · seed ${e.run.seed}` : ' ';
            log(`${who} step ${p.step}: ${pct(p.flops / p.budgetFlops)} of budget, loss ${p.loss?.toFixed(4)}, ${p.seconds.toFixed(1)} s`);
          }
          break;
        }
        case 'crash':
          log(`✗ ${e.run.task.spec.id} · ${e.run.arch.architecture.name} · seed ${e.run.seed}: ${e.message}; nothing was recorded`);
          break;
        case 'done': {
          bar?.stop();
          bar = undefined;
          const r = e.record;
          if (!r.energy.measured) energyNote = r.energy.reason;
          const outcome =
            r.status === 'completed' ? `${r.task.metric.name} ${formatQuality(r)}` : `${r.status.toUpperCase()}: ${r.failure?.message}`;
          const who = concurrent ? ` ${r.task.id} · ${r.architecture.name} · seed ${r.task.seed}` : '';
          log(`  →${who} ${outcome}; ${sci(r.flops.executed)} FLOPs in ${r.training.wallSeconds.toFixed(1)} s; ${e.path}`);
          break;
        }
        case 'skip':
          if (!json) log(`skip ${e.run.task.spec.id} · ${e.run.arch.architecture.name} · seed ${e.run.seed}: recorded in ${e.existing}`);
          break;
        case 'interrupted':
          bar?.stop();
          log('interrupted: the run in progress was dropped; finished runs are recorded');
          break;
      }
    },
    summary(result) {
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ records: result.records, skipped: result.skipped, loadErrors: result.loadErrors, interrupted: result.interrupted }, null, 2)}\n`,
        );
        return;
      }
      if (result.records.length) console.log(summaryTable(result.records));
      if (energyNote) console.log(`energy: not measured — ${energyNote}`);
      // compared with the baseline runs of this suite (same hardware class, task and tier)
      for (const { flag } of uncountedComputeFlags(result.records)) console.log(`⚑ ${flag.message}`);
      const refused = result.records.filter((r) => r.status === 'refused').length;
      const failed = result.records.filter((r) => r.status !== 'completed' && r.status !== 'refused').length;
      console.log(
        `${result.records.length} run(s) recorded, ${failed} not completed${refused ? `, ${refused} refused by their architecture` : ''}, ${result.skipped} skipped${result.loadErrors.length ? `, ${result.loadErrors.length} module(s) failed to load` : ''}${result.crashed ? `, ${result.crashed} run process(es) ended without a record` : ''}`,
      );
    },
    stop() {
      bar?.stop();
    },
  };
}
