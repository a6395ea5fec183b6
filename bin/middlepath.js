#!/usr/bin/env node
// The `middlepath` command: TypeScript sources run through tsx, no build step.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

// A Node process opens its inspector (code execution in this process) on SIGUSR1 unless it
// handles the signal: every harness process ignores it (research/trust.md).
process.on('SIGUSR1', () => {});

register('./resolve-hook.js', import.meta.url);
registerTsx();

const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv);
