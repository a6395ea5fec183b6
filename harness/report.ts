/**
 * What `middlepath run` shows while it works: a progress bar per run on a terminal, plain
 * log lines otherwise, and a summary table at the end (or JSON with --json).
 */

import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { knobsLabel, type RunKnobs } from './knobs.ts';
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

/** 1234567 → "1.23M": parameter counts in a column that must stay narrow. */
function compactCount(n: number): string {
  if (n < 1e3) return String(n);
  const [div, suffix] = n < 1e6 ? [1e3, 'k'] : n < 1e9 ? [1e6, 'M'] : [1e9, 'G'];
  return `${(n / div).toPrecision(3)}${suffix}`;
}

/**
 * The results table: one row per run, in the order given (the plan's), no vertical rules, so
 * that it fits 100 columns. A run that did not complete shows its status where its quality would
 * be; the energy column appears only when some run measured energy (the line under the table says why not).
 */
export function summaryTable(records: RunRecord[]): string {
  const withEnergy = records.some((r) => r.energy.measured);
  const head = ['task', 'architecture', 'seed', 'quality', 'FLOPs run', 'model', 'train s', ...(withEnergy ? ['energy'] : []), 'params'];
  const table = new Table({
    head,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: ' ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
  });
  table.push(head.map((h) => '─'.repeat(h.length)));
  for (const r of records) {
    table.push([
      r.task.id,
      r.architecture.name,
      r.task.seed,
      r.status === 'completed' ? formatQuality(r) : r.status,
      sci(r.flops.executed),
      sci(r.flops.model),
      r.training.wallSeconds.toFixed(1),
      ...(withEnergy ? [formatEnergy(r)] : []),
      r.params.active === r.params.total
        ? compactCount(r.params.total)
        : `${compactCount(r.params.active)}/${compactCount(r.params.total)}`,
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

/** The training loss in the task's own units where they are a loss: bits per character for charlm (the loss is in nats). */
export function formatLoss(loss: number | null | undefined, unit: string | undefined): string {
  if (loss === null || loss === undefined) return 'loss —';
  return unit === 'bpc' ? `${(loss / Math.LN2).toFixed(3)} bpc` : `loss ${loss.toFixed(4)}`;
}

/**
 * The bar's line, fitted to the terminal. The label (which run) is the last thing to give up:
 * FLOPs and loss go first, then the bar shrinks to 10, and only then is the label shortened.
 * `{left}`, not `{eta}`: cli-progress fills `{eta}` itself, in bare seconds.
 */
export function barFormat(label: string, columns: number): { format: string; barsize: number } {
  const width = Math.max(30, columns - 1);
  // at their widest: " 100% | 1.23e+10/3.00e+10 | loss 12.3456 | ETA 59m59s" is 54 columns, " 100% | ETA 59m59s" 18
  const fullFigures = { text: ' {percentage}% | {flops}/{budget} | {loss} | ETA {left}', width: 54 };
  const shortFigures = { text: ' {percentage}% | ETA {left}', width: 18 };
  const minBar = 10;
  const figures = label.length + 1 + minBar + fullFigures.width <= width ? fullFigures : shortFigures;
  const barsize = Math.max(minBar, Math.min(30, width - figures.width - label.length - 1));
  const room = Math.max(1, width - figures.width - barsize - 1);
  const shown = label.length > room ? `${label.slice(0, Math.max(0, room - 1))}…` : label;
  return { format: `${shown} {bar}${figures.text}`, barsize };
}

export function createReporter({ json, concurrent = false }: { json: boolean; concurrent?: boolean }): Reporter {
  // several runs at once share the terminal: they report in lines, not bars
  const tty = Boolean(process.stderr.isTTY) && !json && !concurrent;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let bar: cliProgress.SingleBar | undefined;
  const lastLogged = new Map<string, number>();
  let energyNote: string | null = null;
  // the plan's order, for the table (with --jobs, runs finish in any order), and the runs under way, for Ctrl-C
  const planIndex = new Map<string, number>();
  const recordIndex = new Map<string, number>();
  const inFlight = new Set<string>();
  let planned = 0;

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
          planIndex.set(e.run.key, e.index);
          inFlight.add(e.run.key);
          planned = e.total;
          const label = `[${e.index + 1}/${e.total}] ${e.run.task.spec.id} · ${e.run.arch.architecture.name}${knobsTag(e.run.knobs)} · seed ${e.run.seed}`;
          if (tty) {
            bar = new cliProgress.SingleBar(
              { ...barFormat(label, process.stderr.columns ?? 80), hideCursor: true, stream: process.stderr },
              cliProgress.Presets.shades_classic,
            );
            bar.start(e.budgetFlops, 0, {
              flops: '0',
              budget: sci(e.budgetFlops),
              loss: formatLoss(null, undefined),
              left: formatEta(null),
            });
          } else log(`${label}: training to ${sci(e.budgetFlops)} executed FLOPs`);
          lastLogged.set(e.run.key, 0);
          break;
        }
        case 'progress': {
          const p = e.progress;
          if (bar) {
            bar.update(Math.min(p.flops, p.budgetFlops), {
              flops: sci(p.flops),
              loss: formatLoss(p.loss, e.run.task.metric.unit),
              left: formatEta(etaSeconds(p)),
            });
          } else if (!json && p.flops - (lastLogged.get(e.run.key) ?? 0) >= p.budgetFlops / 4) {
            lastLogged.set(e.run.key, p.flops);
            const who = concurrent
              ? `  ${e.run.task.spec.id} · ${e.run.arch.architecture.name}${knobsTag(e.run.knobs)} · seed ${e.run.seed}`
              : ' ';
            log(
              `${who} step ${p.step}: ${pct(p.flops / p.budgetFlops)} of budget, ${formatLoss(p.loss, e.run.task.metric.unit)}, ${p.seconds.toFixed(1)} s`,
            );
          }
          break;
        }
        case 'crash':
          inFlight.delete(e.run.key);
          log(
            `✗ ${e.run.task.spec.id} · ${e.run.arch.architecture.name}${knobsTag(e.run.knobs)} · seed ${e.run.seed}: ${e.message}; nothing was recorded`,
          );
          break;
        case 'done': {
          bar?.stop();
          bar = undefined;
          inFlight.delete(e.run.key);
          recordIndex.set(e.record.id, planIndex.get(e.run.key) ?? Number.POSITIVE_INFINITY);
          const r = e.record;
          if (!r.energy.measured) energyNote = r.energy.reason;
          const outcome =
            r.status === 'completed' ? `${r.task.metric.name} ${formatQuality(r)}` : `${r.status.toUpperCase()}: ${r.failure?.message}`;
          const who = concurrent ? ` ${r.task.id} · ${r.architecture.name}${knobsTag(r.knobs)} · seed ${r.task.seed}` : '';
          log(`  →${who} ${outcome}; ${sci(r.flops.executed)} FLOPs in ${r.training.wallSeconds.toFixed(1)} s; ${e.path}`);
          break;
        }
        case 'skip':
          if (!json)
            log(
              `skip ${e.run.task.spec.id} · ${e.run.arch.architecture.name}${knobsTag(e.run.knobs)} · seed ${e.run.seed}: recorded in ${e.existing}`,
            );
          break;
        case 'interrupted':
          bar?.stop();
          {
            const dropped = inFlight.size;
            const unstarted = Math.max(0, planned - planIndex.size);
            log(
              `interrupted: ${dropped === 1 ? 'the run in progress was' : `the ${dropped} runs in progress were`} dropped${unstarted ? `, ${unstarted} not started` : ''}; finished runs are recorded`,
            );
          }
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
      const inPlanOrder = [...result.records].sort(
        (a, b) => (recordIndex.get(a.id) ?? Number.POSITIVE_INFINITY) - (recordIndex.get(b.id) ?? Number.POSITIVE_INFINITY),
      );
      if (result.records.length) console.log(summaryTable(inPlanOrder));
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

/** ' [experts=4 width=32]' for a sweep's run, '' for the standard suite's. */
function knobsTag(knobs: RunKnobs | undefined): string {
  const label = knobsLabel(knobs);
  return label ? ` [${label}]` : '';
}
