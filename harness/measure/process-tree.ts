/**
 * What the kernel says about a child process and everything under it, read by the parent
 * from /proc: CPU time (user + system, with that of exited children), resident memory now,
 * and the kernel's own high-water mark (VmHWM). None of it passes through the child, so a
 * module cannot bend it (research/trust.md: "measured from outside").
 *
 * A sandboxed child is a small tree (setpriv → bwrap → bwrap's init → node); the tree is
 * walked again each second, so a process the module started is counted too.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;
const REFRESH_MS = 1000;

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** utime + stime + cutime + cstime from the text of /proc/<pid>/stat, in ticks. */
function ticksOf(stat: string): number {
  // fields after the command name, which is in parentheses and may hold spaces
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** VmRSS and VmHWM of one process (kB); null once it has gone. */
function memoryKB(pid: number): { rss: number; hwm: number } | null {
  const status = read(`/proc/${pid}/status`);
  if (!status) return null;
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return rss && hwm ? { rss: Number(rss[1]), hwm: Number(hwm[1]) } : null;
}

function descendants(root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    const pid = out[i] as number;
    const children = read(`/proc/${pid}/task/${pid}/children`);
    if (children) for (const c of children.trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

export class ProcessTree {
  private pids: number[];
  private walked = 0;
  /** CPU ticks of the root once it has gone (its last reading: its own and every reaped descendant's) */
  private gone = 0;
  private last = new Map<number, number>();
  private peak = 0;
  /**
   * /proc/<pid>/stat of each process, opened once and read again in place: the training loop
   * reads the CPU time around every step, and one pread costs a third of an open, a read and a
   * close. An open file names the process it was opened for, never a later one with its pid.
   */
  private statFds = new Map<number, number>();
  private readonly statBuffer = Buffer.alloc(4096);

  constructor(private readonly root: number) {
    this.pids = [root];
  }

  private refresh(): void {
    const now = Date.now();
    if (now - this.walked < REFRESH_MS) return;
    this.walked = now;
    this.pids = descendants(this.root);
  }

  /** utime + stime + cutime + cstime of one process, in ticks; null once it has gone. */
  private cpuTicks(pid: number): number | null {
    let fd = this.statFds.get(pid);
    if (fd === undefined) {
      try {
        fd = openSync(`/proc/${pid}/stat`, 'r');
      } catch {
        return null;
      }
      this.statFds.set(pid, fd);
    }
    let n = 0;
    try {
      n = readSync(fd, this.statBuffer, 0, this.statBuffer.length, 0);
    } catch {
      // ESRCH: the process has gone
    }
    if (n === 0) {
      closeSync(fd);
      this.statFds.delete(pid);
      return null;
    }
    return ticksOf(this.statBuffer.toString('latin1', 0, n));
  }

  /** Close the files it holds open; a later reading opens them again (or finds the processes gone). */
  close(): void {
    for (const fd of this.statFds.values()) closeSync(fd);
    this.statFds.clear();
  }

  /** CPU seconds the tree has used since it started (user + system). */
  cpuSeconds(): number | null {
    this.refresh();
    let live = 0;
    let any = false;
    for (const pid of this.pids) {
      const t = this.cpuTicks(pid);
      if (t === null) {
        const was = this.last.get(pid);
        // A process of the tree that has gone was reaped by its parent, whose cutime/cstime now
        // hold its time (the sandbox's own init reaps orphans): counted there, not again. Only the
        // root's time leaves the tree with it.
        if (was !== undefined && pid === this.root) this.gone += was;
        this.last.delete(pid);
        continue;
      }
      any = true;
      this.last.set(pid, t);
      live += t;
    }
    return any || this.gone > 0 ? (live + this.gone) / TICKS_PER_SECOND : null;
  }

  /** Resident memory of the tree now, in MB; each reading also keeps the kernel's high-water mark (peakKB). */
  rssMB(): number | null {
    this.refresh();
    let kb = 0;
    let any = false;
    for (const pid of this.pids) {
      const v = memoryKB(pid);
      if (v === null) continue;
      any = true;
      kb += v.rss;
      this.peak = Math.max(this.peak, v.hwm);
    }
    return any ? kb / 1024 : null;
  }

  /** The highest VmHWM the kernel reported for a process of the tree (kB), as of the last reading: it outlives the process. */
  peakKB(): number | null {
    this.rssMB();
    return this.peak > 0 ? this.peak : null;
  }
}
