/**
 * The words a verdict can end in. Which one a clause gets is decided by its test
 * (literature.ts); these only fix the wording, so the same outcome always reads the same.
 */

export type VerdictKind = 'as predicted' | 'not as predicted' | 'inconclusive' | 'not run' | 'not testable';

export interface Verdict {
  kind: VerdictKind;
  /** the words shown after the figures, e.g. "inconclusive (p = 0.2, Holm 1)" */
  text: string;
}

const worded = (kind: VerdictKind, why?: string): Verdict => ({ kind, text: why ? `${kind} (${why})` : kind });

export const asPredicted = (why?: string): Verdict => worded('as predicted', why);
export const notAsPredicted = (why?: string): Verdict => worded('not as predicted', why);
/** The test could not tell: not evidence that there is no difference. */
export const inconclusive = (why: string): Verdict => worded('inconclusive', why);
/** No completed run of the architecture on the task: nothing to compare. */
export const notRun: Verdict = { kind: 'not run', text: 'not run' };
export const notTestable = (why: string): Verdict => ({ kind: 'not testable', text: `not testable: ${why}` });
