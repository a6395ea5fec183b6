// The store against a real SQLite file in a temp dir.
import { describe } from 'vitest';
import { defineStoreSuite } from './store-suite.ts';
import { sqliteBackend } from './test-support.ts';

describe('store on SQLite', () => {
  defineStoreSuite(sqliteBackend);
});
