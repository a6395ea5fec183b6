import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcessTree } from './process-tree.ts';

const openFiles = () => readdirSync('/proc/self/fd').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.platform === 'linux')('ProcessTree', () => {
  it("reads a child's CPU time from /proc while it runs, keeps it once the child has gone, and closes what it opened", async () => {
    const files = openFiles();
    // a grandchild that burns 0.5 s of CPU (however long that takes on a busy machine) and says how much, under a shell that burns none
    const burn =
      'const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }; while (cpu() < 0.5); console.log(cpu())';
    const child = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e "${burn}"; sleep 0.3`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let said = '';
    child.stdout.on('data', (d: Buffer) => {
      said += d.toString();
    });
    const tree = new ProcessTree(child.pid as number);
    await sleep(200);
    const early = tree.cpuSeconds() ?? 0;
    let last = early;
    while (child.exitCode === null) {
      last = tree.cpuSeconds() ?? last;
      await sleep(20);
    }
    expect(last).toBeGreaterThan(early);
    expect(last).toBeGreaterThan(0.3);
    // the grandchild's time, counted once: in the shell's reading (which reaped it), not again as a gone process
    const final = tree.cpuSeconds() ?? 0;
    expect(final).toBeGreaterThanOrEqual(last);
    expect(final).toBeLessThan(last + 0.15);
    // ...and as much as the grandchild used (its own count misses Node's start and exit, and /proc counts in 10 ms ticks)
    const own = Number(said.trim());
    expect(own).toBeGreaterThan(0.2);
    expect(final).toBeGreaterThan(own - 0.05);
    expect(final).toBeLessThan(own * 1.25 + 0.1);
    tree.close();
    expect(openFiles()).toBe(files);
  });
});
