import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Projects: `unit` and then `unit-export` are `npm test` (everything but the long training runs); `quality` is
 * `npm run test:quality` (dense trained at the cpu tier on every task to its quality bar, tens
 * of minutes on 2 cores). CI (.ci/run) runs both. `npx vitest run FILE` finds a file in either.
 */
const QUALITY = ['test/quality.test.ts'];
/**
 * The static export's `next build` rewrites site/.next even with its own distDir (Next 16),
 * under the live servers the browser tests start from there: it runs after them, alone.
 */
const AFTER_SERVERS = ['site/export.test.ts'];
const EXCLUDE = ['node_modules/**', 'site/.next/**'];

export default defineConfig({
  resolve: {
    // the same mapping bin/resolve-hook.js gives modules run by the CLI
    alias: { middlepath: fileURLToPath(new URL('./harness/api.ts', import.meta.url)) },
  },
  // the site's tsconfig preserves JSX for Next; a test that renders a page's component (site/submissions.test.ts) needs it compiled
  oxc: { jsx: { runtime: 'automatic' } },
  test: {
    // tfjs keeps one global engine per process: isolate test files in forks.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    setupFiles: ['test/exit-with-parent.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...EXCLUDE, ...QUALITY, ...AFTER_SERVERS] } },
      { extends: true, test: { name: 'unit-export', include: AFTER_SERVERS, exclude: EXCLUDE, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'quality', include: QUALITY, exclude: EXCLUDE } },
    ],
  },
});
