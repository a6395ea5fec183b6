/**
 * What `middlepath run` shows while it works: a progress bar per run on a terminal, plain
 * log lines otherwise, and a summary table at the end (or JSON with --json).
 */
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { RunRecord } from './results/record.ts';
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

export function createReporter({ json }: { json: boolean }): Reporter {
  const tty = Boolean(process.stderr.isTTY) && !json;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let bar: cliProgress.SingleBar | undefined;
  let lastLogged = 0;
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
              {
                format: `${label} {bar} {percentage}% | step {step} | {flops}/{budget} FLOPs | loss {loss} | ETA {eta_formatted}`,
                hideCursor: true,
                stream: process.stderr,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(e.budgetFlops, 0, { step: 0, flops: '0', budget: sci(e.budgetFlops), loss: '—' });
          } else log(`${label}: training to ${sci(e.budgetFlops)} executed FLOPs`);
          lastLogged = 0;
          break;
        }
        case 'progress': {
          const p = e.progress;
          if (bar) bar.update(Math.min(p.flops, p.budgetFlops), { step: p.step, flops: sci(p.flops), loss: p.loss?.toFixed(4) ?? '—' });
          else if (!json && p.flops - lastLogged >= p.budgetFlops / 4) {
            lastLogged = p.flops;
            log(`  step ${p.step}: ${pct(p.flops / p.budgetFlops)} of budget, loss ${p.loss?.toFixed(4)}, ${p.seconds.toFixed(1)} s`);
          }
          break;
        }
        case 'done': {
          bar?.stop();
          bar = undefined;
          const r = e.record;
          if (!r.energy.measured) energyNote = r.energy.reason;
          const outcome =
            r.status === 'completed' ? `${r.task.metric.name} ${formatQuality(r)}` : `${r.status.toUpperCase()}: ${r.failure?.message}`;
          log(`  → ${outcome}; ${sci(r.flops.executed)} FLOPs in ${r.training.wallSeconds.toFixed(1)} s; ${e.path}`);
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
      const failed = result.records.filter((r) => r.status !== 'completed').length;
      console.log(
        `${result.records.length} run(s) recorded, ${failed} not completed, ${result.skipped} skipped${result.loadErrors.length ? `, ${result.loadErrors.length} module(s) failed to load` : ''}`,
      );
    },
    stop() {
      bar?.stop();
    },
  };
}
