/**
 * The store's commands, added to the main `middlepath` program:
 *   middlepath publish [DIR]  list DIR/runs/*.json in DIR/published.json (the published suite)
 *   middlepath ingest [DIR]   load DIR/runs/*.json (default results/) into the store
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';

export interface StoreCommandOptions {
  /** how a command reports its exit status; default process.exitCode */
  setExit?: (code: number) => void;
  /** where lines go; default console.log / console.error */
  log?: (line: string) => void;
  error?: (line: string) => void;
}

export function registerStoreCommands(program: Command, options: StoreCommandOptions = {}): void {
  const setExit =
    options.setExit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));

  program
    .command('publish')
    .description(
      'list every record file under DIR in DIR/published.json: the published suite (baselines, verified runs); commit it with the records',
    )
    .argument('[dir]', 'records directory', 'results')
    .action(async (dir: string) => {
      const { writePublishedManifest } = await import('../results/published.ts');
      const r = writePublishedManifest(dir);
      for (const s of r.skipped) error(`not listed: ${s}`);
      log(
        `${dir}/published.json lists ${r.listed} record file(s) run under the protocol in force and ${r.exploratory} exploratory one(s) from before it${r.skipped.length ? `; ${r.skipped.length} file(s) left out` : ''}`,
      );
      setExit(r.skipped.length ? 1 : 0);
    });

  program
    .command('ingest')
    .description('load run records (DIR/runs/*.json) into the store; idempotent, bad files reported and skipped')
    .argument('[dir]', 'records directory', 'results')
    .option('--sqlite <path>', 'SQLite store file (default .middlepath/store.sqlite; DATABASE_URL selects Postgres)')
    .option('--verbose', 'print every file, not only the errors', false)
    .action(async (dir: string, o: { sqlite?: string; verbose: boolean }) => {
      if (!existsSync(dir)) {
        error(`no such directory: ${dir}`);
        setExit(1);
        return;
      }
      const [{ openStore }, { ingestDir }] = await Promise.all([import('./index.ts'), import('./ingest.ts')]); // loaded only when used
      const store = await openStore(o.sqlite !== undefined ? { sqlitePath: o.sqlite } : {});
      try {
        const s = await ingestDir(store, dir);
        for (const f of s.files) {
          if (f.outcome === 'error') error(`${f.path}: ${f.reason}`);
          else if (o.verbose) log(`${f.outcome.padEnd(9)} ${f.path}`);
        }
        log(
          `${s.files.length} files: ${s.inserted} inserted, ${s.replaced} replaced, ${s.unchanged} unchanged, ${s.errors} skipped (${store.kind})`,
        );
        setExit(s.errors > 0 ? 1 : 0);
      } finally {
        await store.close();
      }
    });
}
