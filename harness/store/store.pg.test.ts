// The store against a real PostgreSQL server (TEST_DATABASE_URL), in a schema of its own.
import { describe } from 'vitest';
import { postgresBackend, TEST_DATABASE_URL } from '../../test/support/store.ts';
import { defineStoreSuite } from '../../test/support/store-suite.ts';

if (!TEST_DATABASE_URL) {
  console.warn('TEST_DATABASE_URL is not set: SKIPPING the Postgres store tests (CI sets it; they run there)');
}

describe.skipIf(!TEST_DATABASE_URL)('store on PostgreSQL', () => {
  defineStoreSuite(() => postgresBackend(TEST_DATABASE_URL as string));
});
