/**
 * Two builds of one site:
 * - live (default): `next start` reads the store per request;
 * - export (MIDDLEPATH_EXPORT=1): static files from the store at build time.
 * The two differ in segment config (force-dynamic vs generateStaticParams), which Next reads
 * statically, so it cannot depend on an environment variable:
 * live builds pick *.live.ts(x), export builds *.export.ts(x) (pageExtensions), and the
 * export build keeps its own build folder so it never clobbers the live one.
 */
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const exporting = process.env.MIDDLEPATH_EXPORT === '1';

const config: NextConfig = {
  ...(exporting ? { output: 'export' as const, distDir: process.env.MIDDLEPATH_EXPORT_DIST ?? 'out' } : {}),
  pageExtensions: exporting ? ['export.tsx', 'export.ts', 'tsx', 'ts'] : ['live.tsx', 'live.ts', 'tsx', 'ts'],
  env: { MIDDLEPATH_EXPORT: exporting ? '1' : '0' },
  poweredByHeader: false,
  // the repository's `tsc --noEmit -p .` type-checks site/; the build need not do it again
  typescript: { ignoreBuildErrors: true },
  serverExternalPackages: ['better-sqlite3', 'pg', 'drizzle-orm'],
  images: { unoptimized: true },
  turbopack: {
    rules: {
      '*.ts': {
        condition: { all: [{ not: 'foreign' }, { path: /^harness\// }, { content: /new URL\(/ }] },
        loaders: [fileURLToPath(new URL('./build/url-asset-loader.cjs', import.meta.url))],
      },
    },
  },
};

export default config;
