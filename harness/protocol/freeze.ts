/**
 * Freezing a drafted protocol version: it becomes results/protocol.json, with the date and its
 * tuning file's SHA-256 filled in, and the records of the version it replaces move out of the
 * records folder (the findings never read two protocols' records together) to
 * results/superseded/protocol-v<N>/, beside a copy of that version, so they stay checkable.
 * It refuses, saying what to do, while the draft's tuning does not cover every baseline on every
 * task, or when records already carry the draft's hash (a protocol is frozen before its runs).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { baselineNames, resolveModule } from '../load-architecture.ts';
import { readRecordDir, sha256, writeFileAtomic } from '../results/files.ts';
import { loadProtocol, type Protocol, protocolHash, supersededDir as supersededDirOf } from '../results/protocol.ts';
import { tierName } from '../results/record.ts';
import { findTuningEntry, readTuningFile } from '../results/tuning.ts';

export interface FreezeOptions {
  draft: string;
  /** the protocol in force, replaced */
  inForce: string;
  /** the records folder (DIR/runs/*.json) */
  records: string;
  /** the repository root the draft's tuning source is relative to */
  root: string;
  /** YYYY-MM-DD */
  today: string;
  dryRun?: boolean;
}

export interface FreezeResult {
  frozen: Protocol;
  hash: string;
  /** records of the replaced version, moved (or to move, in a dry run) */
  moved: string[];
  supersededDir: string;
}

/** The (task, baseline) pairs the draft's tuning file has no choice for, on today's baseline sources. */
export function untuned(draft: Protocol, root: string, baselines = baselineNames()): string[] {
  const path = resolve(root, draft.tuning.source);
  if (!existsSync(path)) return [`${draft.tuning.source} does not exist`];
  const file = readTuningFile(path, tierName.parse(draft.tier));
  const missing: string[] = [];
  const sources = new Map(baselines.map((arch) => [arch, sha256(resolveModule(arch).source)]));
  for (const task of Object.keys(draft.tasks))
    for (const arch of baselines) {
      const e = findTuningEntry(file.entries, task, arch, { sourceHash: sources.get(arch) });
      // an architecture that refuses the task (expert-choice on charlm) has no rate to choose, and needs none
      const refused = e !== undefined && e.trials.length > 0 && e.trials.every((t) => t.status === 'refused');
      if (!e || (e.chosen === null && !refused)) missing.push(`${task} · ${arch}`);
    }
  return missing;
}

export function freezeDraft(o: FreezeOptions): FreezeResult {
  const draft = loadProtocol(o.draft);
  const current = loadProtocol(o.inForce, { asInForce: true });
  if (!draft.draft) throw new UsageError(`${o.draft} is not a draft (no "draft": true); nothing to freeze`);
  if (draft.version !== current.version + 1)
    throw new UsageError(
      `${o.draft} is version ${draft.version}, but the protocol in force is version ${current.version}: the next is ${current.version + 1}`,
    );
  const missing = untuned(draft, o.root);
  if (missing.length)
    throw new UsageError(
      `the draft's tuning (${draft.tuning.source}) has no chosen rate for ${missing.length} task · baseline pair(s): ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}; finish the tune it names, then freeze`,
    );
  const { draft: _draft, ...rest } = draft;
  const frozen: Protocol = {
    ...rest,
    frozenAt: o.today,
    tuning: { ...draft.tuning, sha256: sha256(readFileSync(resolve(o.root, draft.tuning.source))) },
  };
  const hash = protocolHash(frozen);
  const currentHash = protocolHash(current);
  const files = readRecordDir(o.records);
  const early = files.filter((f) => 'record' in f && f.record.protocol?.hash === hash);
  if (early.length)
    throw new UsageError(
      `${early.length} record(s) already carry the frozen draft's hash (${early[0]?.path}): a protocol is frozen before its runs`,
    );
  const old = files.flatMap((f) => ('record' in f && f.record.protocol?.hash === currentHash ? [f.path] : []));
  const supersededDir = supersededDirOf(current.version, resolve(o.root, 'results'));
  if (!o.dryRun) {
    mkdirSync(join(supersededDir, 'runs'), { recursive: true });
    copyFileSync(o.inForce, join(supersededDir, 'protocol.json'));
    for (const path of old) renameSync(path, join(supersededDir, 'runs', basename(path)));
    writeFileAtomic(o.inForce, `${JSON.stringify(frozen, null, 2)}\n`);
    rmSync(o.draft);
  }
  return { frozen, hash, moved: old, supersededDir };
}

/** The draft next to the protocol in force: results/protocols/v<N+1>.draft.json. */
export function defaultDraft(inForce: string): string {
  const current = loadProtocol(inForce);
  return join(dirname(inForce), 'protocols', `v${current.version + 1}.draft.json`);
}
