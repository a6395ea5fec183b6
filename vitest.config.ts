import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // the same mapping bin/resolve-hook.js gives modules run by the CLI
    alias: { middlepath: fileURLToPath(new URL('./harness/api.ts', import.meta.url)) },
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'site/.next/**'],
    // tfjs keeps one global engine per process: isolate test files in forks.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
  },
});
