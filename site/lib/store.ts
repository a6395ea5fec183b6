/**
 * The site's only door to the store: opened read-only, once per server process.
 * DATABASE_URL → Postgres; else SQLite at MIDDLEPATH_SQLITE, else .middlepath/store.sqlite
 * under the repository root.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openStore } from '../../harness/store/index.ts';
import type { Store } from '../../harness/store/types.ts';

export type StoreState =
  | { ok: true; store: Store; where: string }
  | {
      ok: false;
      where: string;
      reason: string /** missing: nothing ran yet; error: a store is there but cannot be read */;
      kind: 'missing' | 'error';
    };

/** The repository root: the nearest folder above the working directory with package.json and harness/. */
export function repoRoot(start: string = process.cwd()): string {
  let dir = resolve(/* turbopackIgnore: true */ start);
  for (;;) {
    if (existsSync(/* turbopackIgnore: true */ join(dir, 'package.json')) && existsSync(/* turbopackIgnore: true */ join(dir, 'harness')))
      return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(/* turbopackIgnore: true */ start);
    dir = up;
  }
}

export function storeLocation(): { url?: string; sqlitePath?: string; where: string } {
  const url = process.env.DATABASE_URL;
  if (url) return { url, where: 'Postgres (DATABASE_URL)' };
  // the store lives outside the build: nothing here is for the bundler to trace
  const sqlitePath = resolve(
    /* turbopackIgnore: true */ process.env.MIDDLEPATH_SQLITE ??
      join(/* turbopackIgnore: true */ repoRoot(), '.middlepath', 'store.sqlite'),
  );
  return { sqlitePath, where: sqlitePath };
}

// Kept on globalThis: Next may evaluate this module once per route bundle, and each
// would otherwise open its own connection.
const KEY = Symbol.for('middlepath.site.store');
type Holder = { [KEY]?: Promise<StoreState> };

async function open(): Promise<StoreState> {
  const loc = storeLocation();
  if (loc.sqlitePath && !existsSync(/* turbopackIgnore: true */ loc.sqlitePath)) {
    return { ok: false, where: loc.where, reason: 'the store file does not exist yet', kind: 'missing' };
  }
  try {
    const store = await openStore({
      ...(loc.url ? { url: loc.url } : {}),
      ...(loc.sqlitePath ? { sqlitePath: loc.sqlitePath } : {}),
      readonly: true,
    });
    return { ok: true, store, where: loc.where };
  } catch (e) {
    return { ok: false, where: loc.where, reason: (e as Error).message, kind: 'error' };
  }
}

export function getStore(): Promise<StoreState> {
  const holder = globalThis as Holder;
  let p = holder[KEY];
  if (!p) {
    p = open();
    holder[KEY] = p;
    // a failed open is retried on the next request (the suite may create the file meanwhile)
    void p.then((s) => {
      if (!s.ok && holder[KEY] === p) delete holder[KEY];
    });
  }
  return p;
}
