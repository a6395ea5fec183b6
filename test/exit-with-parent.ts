/**
 * Setup for every test file: a vitest fork whose parent has gone (vitest killed, or exited on
 * Ctrl-C without stopping its workers) ends too. Vitest's forks leave only when they next try
 * to send to the closed channel, and a test training for minutes sends nothing: such a fork was
 * found still training, adopted by init, after Ctrl-C.
 */
const FLAG = Symbol.for('middlepath.test.exit-with-parent');
const g = globalThis as { [FLAG]?: true };
if (process.send && !g[FLAG]) {
  g[FLAG] = true;
  process.on('disconnect', () => process.exit(1));
}
