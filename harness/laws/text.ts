/**
 * A sweep's fits as markdown: the coefficient table beside the papers' signs, the papers'
 * findings point by point with their verdicts, and the cost of each cell in executed FLOPs
 * and seconds. The same text for `middlepath laws`, the README and the /laws page.
 */
import type { Estimate, Verdict } from './fit.ts';
import type { LawsStudy } from './study.ts';

const num = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const est = (e: Estimate | null, digits = 3) => (e ? `${num(e.value, digits)} [${num(e.lo, digits)}, ${num(e.hi, digits)}]` : 'not fitted');

export function verdictText(v: Verdict | null): string {
  if (!v) return 'not measured (no fit: too few cells recorded)';
  if (v.kind === 'effect') return v.direction === 'negative' ? 'falls (95% interval below 0)' : 'rises (95% interval above 0)';
  if (v.kind === 'no effect') return `no effect: TOST, 90% interval inside ±${v.margin}`;
  return `inconclusive (margin ±${v.margin}; minimum detectable effect ${num(v.mde, 4)} at 80% power)`;
}

/** A markdown table after a blank line. */
function table(lines: string[], header: readonly string[], rows: readonly (readonly string[])[]): void {
  lines.push('', `| ${header.join(' | ')} |`, `|${header.map(() => ' --- |').join('')}`);
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
}

/** The command that runs the plan, resumably. */
export const sweepCommand = (name: string) => `middlepath sweep ${name} --jobs 2`;

export function lawsSection(study: LawsStudy): string {
  const { plan } = study;
  const lines: string[] = [];
  lines.push(
    `### ${plan.name}: ${plan.study === 'expert-count' ? 'expert count (Clark et al. 2022)' : 'granularity (Krajewski et al. 2024)'}`,
  );
  lines.push('');
  lines.push(
    `${study.observations} of ${study.expected} runs recorded (${plan.task}, tiers ${plan.tiers.join(', ')}, seeds ${plan.seeds.from}–${plan.seeds.from + plan.seeds.count - 1}, protocol v${plan.protocol.version} ${plan.protocol.hash.slice(0, 12)}…). Intervals: 95% seed-level bootstrap; "no effect" only by TOST against ±${plan.margin.logLossPerDoubling} in log loss per doubling, fixed in the plan.`,
  );
  if (study.observations === 0) {
    lines.push('');
    lines.push(`The sweep has not been run yet: \`${sweepCommand(plan.name)}\` (resumable; see results/sweeps/README.md).`);
    return lines.join('\n');
  }
  if (study.clark.length > 0) {
    table(
      lines,
      ['router', 'tier', 'a (log N)', 'b (log E)', 'c (log N·log E)', 'd', 'per doubling of E', 'per doubling of N and E'],
      [
        ['*Clark et al.’s signs*', '', '−', '−', '+', '', '−', '+'],
        ...study.clark.map((f) => [
          f.router,
          f.tier,
          est(f.a),
          est(f.b),
          est(f.c, 4),
          est(f.d),
          est(f.perDoublingE, 4),
          est(f.interactionPerDoubling, 5),
        ]),
      ],
    );
  }
  if (study.granularity.length > 0) {
    table(
      lines,
      ['router', 'tier', 's (log G)', 'per doubling of G', 'best G', 'mean loss by G'],
      [
        ['*Krajewski et al.’s sign*', '', '−', '−', 'grows with compute', ''],
        ...study.granularity.map((g) => [
          g.router,
          g.tier,
          est(g.s, 4),
          est(g.perDoublingG, 4),
          String(g.bestG),
          g.cells.map((c) => `G=${c.granularity}: ${num(c.meanLoss, 4)}`).join(', '),
        ]),
      ],
    );
  }
  table(
    lines,
    ['paper', 'finding', 'measured', 'estimate', 'verdict', 'here'],
    study.points.map((p) => [p.paper, p.claim, p.measured, est(p.estimate, 4), verdictText(p.verdict), p.agreement]),
  );
  lines.push('');
  lines.push('Cost of each cell (means over its seeds): what the law costs in executed FLOPs and in seconds on this machine.');
  table(
    lines,
    ['tier', 'arch', 'E', 'G', 'd', 'seeds', 'loss (nats)', 'executed FLOPs', 'seconds', 's per GFLOP'],
    study.cost.map((c) => [
      c.tier,
      c.arch,
      String(c.experts),
      String(c.granularity),
      String(c.width),
      String(c.seeds),
      num(c.meanLoss, 4),
      c.meanExecutedFlops.toExponential(2),
      num(c.meanSeconds, 1),
      num(c.secondsPerGflop, 4),
    ]),
  );
  return lines.join('\n');
}
