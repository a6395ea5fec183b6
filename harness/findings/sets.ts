/**
 * Which protocol a record was run under decides which set it belongs to: stamped with the
 * protocol in force (results/protocol.json), the confirmatory set; unstamped (run before
 * any protocol existed), the exploratory set; stamped with any other hash, neither — the
 * findings refuse to read it, so that no figure mixes records run under different rules.
 */

import { type Protocol, protocolHash } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';

export interface RecordSets {
  /** stamped with the protocol in force */
  confirmatory: RunRecord[];
  /** no protocol stamp: seen while the rules were chosen */
  exploratory: RunRecord[];
  /** stamped with another protocol: refused */
  foreign: RunRecord[];
}

export function splitBySet(records: readonly RunRecord[], p: Protocol): RecordSets {
  const hash = protocolHash(p);
  const sets: RecordSets = { confirmatory: [], exploratory: [], foreign: [] };
  for (const r of records) {
    if (r.protocol === undefined) sets.exploratory.push(r);
    else if (r.protocol.hash === hash) sets.confirmatory.push(r);
    else sets.foreign.push(r);
  }
  return sets;
}

/** One line per refused record: what it is, what it was run under, and what to do. */
export function foreignMessage(r: RunRecord, p: Protocol, where?: string): string {
  const stamp = r.protocol ? `protocol v${r.protocol.version} ${r.protocol.hash.slice(0, 12)}` : 'no protocol';
  return (
    `refused ${where ?? r.id}: run under ${stamp}, but the protocol in force is v${p.version} ${protocolHash(p).slice(0, 12)} ` +
    '(results/protocol.json); findings never mix protocols: move the record out of the records folder, or re-run it under the protocol in force'
  );
}
