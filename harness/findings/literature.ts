/**
 * "Against the literature": the known directions of ../shared/research/moe.md, each
 * checked per task against the leaderboard's intervals. Every clause names the figures
 * it rests on, then a verdict computed from them (verdicts.ts), never a judgement by hand.
 */
import type { TaskFindings } from './collect.ts';
import { formatMeanInterval, formatMultiplier, formatQuality, percent, shortNote, sig } from './format.ts';
import {
  asPredicted,
  compareQuality,
  exactly,
  inconclusive,
  judge,
  notAsPredicted,
  notRun,
  notTestable,
  seedsOf,
  type Verdict,
} from './verdicts.ts';

/** The learned sparse routers the directions are about. */
const LEARNED = ['switch-top1', 'topk'] as const;

/**
 * Tasks where the hash baseline's key is the group label itself (charlm: a token's expert
 * is a hash of its character id, and the group is the input character), so its NMI is
 * high by construction and cannot serve as the "no specialisation" control.
 */
const HASH_KEYED_BY_GROUP = new Set(['charlm']);

export interface Clause {
  figures: string;
  verdict: Verdict;
}

export interface Direction {
  id: string;
  claim: string;
  source: string;
  check(t: TaskFindings): Clause[];
}

const find = (t: TaskFindings, name: string) => t.archs.find((a) => a.name === name) ?? null;
const missing = (name: string): Clause => ({ figures: name, verdict: notRun });

function flopGain(t: TaskFindings): Clause[] {
  return LEARNED.map((name) => {
    const a = find(t, name);
    if (!a) return missing(name);
    const m = a.row.multiplier;
    if (m) return { figures: `${name} ${formatMultiplier(m)}`, verdict: judge(m, exactly(1), 'above') };
    const note = a.row.multiplierNote ?? 'no multiplier';
    const figures = `${name}: ${shortNote(note)}`;
    // every seed short of dense's quality within the budget is a gain below 1; only some is mixed
    if (/^never reached/.test(note)) return { figures, verdict: notAsPredicted() };
    if (/seeds never reached/.test(note)) return { figures, verdict: { kind: 'inconclusive', text: 'inconclusive (seeds disagree)' } };
    return { figures, verdict: notTestable(shortNote(note)) };
  });
}

function wallClock(t: TaskFindings): Clause[] {
  return LEARNED.map((name) => {
    const a = find(t, name);
    if (!a) return missing(name);
    const { multiplier: m, multiplierSeconds: s, multiplierNote } = a.row;
    if (!m) return { figures: `${name}: ${shortNote(multiplierNote ?? 'no multiplier')}`, verdict: notTestable('no FLOP gain to compare') };
    if (!s) return { figures: `${name} ${formatMultiplier(m)} on FLOPs`, verdict: notTestable('no wall-clock multiplier') };
    return {
      figures: `${name} ${formatMultiplier(s)} on seconds vs ${formatMultiplier(m)} on FLOPs`,
      verdict: judge(s, m, 'below'),
    };
  });
}

/** Quality of `a` against `b`, both by name; `outcome` says what each result means for this direction. */
function qualityPair(
  t: TaskFindings,
  a: string,
  b: string,
  outcome: { better: Verdict; worse: Verdict; overlap: (seeds: number) => Verdict },
): Clause[] {
  const x = find(t, a);
  const y = find(t, b);
  if (!x || !y) return [...(x ? [] : [missing(a)]), ...(y ? [] : [missing(b)])];
  const qx = x.row.quality;
  const qy = y.row.quality;
  if (!qx || !qy) return [{ figures: `${a} vs ${b}`, verdict: notTestable('no quality interval') }];
  const figures = `${a} ${formatQuality(qx, t.metric)} vs ${b} ${formatQuality(qy, t.metric)}`;
  const c = compareQuality(qx, qy, t.metric.higherIsBetter);
  const verdict = c === 'one seed' ? inconclusive(1) : c === 'overlap' ? outcome.overlap(seedsOf(qx, qy)) : outcome[c];
  return [{ figures, verdict }];
}

