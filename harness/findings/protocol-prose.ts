/**
 * The protocol in words, generated from results/protocol.json so that no number is typed
 * twice: docs/protocol.md is written from it by `npm run findings`, and /methods renders it.
 */
import { type Protocol, protocolHash, seedsOf } from '../results/protocol.ts';

const range = (xs: readonly number[]) => (xs.length > 1 ? `${xs[0]}–${xs.at(-1)}` : String(xs[0] ?? '—'));
const row = (cells: readonly (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;

export function protocolProse(p: Protocol): string {
  const hash = protocolHash(p);
  const rules = [p.targetRules.primary, ...p.targetRules.sensitivity];
  const tasks = Object.entries(p.tasks);
  return [
    `# The protocol (version ${p.version})`,
    `*Generated from \`results/protocol.json\` by \`npm run findings\`; do not edit by hand. Frozen ${p.frozenAt}; SHA-256 of its canonical JSON \`${hash}\`.*`,
    p.about,
    '## Reference',
    `Every multiplier, verdict and scaling ratio is read against **${p.reference.architecture}**; **${p.reference.second}** is shown as a second, labelled column. ${p.reference.why}`,
    '## Two sets of records',
    `**Exploratory**: seeds ${p.exploratory.seeds.from}–${p.exploratory.seeds.from + p.exploratory.seeds.count - 1}, records without a protocol stamp. ${p.exploratory.note}`,
    `**Confirmatory**: records stamped with this protocol's hash, on fresh seeds of tier \`${p.tier}\`: the reference's target-setting seeds ${p.seeds.targetSetting.from}–${p.seeds.targetSetting.from + p.seeds.targetSetting.count - 1}; every architecture's comparison seeds from ${p.seeds.comparison.from}; the reference's placebo seeds from ${p.seeds.placebo.from}. A record stamped with another protocol's hash is refused by the findings (\`npm run findings -- --check\` fails naming it).`,
    '## Targets',
    p.targetRules.note,
    [
      row(['rule', 'role', 'held from (share of the budget)', 'target', 'cost read at', 'what it is']),
      row(['---', '---', '---', '---', '---', '---']),
      ...rules.map((r, i) =>
        row([
          r.id,
          i === 0 ? 'primary' : 'sensitivity',
          r.holdFrom,
          r.tolerance
            ? `tolerance bound: ${r.tolerance.coverage * 100}% of seeds, ${r.tolerance.confidence * 100}% confidence`
            : 'worst seed',
          r.crossing,
          r.note,
        ]),
      ),
    ].join('\n'),
    '## Tests, margins and power',
    `Significance α = ${p.power.alpha}, power ${p.power.power}, target minimum detectable multiplier ${p.power.targetMde}×. ${p.power.basis}`,
    `Equivalence margins: ${p.margins.multiplier}× on a multiplier ([${(1 / p.margins.multiplier).toFixed(2)}, ${p.margins.multiplier}]), ${p.margins.perDoubling}× per doubling on a trend. ${p.margins.basis}`,
    `Seconds: ${p.seconds.note} (at most ${p.seconds.maxLoadPerCore} per core).`,
    [
      row([
        'task',
        'seeds per cell',
        'pairs the power calculation asks for',
        'SD of per-seed log multipliers (exploratory)',
        'planned MDE',
        'quality margin',
        'placebo margin (its SD)',
        'comparison seeds',
        'placebo seeds',
      ]),
      row(['---', '---', '---', '---', '---', '---', '---', '---', '---']),
      ...tasks.map(([id, t]) => {
        const s = seedsOf(p, id);
        return row([
          id,
          t.seedsPerCell,
          t.seedsRequired ?? '> 1000',
          t.sdLogMultiplier,
          `${t.mdeAtSeedsPerCell}×`,
          t.qualityMargin,
          `${t.placeboMargin ?? p.margins.multiplier}×${t.placeboSd === undefined ? '' : ` (${t.placeboSd})`}`,
          range(s?.comparison ?? []),
          range(s?.placebo ?? []),
        ]);
      }),
    ].join('\n'),
    ...tasks.flatMap(([id, t]) => (t.shortfall ? [`*${id}: ${t.shortfall}*`] : [])),
    '## Families and claims',
    'Holm–Bonferroni within each family, never across; each table of the findings names the family of each p.',
    [row(['family', 'what it holds']), row(['---', '---']), ...p.families.map((f) => row([f.id, f.about]))].join('\n'),
    [
      row(['claim', 'statement', 'metric', 'test', 'direction', 'family', 'architectures', 'against', 'set']),
      row(['---', '---', '---', '---', '---', '---', '---', '---', '---']),
      ...p.claims.map((c) =>
        row([
          c.id,
          c.statement,
          c.metric,
          c.test,
          c.direction,
          c.family,
          c.architectures.join(', '),
          c.against ?? p.reference.architecture,
          c.set,
        ]),
      ),
    ].join('\n'),
    '## Learning rates',
    `${p.tuning.note} (\`${p.tuning.source}\`).`,
  ].join('\n\n');
}
