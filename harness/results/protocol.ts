/**
 * The pre-registered protocol (results/protocol.json): for each claim, the reference it is
 * read against, the target rule and the seeds that set it, the metric and the test, the
 * family it is corrected in, the equivalence margin, and the seed count from a power
 * calculation. It is frozen before the confirmatory runs it judges; every record carries
 * its hash (record.protocol), and findings read one protocol's records at a time.
 *
 * A change is a new version: edit the file, bump `version`, and the old records stop
 * counting as confirmatory under it (their hash differs).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { canonicalJson, sha256 } from './files.ts';

const seedRange = z
  .object({ from: z.number().int().nonnegative(), count: z.number().int().positive() })
  .strict()
  .describe('seeds from, from + 1, …, from + count − 1');

const targetRule = z
  .object({
    id: z.string().min(1),
    /** the target is the worst quality any target-setting seed shows from this share of its budget on */
    holdFrom: z.number().gt(0).max(1),
    /** where a run's cost is read: where it reaches the target for good, or where it first crosses it */
    crossing: z.enum(['for good', 'first']),
    /**
     * Absent: the target is the worst held quality of the target-setting seeds (version 1).
     * Present: the upper tolerance bound of those held qualities, on the log of their distance
     * from perfect (the metric itself where lower is better, 1 − it where higher is better),
     * covering this share of the reference's seeds with this confidence, so that fresh seeds of
     * the reference reach it (the worst of five censored 6 of 20 fresh superposition seeds in v1).
     */
    tolerance: z
      .object({ coverage: z.number().gt(0).lt(1), confidence: z.number().gt(0).lt(1) })
      .strict()
      .optional(),
    note: z.string(),
  })
  .strict();

const claim = z
  .object({
    id: z.string().regex(/^[a-z0-9.-]+$/),
    statement: z.string().min(1),
    /** what is compared, on which axis */
    metric: z.enum(['executedFlops', 'seconds', 'quality', 'legibility', 'flops-per-doubling']),
    /** the test that decides it */
    test: z.enum([
      'paired t on log ratio',
      'paired t on difference',
      'TOST on log ratio',
      'TOST on difference',
      'permutation null',
      'slope t on rung means',
    ]),
    /** 'greater': the architecture better (cheaper, or higher quality); 'less': worse; 'equivalent': TOST */
    direction: z.enum(['greater', 'less', 'two-sided', 'equivalent']),
    /** the Holm family this claim's p-values are corrected in */
    family: z.string().min(1),
    /** the architectures the claim is about, against the reference unless `against` names another */
    architectures: z.array(z.string().min(1)).min(1),
    against: z.string().min(1).optional(),
    /** 'confirmatory': read from the confirmatory seeds only; 'exploratory': from the exploratory records, labelled so */
    set: z.enum(['confirmatory', 'exploratory']),
    source: z.string().optional(),
  })
  .strict();

const taskPlan = z
  .object({
    /** seed pairs per comparison cell (every architecture runs comparison seeds) */
    seedsPerCell: z.number().int().min(2),
    /** pairs the power calculation asked for at the target MDE; null where > 1000 */
    seedsRequired: z.number().int().positive().nullable(),
    /** the exploratory spread the calculation used: SD of per-seed log multipliers against the reference */
    sdLogMultiplier: z.number().nonnegative(),
    /** the MDE (multiplier) at seedsPerCell, the figure every "inconclusive" on this task prints */
    mdeAtSeedsPerCell: z.number().gt(1),
    /** why seedsPerCell is below seedsRequired, where it is */
    shortfall: z.string().optional(),
    /** TOST margin on quality at budget, in the metric's units */
    qualityMargin: z.number().positive(),
    /**
     * The placebo's own equivalence margin (a multiplier), where it is wider than the claims':
     * the placebo compares different seeds, so its spread is its own; the margin is the one its
     * pairs resolve at the planned power. Absent: the claims' multiplier margin.
     */
    placeboMargin: z.number().gt(1).optional(),
    /** the spread the placebo's margin came from: SD of the log ratio between two fresh seeds of the reference */
    placeboSd: z.number().nonnegative().optional(),
  })
  .strict();

