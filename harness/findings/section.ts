/**
 * The findings section as a whole: the confirmatory findings read under the protocol in
 * force, then the exploratory tables, labelled as seen while the rules were chosen. Pure,
 * so `npm run findings` and the site's /findings page print the same text.
 */

import type { Protocol } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { readConfirmatory, renderConfirmatory } from './confirmatory.ts';
import { foreignMessage, splitBySet } from './sets.ts';

/** What the exploratory set is, said once above its tables. */
export const EXPLORATORY_LABEL =
  'The records below carry no protocol stamp: they were run before the protocol was frozen and seen while its rules (the target rule, the reference, the families) were chosen. They show directions, not verdicts; no confirmatory verdict reads them.';

/** The records split by set; throws, naming them, on records stamped with another protocol. */
export function setsOrRefuse(records: readonly RunRecord[], protocol: Protocol): { confirmatory: RunRecord[]; exploratory: RunRecord[] } {
  const sets = splitBySet(records, protocol);
  if (sets.foreign.length) throw new Error(sets.foreign.map((r) => foreignMessage(r, protocol)).join('\n'));
  return sets;
}

export function composeFindings(protocol: Protocol, confirmatory: readonly RunRecord[], exploratory: string): string {
  return [
    renderConfirmatory(protocol, readConfirmatory(protocol, confirmatory)),
    `## Exploratory findings (seen while choosing the rules)\n\n*${EXPLORATORY_LABEL}*`,
    exploratory,
  ].join('\n\n');
}
