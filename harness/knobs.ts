/**
 * Run knobs: the axes a sweep varies (`--set experts=16 --set width=64`). Two kinds:
 * - architecture knobs (`experts`, `granularity`), handed to `build` in `ctx.knobs` and read
 *   only by architectures that declare them (`defineArchitecture({ knobs: [...] })`);
 * - size knobs (`width`, `totalHeadroom`, `activeHeadroom`), applied by the harness to the
 *   tier's SizeSpec, so every architecture (dense-block too) gets the same width and caps;
 * - `evalPoints`, the held-out evaluations along the budget (the harness's schedule).
 * Knobs enter the run key and the record; a run without knobs keeps the key it always had.
 * Free of tfjs: the record schema and the site read it.
 */
import { z } from 'zod';
import { ARCHITECTURE_KNOB_NAMES, type ArchitectureKnobs, type SizeSpec, type TaskSpec } from './architecture.ts';
import { UsageError } from './errors.ts';
import { ACTIVE_HEADROOM, capped, mlpReference, TOTAL_HEADROOM, transformerReference } from './tasks/sizes.ts';

const count = (max: number) => z.number().int().min(1).max(max);

export const runKnobs = z
  .object({
    /** routed experts E (1: the routed scaffold with one expert, the dense control) */
    experts: count(1024).optional(),
    /** granularity G: G× more experts, each G× narrower, top-k × G (Krajewski et al. 2024) */
    granularity: count(64).optional(),
    /** model width d at the tier's depth; the caps are recomputed from the dense reference at d */
    width: count(8192).optional(),
    /** total-parameter cap as a multiple of the dense reference at this width (standard tiers: 16) */
    totalHeadroom: z.number().min(1).max(4096).optional(),
    /** active-parameter cap as a multiple of the dense reference (standard tiers: 1.25) */
    activeHeadroom: z.number().min(1).max(64).optional(),
    /**
     * Held-out evaluations along the budget (the tier's: 20). Evaluation never touches
     * training, so a sweep whose laws read only the final loss may take fewer, and save the
     * evaluation time that dominates its many-expert cells.
     */
    evalPoints: count(100).optional(),
  })
  .strict();
export type RunKnobs = z.infer<typeof runKnobs>;
export type KnobName = keyof RunKnobs;

/** The knobs an architecture reads in build() (ctx.knobs); the rest are the harness's. */
export const KNOB_NAMES = Object.keys(runKnobs.shape) as KnobName[];

/** The knobs that are set, in a fixed order; undefined when none is (the standard suite). */
export function definedKnobs(knobs: RunKnobs | undefined): RunKnobs | undefined {
  if (!knobs) return undefined;
  const set = Object.fromEntries(KNOB_NAMES.filter((k) => knobs[k] !== undefined).map((k) => [k, knobs[k]]));
  return Object.keys(set).length > 0 ? (set as RunKnobs) : undefined;
}

/** Parse `--set name=value` pairs (repeatable); each error says what to give. */
export function parseKnobs(pairs: readonly string[]): RunKnobs | undefined {
  const raw: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(pair.trim());
    if (!m) throw new UsageError(`--set takes name=value (e.g. --set experts=16), got '${pair}'`);
    const [, name, value] = m as unknown as [string, string, string];
    if (!(KNOB_NAMES as string[]).includes(name)) {
      throw new UsageError(`--set ${name}: unknown knob; the knobs are ${KNOB_NAMES.join(', ')}`);
    }
    if (name in raw) throw new UsageError(`--set ${name} is given twice`);
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`--set ${name}=${value}: the value must be a number`);
    raw[name] = n;
  }
  return definedKnobs(checkKnobs(raw, '--set'));
}

/** Validate knobs from any source (a plan file, a job); throws a UsageError naming the field. */
export function checkKnobs(value: unknown, where: string): RunKnobs {
  const parsed = runKnobs.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(knobs)'}: ${i.message}`);
    throw new UsageError(`${where}: ${issues.join('; ')} (the knobs are ${KNOB_NAMES.join(', ')})`);
  }
  return parsed.data;
}

/** A short label, e.g. 'experts=16 width=64'; '' without knobs. */
export function knobsLabel(knobs: RunKnobs | undefined): string {
  const set = definedKnobs(knobs);
  return set
    ? Object.entries(set)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
    : '';
}

/** The architecture knobs alone, validated (what a confined child checks its init's knobs with). */
export const architectureKnobSchema = runKnobs.pick({ experts: true, granularity: true }).strict();

/** The architecture knobs alone (what build() sees in ctx.knobs). */
export function architectureKnobs(knobs: RunKnobs | undefined): ArchitectureKnobs {
  return Object.fromEntries(ARCHITECTURE_KNOB_NAMES.filter((k) => knobs?.[k] !== undefined).map((k) => [k, knobs?.[k]]));
}

/**
 * The tier's size with the size knobs applied: width d at the tier's depth and heads, caps
 * recomputed from the dense reference at d with the given (or the standard) headroom. A
 * standard tier is never loosened: the looser caps exist only in runs whose knobs say so.
 */
export function sizeWithKnobs(spec: TaskSpec, size: SizeSpec, knobs: RunKnobs | undefined): SizeSpec {
  if (!knobs || (knobs.width === undefined && knobs.totalHeadroom === undefined && knobs.activeHeadroom === undefined)) return size;
  const width = knobs.width ?? size.width;
  let reference: number;
  if (spec.input.kind === 'tokens') {
    if (size.heads > 0 && width % size.heads !== 0) {
      throw new UsageError(
        `--set width=${width}: the ${size.heads} attention heads must divide the width; pick a multiple of ${size.heads}`,
      );
    }
    reference = transformerReference(spec.input.vocab, spec.input.length, width, size.depth);
  } else if (spec.output.kind === 'classes') {
    reference = mlpReference(spec.input.dim, spec.output.count, width, size.depth);
  } else {
    throw new UsageError(`the size knobs (width, headroom) are not defined for '${spec.id}' (a ${spec.output.kind} task with fixed caps)`);
  }
  return capped(width, size.depth, size.heads, reference, {
    total: knobs.totalHeadroom ?? TOTAL_HEADROOM,
    active: knobs.activeHeadroom ?? ACTIVE_HEADROOM,
  });
}
