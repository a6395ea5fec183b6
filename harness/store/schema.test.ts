import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NEWEST_MIGRATION } from './schema/version.ts';

describe('schema version', () => {
  for (const dialect of ['sqlite', 'pg'] as const) {
    it(`NEWEST_MIGRATION.${dialect} is the last entry of drizzle-kit's journal`, () => {
      const journal = JSON.parse(readFileSync(new URL(`./migrations/${dialect}/meta/_journal.json`, import.meta.url), 'utf8')) as {
        entries: { tag: string; when: number }[];
      };
      const last = journal.entries.at(-1);
      expect({ tag: last?.tag, when: last?.when }).toEqual(NEWEST_MIGRATION[dialect]);
    });
  }
});