function legibility(t: TaskFindings): Clause[] {
  const out: Clause[] = [];
  const nmi = (iv: NonNullable<TaskFindings['archs'][number]['legibility']['nmi']>) => formatMeanInterval(iv, (x) => sig(x, 2));
  const hash = find(t, 'hash');
  for (const name of LEARNED) {
    const a = find(t, name);
    if (!a) out.push(missing(name));
    else if (!hash) out.push(missing('hash'));
    else if (HASH_KEYED_BY_GROUP.has(t.task)) {
      out.push({ figures: `${name} NMI`, verdict: notTestable(`hash routes by the ${t.groupName ?? 'group label'} itself here`) });
    } else if (!a.legibility.nmi || !hash.legibility.nmi) {
      out.push({ figures: `${name} NMI`, verdict: notTestable('routing not recorded') });
    } else {
      out.push({
        figures: `NMI ${name} ${nmi(a.legibility.nmi)} vs hash ${nmi(hash.legibility.nmi)}`,
        verdict: judge(a.legibility.nmi, hash.legibility.nmi, 'above'),
      });
    }
  }
  const gr = find(t, 'gradient-routed');
  const dense = find(t, 'dense');
  if (!gr) out.push(missing('gradient-routed'));
  else if (!dense) out.push(missing('dense'));
  else if (!gr.legibility.updateDensity || !dense.legibility.updateDensity) {
    out.push({ figures: 'update density', verdict: notTestable('update density not recorded') });
  } else {
    const ud = (iv: NonNullable<typeof gr.legibility.updateDensity>) => formatMeanInterval(iv, percent);
    out.push({
      figures: `update density gradient-routed ${ud(gr.legibility.updateDensity)} vs dense ${ud(dense.legibility.updateDensity)}`,
      verdict: judge(gr.legibility.updateDensity, dense.legibility.updateDensity, 'below'),
    });
  }
  return out;
}

export const DIRECTIONS: readonly Direction[] = [
  {
    id: 'a',
    claim: 'at equal active FLOPs, sparse MoE (switch-top1, topk) reaches dense’s quality with fewer FLOPs: multiplier > 1',
    source: 'Switch Transformer, Fedus et al. 2021: dense’s quality in 1/7 of the steps',
    check: flopGain,
  },
  {
    id: 'b',
    claim: 'the wall-clock gain is smaller than the FLOP gain',
    source: 'OLMoE 2409.02060: ~3× fewer tokens, ~2× less time',
    check: wallClock,
  },
  {
    id: 'c',
    claim: 'hash routing comes close to learned routing (hash vs switch-top1 quality)',
    source: 'Roller et al. 2021, 2106.04426',
    check: (t) =>
      qualityPair(t, 'hash', 'switch-top1', {
        better: asPredicted('hash clearly better'),
        worse: notAsPredicted('hash clearly worse'),
        overlap: () => asPredicted('intervals overlap'),
      }),
  },
  {
    id: 'd',
    claim: 'a shared expert helps (shared-routed vs switch-top1 quality); the literature is split',
    source: 'DeepSeekMoE 2401.06066 found it helps, OLMoE 2409.02060 that it slightly hurts',
    check: (t) =>
      qualityPair(t, 'shared-routed', 'switch-top1', {
        better: asPredicted('shared clearly better, as DeepSeekMoE found'),
        worse: notAsPredicted('shared clearly worse, as OLMoE found'),
        overlap: inconclusive,
      }),
  },
  {
    id: 'e',
    claim:
      'at the same FLOP budget switch-top1 beats dense-total (its total parameters, every one active, so each example costs more FLOPs)',
    source: 'Fedus et al. 2021 against FLOP-matched and larger dense models',
    check: (t) =>
      qualityPair(t, 'switch-top1', 'dense-total', {
        better: asPredicted(),
        worse: notAsPredicted('dense-total clearly better'),
        overlap: inconclusive,
      }),
  },
  {
    id: 'f',
    claim:
      'learned routers specialise by task or class (routing NMI of switch-top1/topk above that of hash, whose routing never sees the label), and gradient routing updates fewer parameters per step than dense',
    source: 'Fedus et al. 2021 and Cloud et al. 2024, 2410.04332',
    check: legibility,
  },
];

export function renderClause(c: Clause): string {
  return `${c.figures} → **${c.verdict.text}**`;
}

/** The whole list: one bullet per direction, one sub-bullet per task. */
export function renderLiterature(tasks: readonly TaskFindings[]): string {
  const lines = [
    'Verdicts come from the 95% intervals over seeds: a direction holds when the intervals separate the predicted way; overlapping intervals are inconclusive, and one seed gives no interval.',
    '',
  ];
  for (const d of DIRECTIONS) {
    lines.push(`- **(${d.id})** ${d.claim} (${d.source}).`);
    for (const t of tasks) lines.push(`  - ${t.task}: ${d.check(t).map(renderClause).join('; ')}`);
  }
  return lines.join('\n');
}
