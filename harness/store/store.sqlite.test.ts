// The store against a real SQLite file in a temp dir.
import { describe } from 'vitest';
import { sqliteBackend } from '../../test/support/store.ts';
import { defineStoreSuite } from '../../test/support/store-suite.ts';

describe('store on SQLite', () => {
  defineStoreSuite(sqliteBackend);
});
