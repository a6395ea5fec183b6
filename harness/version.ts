import { createRequire } from 'node:module';

/** The harness version, from package.json: part of every run's key. */
export const HARNESS_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
