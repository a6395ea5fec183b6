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
import type { RunRecord } from '../results/record.ts';
import { openStore } from '../store/index.ts';
import type { LeaderboardRow } from '../store/types.ts';
import { END_MARKER, replaceSection, START_MARKER } from './readme.ts';
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

/** The section's markdown for these records, via a throwaway SQLite store. */
export async function buildFindings(
  records: readonly RunRecord[],
  extra: Pick<FindingsInput, 'invalidFiles' | 'recordHrefs' | 'constants'> = {},
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
  const section = await buildFindings(records, { invalidFiles: invalid, recordHrefs });

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
  if (opts.check) {
    if (next === readme) {
      io.err(`${opts.readme}: findings section is up to date`);
      return 0;
    }
    io.err(`${opts.readme}: findings section differs from what the records give; run \`${REGENERATE_COMMAND}\``);
    return 1;
  }
  if (next !== readme) writeFileSync(opts.readme, next);
  io.out(section);
  io.err(`${opts.readme}: findings section ${next === readme ? 'already up to date' : 'rewritten'} from ${records.length} records`);
  return 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      readme: { type: 'string' },
      check: { type: 'boolean' },
    },
  });
  process.exitCode = await runFindings(values);
}

// Run as a script (directly, through tsx, or through bin/run-ts.js), not when imported.
const self = fileURLToPath(import.meta.url);
if (process.argv.slice(1, 3).some((a) => resolve(a) === self)) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
