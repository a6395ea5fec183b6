/**
 * What a run ran on (record.fingerprint) and the short label that groups like with like
 * (record.hardwareClass).
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import si from 'systeminformation';
import { blasInUse, describeBlas } from '../../kernels/index.ts';
import type { Fingerprint } from '../results/record.ts';

export interface FingerprintOptions {
  /** harness backend name, e.g. 'wasm+blas', 'wasm', 'cpu', 'tensorflow', 'webgpu' */
  backend: string;
  /** the backend's own version, e.g. '4.22.0' */
  backendVersion: string | null;
  /** 'cpu' or the accelerator that ran */
  device: string;
  /** the checkout whose commit is recorded; default: the one holding this file */
  gitDir?: string;
}

interface Hardware {
  cpu: string;
  cpuCores: number;
  gpus: Fingerprint['gpus'];
  memoryBytes: number;
  os: string;
}

// graphics() runs nvidia-smi synchronously (blocking the event loop), so hardware is read once
// per process and shared by every fingerprint.
let hardware: Promise<Hardware> | null = null;

async function readHardware(): Promise<Hardware> {
  const [cpu, mem, os, graphics] = await Promise.all([si.cpu(), si.mem(), si.osInfo(), si.graphics()]);
  return {
    cpu: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').trim() || 'unknown CPU',
    // systeminformation counts the host's logical CPUs; affinity (taskset, cpusets) can give the
    // process fewer, and those are what it can use.
    cpuCores: Math.max(0, Math.min(cpu.cores, availableParallelism())),
    gpus: graphics.controllers.map((c) => ({
      // `name` comes from nvidia-smi where present and is cleaner than lspci's model
      model: (c.name || c.model || 'unknown GPU').trim(),
      vendor: (c.vendor || '').trim(),
      memoryMB: c.memoryTotal ?? c.vram ?? null,
    })),
    memoryBytes: mem.total,
    os: `${os.distro} ${os.release} (${os.platform} ${os.kernel} ${os.arch})`.trim(),
  };
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : String(stdout));
    });
  });
}

/**
 * Dirty means a tracked file outside results/ differs from the commit: the code that ran is
 * not the commit's. Untracked files (new records, notes) and record files do not count.
 */
export const GIT_DIRTY_ARGS = ['status', '--porcelain', '--untracked-files=no', '--', ':(top)', ':(top,exclude)results'];

/** git commit and dirty flag of `dir`'s checkout; nulls when it is not one (or git is missing). */
export async function gitState(dir: string): Promise<{ gitCommit: string | null; gitDirty: boolean | null }> {
  const head = await run('git', ['rev-parse', 'HEAD'], dir, 3000);
  const commit = head?.trim() ?? '';
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return { gitCommit: null, gitDirty: null };
  const status = await run('git', GIT_DIRTY_ARGS, dir, 5000);
  return { gitCommit: commit, gitDirty: status === null ? null : status.trim().length > 0 };
}

export async function collectFingerprint(options: FingerprintOptions): Promise<Fingerprint> {
  hardware ??= readHardware();
  const gitDir = options.gitDir ?? dirname(fileURLToPath(import.meta.url));
  const [hw, git, tf] = await Promise.all([hardware, gitState(gitDir), import('@tensorflow/tfjs')]);
  // wasm+blas is recorded by the BLAS its kernels are registered on: 'wasm+openblas 0.3.21, kernel SkylakeX, 2 threads'
  const blas = options.backend === 'wasm+blas' || options.backend === 'wasm+libxsmm' ? blasInUse() : null;
  return {
    cpu: hw.cpu,
    cpuCores: hw.cpuCores,
    gpus: hw.gpus.map((g) => ({ ...g })),
    memoryBytes: hw.memoryBytes,
    os: hw.os,
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: blas ? `wasm+${describeBlas(blas)}` : options.backend,
    backendVersion: options.backendVersion,
    device: options.device,
    ...(blas ? { blas: { library: blas.library, version: blas.version, kernel: blas.kernel, threads: blas.threads } } : {}),
    gitCommit: git.gitCommit,
    gitDirty: git.gitDirty,
  };
}

/** Drops marks, memory sizes and vendor boilerplate, so the label names the part only. */
function cleanModel(s: string): string {
  return s
    .replace(/®|™|\(R\)|\(TM\)/gi, '')
    .replace(/\b\d+(\.\d+)?\s*[GMT]i?B\b/gi, '')
    .replace(/\b(Corporation|Corp\.|Inc\.)(?=\s|$)/gi, '')
    .replace(/\[\s*\]|\(\s*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Display and BMC adapters that are never what ran a model. */
const NOT_ACCELERATORS = /aspeed|matrox|cirrus|bochs|virtio|vmware svga|red hat|qxl|hyper-v|llvmpipe|microsoft basic/i;

/**
 * '<device> ×<count> · <backend>': 'NVIDIA H200 ×1 · tensorflow' on a GPU backend,
 * 'AMD EPYC 9B14 ×2 cores · wasm' on a CPU backend, 'AMD EPYC 9B14 ×2 cores · wasm+openblas
 * SkylakeX ×2 threads' with a system BLAS (its kernel and threads change the speed 2–5×, its
 * version does not enter). No versions, no memory sizes, so it stays the same across driver
 * updates and runs. The GPU count is how many of that model the machine has, not how many the
 * backend used.
 */
export function hardwareClass(fp: Fingerprint): string {
  const b = fp.blas;
  const backend = b
    ? `wasm+${b.library}${b.kernel ? ` ${b.kernel}` : ''} ${b.threads === null ? 'system threads' : `×${b.threads} thread${b.threads === 1 ? '' : 's'}`}`
    : fp.backend.trim();
  if (fp.device.trim().toLowerCase() === 'cpu') return `${cleanModel(fp.cpu)} ×${fp.cpuCores} cores · ${backend}`;

  const device = fp.device.trim().toLowerCase();
  const gpus = fp.gpus.filter((g) => !NOT_ACCELERATORS.test(`${g.vendor} ${g.model}`));
  // The GPU named by `device` if it names one; otherwise the machine's accelerators.
  const named = gpus.filter((g) => {
    const m = g.model.toLowerCase();
    return device.length > 3 && (m.includes(device) || device.includes(m));
  });
  const pool = named.length ? named : gpus;
  if (pool.length === 0) return `${cleanModel(fp.device)} · ${backend}`;
  const counts = new Map<string, number>();
  for (const g of pool) {
    const m = cleanModel(g.model);
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  // Most common model; ties broken by name so the label never depends on enumeration order.
  const [model, count] = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] as [string, number];
  return `${model} ×${count} · ${backend}`;
}
