#!/usr/bin/env node
// The `middlepath` command: TypeScript sources run through tsx, no build step.
import { readFileSync } from 'node:fs';

// A Node process opens its inspector (code execution in this process) on SIGUSR1 unless it
// handles the signal: every harness process ignores it (research/trust.md).
process.on('SIGUSR1', () => {});

// `--version` answers before tsx and the harness load (those take seconds on a busy machine).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  console.log(pkg.version);
} else {
  const { register } = await import('node:module');
  const { register: registerTsx } = await import('tsx/esm/api');
  register('./resolve-hook.js', import.meta.url);
  registerTsx();
  const { main } = await import('../harness/cli.ts');
  process.exitCode = await main(process.argv);
}
