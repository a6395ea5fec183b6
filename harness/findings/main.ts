/**
 * Regenerate the "What we found" section of docs/findings.md (moved there from the README; the
 * site renders it at /docs/findings) from the committed run records.
 *
 *   npm run findings                      # rewrite the section between the markers, print it
 *   npm run findings -- --check           # exit 1 when the section is stale
 *   node bin/run-ts.js harness/findings/main.ts --records results/runs --readme docs/findings.md
 *
 * --readme names any markdown file holding the markers (the option kept its old name).
 *
 * The records are read once and that snapshot is both ingested and summarised, so a suite
 * writing new records meanwhile cannot make the tables and the header disagree. The store
 * is a fresh SQLite file in the OS temp dir, removed afterwards: the user's own store
 * (.middlepath/) is neither read nor touched.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readRecordDir } from '../results/files.ts';
import { loadProtocol, PROTOCOL_PATH, type Protocol } from '../results/protocol.ts';
import type { RunRecord } from '../results/record.ts';
import { openStore } from '../store/index.ts';
import type { LeaderboardRow } from '../store/types.ts';
import { confirmatoryAnswer, readConfirmatory } from './confirmatory.ts';
import { protocolProse } from './protocol-prose.ts';
import { ANSWER_END, ANSWER_START, END_MARKER, replaceSection, START_MARKER } from './readme.ts';
import { trendRulesOf } from './scaling.ts';
import { composeFindings, setsOrRefuse } from './section.ts';
import { foreignMessage, splitBySet } from './sets.ts';
import {
  FINDINGS_TIER,
  type FindingsInput,
  hardwareClassByTask,
  REGENERATE_COMMAND,
  sliceCounts,
  sliceOf,
  summarizeFindings,
} from './summarize.ts';

export const findingsOptions = z.object({
  records: z.string().min(1).default('results/runs'),
  readme: z.string().min(1).default('docs/findings.md'),
  check: z.boolean().default(false),
  /** the protocol the records are read under */
  protocol: z.string().min(1).default(PROTOCOL_PATH),
  /** a markdown file whose answer markers get the confirmatory answer (the README); none when absent */
  answer: z.string().min(1).optional(),
  /** where the protocol's prose is written (docs/protocol.md); none when absent */
  protocolDoc: z.string().min(1).optional(),
});
export type FindingsOptions = z.infer<typeof findingsOptions>;

