/**
 * Protocol fixtures for tests whose known answers were worked out under a given version: version 1
 * (superseded, kept with its records) and a version-2 draft as it stood before its freeze.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProtocol, PROTOCOL_PATH, type Protocol, supersededDir } from '../../harness/results/protocol.ts';

/** Version 1, as frozen, beside the records run under it. */
export const V1_PATH = join(supersededDir(1), 'protocol.json');

export const protocolV1 = (): Protocol => loadProtocol(V1_PATH, { asInForce: false });

/** The JSON of version 2 before `protocol freeze`: the file in force, marked a draft, without the tuning hash freeze adds. */
export function v2DraftJson(): string {
  const p = JSON.parse(readFileSync(PROTOCOL_PATH, 'utf8'));
  if (p.version !== 2) throw new Error(`the v2 draft fixture is built from version 2, but ${PROTOCOL_PATH} is version ${p.version}`);
  const { sha256: _hash, ...tuning } = p.tuning;
  return `${JSON.stringify({ ...p, draft: true, tuning }, null, 2)}\n`;
}
