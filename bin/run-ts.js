#!/usr/bin/env node
// Runs a TypeScript entry point of this package with no build step:
// `node bin/run-ts.js path/to/file.ts [args...]`.
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

// A Node process opens its inspector (code execution in this process) on SIGUSR1 unless it
// handles the signal: every harness process ignores it (research/trust.md).
process.on('SIGUSR1', () => {});

register('./resolve-hook.js', import.meta.url);
registerTsx();

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bin/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