export interface FindingsIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: FindingsIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** The exploratory tables for the unstamped records, via a throwaway SQLite store. */
async function buildExploratory(
  records: readonly RunRecord[],
  extra: Pick<FindingsInput, 'invalidFiles' | 'recordHrefs' | 'constants' | 'maxLoadPerCore' | 'trendRules'>,
): Promise<string> {
  const hardwareClasses = hardwareClassByTask(sliceCounts(records));
  const slice = sliceOf(records, hardwareClasses);
  if (slice.length === 0) return summarizeFindings({ records, hardwareClasses, leaderboards: {}, ...extra });
  const dir = mkdtempSync(join(tmpdir(), 'middlepath-findings-'));
  try {
    const store = await openStore({ sqlitePath: join(dir, 'store.sqlite') });
    try {
      for (const r of slice) await store.ingest(r);
      const leaderboards: Record<string, LeaderboardRow[]> = {};
      for (const [task, hardwareClass] of Object.entries(hardwareClasses))
        leaderboards[task] = await store.leaderboard({ task, tier: FINDINGS_TIER, hardwareClass });
      return summarizeFindings({ records, hardwareClasses, leaderboards, ...extra });
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The whole section for these records under protocol `p`: the confirmatory findings, then
 * the exploratory ones. Throws, naming them, on records stamped with another protocol.
 */
export async function buildFindings(
  records: readonly RunRecord[],
  extra: Pick<FindingsInput, 'invalidFiles' | 'recordHrefs' | 'constants'> & { protocol?: Protocol } = {},
): Promise<string> {
  const { protocol = loadProtocol(), ...rest } = extra;
  const sets = setsOrRefuse(records, protocol);
  return composeFindings(
    protocol,
    sets.confirmatory,
    await buildExploratory(sets.exploratory, {
      ...rest,
      maxLoadPerCore: protocol.seconds.maxLoadPerCore,
      trendRules: trendRulesOf(protocol),
    }),
  );
}

/** Read, build, then write or check the README. Returns the exit code. */
export async function runFindings(options: Partial<FindingsOptions>, io: FindingsIo = consoleIo): Promise<number> {
  const opts = findingsOptions.parse(options);
  const parsed = readRecordDir(opts.records);
  const records: RunRecord[] = [];
  const recordHrefs: Record<string, string> = {};
  // links in the README are relative to its own folder, with '/' whatever the OS
  const readmeDir = dirname(resolve(opts.readme));
  let invalid = 0;
  for (const p of parsed) {
    if ('error' in p) {
      invalid++;
      io.err(`skipped ${p.path}: ${p.error}`);
    } else {
      records.push(p.record);
      recordHrefs[p.record.id] = relative(readmeDir, resolve(p.path)).split(sep).join('/');
    }
  }
  const protocol = loadProtocol(opts.protocol);
  const foreign = splitBySet(records, protocol).foreign;
  if (foreign.length) {
    const byId = new Map(parsed.flatMap((p) => ('record' in p ? [[p.record.id, p.path] as const] : [])));
    for (const r of foreign) io.err(foreignMessage(r, protocol, byId.get(r.id)));
    io.err(`${foreign.length} record(s) run under another protocol: nothing written`);
    return 1;
  }
  const section = await buildFindings(records, { invalidFiles: invalid, recordHrefs, protocol });

  const readme = existsSync(opts.readme) ? readFileSync(opts.readme, 'utf8') : null;
  const next = readme === null ? null : replaceSection(readme, section);
  if (readme === null || next === null) {
    io.out(section);
    io.err(
      readme === null
        ? `${opts.readme} does not exist; the section is printed above`
        : `${opts.readme} has no findings markers: add a line ${START_MARKER} and, below it, a line ${END_MARKER} where the section belongs, then run \`${REGENERATE_COMMAND}\` again (the section is printed above)`,
    );
    return 2;
  }
  // the files the findings own: the section, the README's answer, the protocol's prose
  const files: { path: string; now: string; next: string }[] = [{ path: opts.readme, now: readme, next }];
  if (opts.answer) {
    const now = existsSync(opts.answer) ? readFileSync(opts.answer, 'utf8') : '';
    const answer = `${confirmatoryAnswer(protocol, readConfirmatory(protocol, splitBySet(records, protocol).confirmatory))} The figures, with their intervals, the exploratory tables and the caveats: [docs/findings.md](docs/findings.md); the rules they are read by: [docs/protocol.md](docs/protocol.md).`;
    const replaced = replaceSection(now, answer, ANSWER_START, ANSWER_END);
    if (replaced === null) {
      io.err(`${opts.answer} has no answer markers: add a line ${ANSWER_START} and, below it, a line ${ANSWER_END}`);
      return 2;
    }
    files.push({ path: opts.answer, now, next: replaced });
  }
  if (opts.protocolDoc) {
    const now = existsSync(opts.protocolDoc) ? readFileSync(opts.protocolDoc, 'utf8') : '';
    files.push({ path: opts.protocolDoc, now, next: `${protocolProse(protocol)}\n` });
  }
  const stale = files.filter((f) => f.next !== f.now);
  if (opts.check) {
    if (stale.length === 0) {
      io.err(`${files.map((f) => f.path).join(', ')}: up to date`);
      return 0;
    }
    io.err(`${stale.map((f) => f.path).join(', ')}: differs from what the records and the protocol give; run \`${REGENERATE_COMMAND}\``);
    return 1;
  }
  for (const f of stale) writeFileSync(f.path, f.next);
  io.out(section);
  io.err(`${stale.length ? `rewrote ${stale.map((f) => f.path).join(', ')}` : 'already up to date'} from ${records.length} records`);
  return 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      readme: { type: 'string' },
      check: { type: 'boolean' },
      protocol: { type: 'string' },
      answer: { type: 'string' },
      'protocol-doc': { type: 'string' },
    },
  });
  const { 'protocol-doc': protocolDoc, ...rest } = values;
  process.exitCode = await runFindings({ answer: 'README.md', protocolDoc: protocolDoc ?? 'docs/protocol.md', ...rest });
}

// Run as a script (directly, through tsx, or through bin/run-ts.js), not when imported.
const self = fileURLToPath(import.meta.url);
if (process.argv.slice(1, 3).some((a) => resolve(a) === self)) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