export const protocolSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.literal('middlepath protocol'),
    version: z.number().int().positive(),
    /** set on a version written but not yet frozen (results/protocols/vN.draft.json): it is never the protocol in force */
    draft: z.literal(true).optional(),
    frozenAt: z.string().date(),
    about: z.string(),
    tier: z.string().min(1),
    reference: z.object({ architecture: z.string().min(1), second: z.string().min(1), why: z.string() }).strict(),
    exploratory: z.object({ seeds: seedRange, note: z.string() }).strict(),
    seeds: z
      .object({
        /** the reference's seeds that set each task's target; they appear in no comparison and no placebo */
        targetSetting: seedRange,
        /** every architecture's seeds (the reference's are the placebo's first set) */
        comparison: z.object({ from: z.number().int().nonnegative() }).strict(),
        /** the placebo's second set: the reference again, on fresh seeds, as many as seedsPerCell */
        placebo: z.object({ from: z.number().int().nonnegative() }).strict(),
      })
      .strict(),
    targetRules: z.object({ primary: targetRule, sensitivity: z.array(targetRule).min(1), note: z.string() }).strict(),
    power: z
      .object({
        alpha: z.number().gt(0).lt(1),
        power: z.number().gt(0).lt(1),
        targetMde: z.number().gt(1),
        basis: z.string(),
      })
      .strict(),
    margins: z
      .object({
        /** TOST margin on a log multiplier: equivalence means within [1/m, m] */
        multiplier: z.number().gt(1),
        /** TOST margin on a per-doubling ratio of a trend */
        perDoubling: z.number().gt(1),
        basis: z.string(),
      })
      .strict(),
    seconds: z
      .object({
        /** a record's seconds count only where its load per core at start and end is at most this */
        maxLoadPerCore: z.number().positive(),
        note: z.string(),
      })
      .strict(),
    tasks: z.record(z.string(), taskPlan),
    families: z.array(z.object({ id: z.string().min(1), correction: z.literal('holm'), about: z.string() }).strict()).min(1),
    claims: z.array(claim).min(1),
    tuning: z
      .object({
        source: z.string(),
        /** SHA-256 of the tuning file's bytes when the protocol was frozen: a re-tune is a new version */
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
        note: z.string(),
      })
      .strict(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const families = new Set(p.families.map((f) => f.id));
    for (const [i, c] of p.claims.entries())
      if (!families.has(c.family))
        ctx.addIssue({ code: 'custom', path: ['claims', i, 'family'], message: `family ${c.family} is not in families` });
    const ids = p.claims.map((c) => c.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['claims'], message: `claim ${dup} appears twice` });
    const s = p.seeds;
    const lo = p.exploratory.seeds.from + p.exploratory.seeds.count;
    for (const [name, from] of [
      ['targetSetting', s.targetSetting.from],
      ['comparison', s.comparison.from],
      ['placebo', s.placebo.from],
    ] as const)
      if (from < lo)
        ctx.addIssue({
          code: 'custom',
          path: ['seeds', name],
          message: `confirmatory seeds must not reuse the exploratory ones (below ${lo})`,
        });
  });

export type Protocol = z.infer<typeof protocolSchema>;
export type Claim = Protocol['claims'][number];
export type TargetRule = Protocol['targetRules']['primary'];

/** What a record carries: the protocol in force when it ran. */
export interface ProtocolStamp {
  version: number;
  hash: string;
}

export const PROTOCOL_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', 'protocol.json');

/** Where a replaced version goes when the next is frozen, a copy of it beside its records (runs/): results/superseded/protocol-v<N>/. */
export function supersededDir(version: number, results = dirname(PROTOCOL_PATH)): string {
  return join(results, 'superseded', `protocol-v${version}`);
}

/** SHA-256 of the canonical JSON: whitespace and key order do not change it, any value does. */
export function protocolHash(p: Protocol): string {
  return sha256(canonicalJson(p));
}

export function stampOf(p: Protocol): ProtocolStamp {
  return { version: p.version, hash: protocolHash(p) };
}

let inForce: ProtocolStamp | undefined;

/** The stamp of results/protocol.json, read once per process; a broken file stops the run with what to fix. */
export function stampInForce(): ProtocolStamp {
  inForce ??= stampOf(loadProtocol());
  return inForce;
}

/** Parse a protocol file; the error says which field is wrong and how. */
export function parseProtocol(text: string, where = 'protocol'): Protocol {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not JSON: ${(e as Error).message}`);
  }
  const r = protocolSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(
      `${where} is not a valid protocol: ${first ? `${first.path.join('.') || '(top)'}: ${first.message}` : r.error.message}`,
    );
  }
  return r.data;
}

/** Read a protocol file; read as the protocol in force (results/protocol.json's role), a draft is refused. */
export function loadProtocol(path = PROTOCOL_PATH, { asInForce = path === PROTOCOL_PATH } = {}): Protocol {
  const p = parseProtocol(readFileSync(path, 'utf8'), path);
  if (p.draft && asInForce)
    throw new Error(`${path} is a draft (version ${p.version}): a draft is never in force; freeze it with \`middlepath protocol freeze\``);
  return p;
}

/** Seeds of a task under the protocol, by role. */
export function seedsOf(p: Protocol, task: string): { targetSetting: number[]; comparison: number[]; placebo: number[] } | null {
  const t = p.tasks[task];
  if (!t) return null;
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
  return {
    targetSetting: range(p.seeds.targetSetting.from, p.seeds.targetSetting.count),
    comparison: range(p.seeds.comparison.from, t.seedsPerCell),
    placebo: range(p.seeds.placebo.from, t.seedsPerCell),
  };
}

/** A target rule in a few words: how it sets the target, from which share of the budget, where a cost is read. */
export function ruleInWords(r: TargetRule): string {
  const held = r.holdFrom === 1 ? 'final quality' : `quality held from ${r.holdFrom * 100}% of the budget`;
  const how = r.tolerance
    ? `tolerance bound (${r.tolerance.coverage * 100}% of seeds, ${r.tolerance.confidence * 100}% confidence) of the ${held}`
    : `worst ${held}`;
  return `${how}, read ${r.crossing === 'first' ? 'at the first crossing' : 'for good'}`;
}
