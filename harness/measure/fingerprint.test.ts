import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Fingerprint, fingerprint } from '../results/record.ts';
import { collectFingerprint, GIT_DIRTY_ARGS, gitState, hardwareClass } from './fingerprint.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

describe('collectFingerprint', () => {
  it('describes this machine and this checkout', async () => {
    const fp = await collectFingerprint({ backend: 'wasm', backendVersion: '4.22.0', device: 'cpu' });
    expect(fingerprint.parse(fp)).toEqual(fp);
    expect(fp.cpu.trim().length).toBeGreaterThan(0);
    expect(fp.cpuCores).toBeGreaterThan(0);
    expect(fp.memoryBytes).toBeGreaterThan(0);
    expect(fp.node).toBe(process.version);
    expect(fp.tfjs).toBe('4.22.0');
    expect([fp.backend, fp.backendVersion, fp.device]).toEqual(['wasm', '4.22.0', 'cpu']);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    expect(fp.gitCommit).toBe(head);
    const dirty = execFileSync('git', GIT_DIRTY_ARGS, { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    expect(fp.gitDirty).toBe(dirty);
  });

  it('counts changes to tracked source files as dirty, not untracked files or records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir });
    try {
      git('init', '-q');
      mkdirSync(join(dir, 'results', 'runs'), { recursive: true });
      mkdirSync(join(dir, 'harness'));
      writeFileSync(join(dir, 'harness', 'train.ts'), 'export {};\n');
      writeFileSync(join(dir, 'results', 'runs', 'old.json'), '{}\n');
      git('add', '.');
      git('commit', '-qm', 'start');
      writeFileSync(join(dir, 'results', 'runs', 'new.json'), '{}\n'); // a new record
      writeFileSync(join(dir, 'results', 'runs', 'old.json'), '{"x":1}\n'); // a record rewritten
      writeFileSync(join(dir, 'notes.txt'), 'untracked\n');
      expect((await gitState(join(dir, 'harness'))).gitDirty).toBe(false);
      writeFileSync(join(dir, 'harness', 'train.ts'), 'export const changed = 1;\n');
      expect((await gitState(join(dir, 'harness'))).gitDirty).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives nulls outside a git checkout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'not-git-'));
    try {
      expect(await gitState(dir)).toEqual({ gitCommit: null, gitDirty: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const base: Fingerprint = {
  cpu: 'AMD EPYC 9B14',
  cpuCores: 2,
  gpus: [],
  memoryBytes: 25e9,
  os: 'Debian GNU/Linux 12 (linux 6.1 x64)',
  node: 'v20.20.2',
  tfjs: '4.22.0',
  backend: 'wasm',
  backendVersion: '4.22.0',
  device: 'cpu',
  gitCommit: null,
  gitDirty: null,
};

describe('hardwareClass', () => {
  it('labels a CPU run by CPU model and cores', () => {
    expect(hardwareClass(base)).toBe('AMD EPYC 9B14 ×2 cores · wasm');
    expect(hardwareClass({ ...base, cpu: 'Intel Xeon® Processor' })).toBe('Intel Xeon Processor ×2 cores · wasm');
  });

  it('labels a wasm+blas run by its BLAS, kernel and threads, not its version', () => {
    const fp: Fingerprint = {
      ...base,
      backend: 'wasm+openblas 0.3.21, kernel SkylakeX, 2 threads',
      blas: { library: 'openblas', version: '0.3.21', kernel: 'SkylakeX', threads: 2 },
    };
    expect(hardwareClass(fp)).toBe('AMD EPYC 9B14 ×2 cores · wasm+openblas SkylakeX ×2 threads');
    expect(hardwareClass({ ...fp, blas: { library: 'openblas', version: '0.3.30', kernel: 'SkylakeX', threads: 2 } })).toBe(
      hardwareClass(fp),
    );
    expect(hardwareClass({ ...fp, blas: { library: 'openblas', version: '0.3.21', kernel: 'Haswell', threads: 2 } })).not.toBe(
      hardwareClass(fp),
    );
    expect(hardwareClass({ ...fp, blas: { library: 'openblas', version: '0.3.21', kernel: 'SkylakeX', threads: 1 } })).not.toBe(
      hardwareClass(fp),
    );
  });

  it('labels a GPU run by GPU model and count, ignoring the BMC display and memory sizes', () => {
    const fp: Fingerprint = {
      ...base,
      backend: 'tensorflow',
      device: 'gpu',
      gpus: [
        { model: 'ASPEED Graphics Family', vendor: 'ASPEED Technology, Inc.', memoryMB: null },
        { model: 'NVIDIA H200 141GB', vendor: 'NVIDIA Corporation', memoryMB: 143771 },
      ],
    };
    expect(hardwareClass(fp)).toBe('NVIDIA H200 ×1 · tensorflow');
  });

  it('is stable: same input, same label; versions and memory do not change it', async () => {
    const fp = await collectFingerprint({ backend: 'wasm', backendVersion: '4.22.0', device: 'cpu' });
    const a = hardwareClass(fp);
    const b = hardwareClass(await collectFingerprint({ backend: 'wasm', backendVersion: '9.9.9', device: 'cpu' }));
    expect(b).toBe(a);
    expect(hardwareClass({ ...fp, node: 'v22.0.0', tfjs: '5.0.0', memoryBytes: 1, gitCommit: 'x' })).toBe(a);
    expect(a).toMatch(/^\S.* ×\d+ cores · wasm$/);
    expect(a).not.toMatch(/\d+\s*[GMT]i?B|4\.22/);
    const gpus: Fingerprint['gpus'] = [
      { model: 'NVIDIA H200', vendor: 'NVIDIA', memoryMB: 143771 },
      { model: 'NVIDIA H200', vendor: 'NVIDIA', memoryMB: 143771 },
    ];
    const gpuFp: Fingerprint = { ...base, backend: 'tensorflow', device: 'NVIDIA H200', gpus };
    expect(hardwareClass(gpuFp)).toBe('NVIDIA H200 ×2 · tensorflow');
    expect(hardwareClass({ ...gpuFp, gpus: [...gpus].reverse().map((g) => ({ ...g, memoryMB: 1 })) })).toBe('NVIDIA H200 ×2 · tensorflow');
  });
});
