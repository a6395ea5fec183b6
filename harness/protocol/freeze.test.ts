/**
 * Freezing a draft on a copy of the repository's results folder: the draft becomes the protocol in
 * force with its date and tuning hash, the replaced version's records move out beside a copy of
 * it, and a draft whose tuning is incomplete, or that runs already carry, is refused.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolV1, V1_PATH, v2DraftJson } from '../../test/support/protocols.ts';
import { makeRun } from '../../test/support/store.ts';
import { baselineNames, resolveModule } from '../load-architecture.ts';
import { sealRecord, sha256, writeRecord } from '../results/files.ts';
import { loadProtocol, protocolHash, stampOf } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { freezeDraft, untuned } from './freeze.ts';

function stamp(r: RunRecord, s: { version: number; hash: string }): RunRecord {
  const { contentHash: _c, ...rest } = r;
  return sealRecord({ ...rest, protocol: s });
}

/** A results folder with the protocol in force, the draft, two records (one stamped), and a tuning file covering `tasks`. */
function fixture(tuned: (task: string, arch: string) => boolean) {
  const root = mkdtempSync(join(tmpdir(), 'mp-freeze-'));
  mkdirSync(join(root, 'results', 'protocols'), { recursive: true });
  mkdirSync(join(root, 'results', 'tuning'), { recursive: true });
  cpSync(V1_PATH, join(root, 'results', 'protocol.json'));
  const draftPath = join(root, 'results', 'protocols', 'v2.draft.json');
  writeFileSync(draftPath, v2DraftJson());
  const draft = loadProtocol(draftPath);
  const entries = Object.keys(draft.tasks).flatMap((task) =>
    baselineNames()
      .filter((arch) => tuned(task, arch))
      .map((arch) => ({
        task,
        arch,
        sourceHash: sha256(resolveModule(arch).source),
        baseLearningRate: 0.01,
        grid: [0.005, 0.01, 0.02],
        budgetFraction: 0.25,
        seed: 900,
        seeds: [900, 901, 902],
        validationMetric: 'test',
        higherIsBetter: false,
        trials: [],
        chosen: 0.01,
      })),
  );
  writeFileSync(join(root, 'results', 'tuning', 'cpu-v2.json'), JSON.stringify({ tier: 'cpu', method: 'test', entries }));
  const v1 = stampOf(protocolV1());
  const runs = join(root, 'results');
  const old = writeRecord(runs, stamp(makeRun({ arch: 'dense-block', family: 'dense', tier: 'cpu', seed: 1100, curve: [[1e6, 0.9]] }), v1));
  const exploratory = writeRecord(runs, makeRun({ arch: 'dense', family: 'dense', tier: 'cpu', seed: 0, curve: [[1e6, 0.9]] }));
  const opts = {
    draft: join(root, 'results', 'protocols', 'v2.draft.json'),
    inForce: join(root, 'results', 'protocol.json'),
    records: runs,
    root,
    today: '2026-12-08',
  };
  return { root, opts, old, exploratory, v1 };
}

describe('middlepath protocol freeze', () => {
  it('makes the draft the protocol in force, with its date and tuning hash, and moves the replaced version’s records out', () => {
    const f = fixture(() => true);
    const tuningBytes = readFileSync(join(f.root, 'results', 'tuning', 'cpu-v2.json'));
    const dry = freezeDraft({ ...f.opts, dryRun: true });
    expect(dry.moved).toEqual([f.old]);
    expect(existsSync(f.opts.draft)).toBe(true); // a dry run changes nothing
    const r = freezeDraft(f.opts);
    const now = loadProtocol(f.opts.inForce);
    expect(now.version).toBe(2);
    expect(now.draft).toBeUndefined();
    expect(now.frozenAt).toBe('2026-12-08');
    expect(now.tuning.sha256).toBe(sha256(tuningBytes));
    expect(protocolHash(now)).toBe(r.hash);
    expect(r.hash).toBe(dry.hash);
    expect(existsSync(f.opts.draft)).toBe(false);
    // v1's record sits beside a copy of v1, whose hash it carries; the unstamped one stays
    const superseded = join(f.root, 'results', 'superseded', 'protocol-v1');
    expect(readdirSync(join(superseded, 'runs'))).toHaveLength(1);
    expect(protocolHash(loadProtocol(join(superseded, 'protocol.json')))).toBe(f.v1.hash);
    expect(existsSync(f.old)).toBe(false);
    expect(existsSync(f.exploratory)).toBe(true);
  });

  it('refuses while the tuning lacks a (task, baseline) choice, naming them, and changes nothing', () => {
    const f = fixture((task, arch) => !(task === 'parity' && arch === 'hash'));
    expect(untuned(loadProtocol(f.opts.draft), f.root)).toEqual(['parity · hash']);
    expect(() => freezeDraft(f.opts)).toThrow(/no chosen rate for 1 task · baseline pair\(s\): parity · hash; finish the tune/);
    expect(existsSync(f.old)).toBe(true);
    expect(loadProtocol(f.opts.inForce).version).toBe(1);
  });

  it('refuses a file that is not a draft, or a version that does not follow the one in force', () => {
    const f = fixture(() => true);
    expect(() => freezeDraft({ ...f.opts, draft: f.opts.inForce })).toThrow(/is not a draft/);
    // a draft put in force by hand is refused as the protocol in force
    expect(() => freezeDraft({ ...f.opts, inForce: f.opts.draft, draft: f.opts.draft })).toThrow(/a draft is never in force/);
    const skip = JSON.parse(readFileSync(f.opts.draft, 'utf8'));
    writeFileSync(f.opts.draft, JSON.stringify({ ...skip, version: 3 }));
    expect(() => freezeDraft(f.opts)).toThrow(/is version 3, but the protocol in force is version 1/);
  });

  it('a draft is never the protocol in force', () => {
    const { opts } = fixture(() => true);
    expect(JSON.parse(readFileSync(opts.draft, 'utf8')).draft).toBe(true);
    expect(loadProtocol(opts.draft).version).toBe(2); // readable as a file, refused in results/protocol.json's role
    expect(() => loadProtocol(opts.draft, { asInForce: true })).toThrow(/is a draft \(version 2\): a draft is never in force; freeze it/);
  });
});
