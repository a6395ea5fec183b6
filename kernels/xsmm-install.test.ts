/**
 * The install step (kernels/native/build.mjs) never fails the install: without a compiler or
 * without libxsmm's headers it exits 0 with one line naming the skipped path and how to get
 * it, and the backend choice then says why it fell back. With both present (CI installs
 * libxsmm-dev) it builds a wrapper that loads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../harness/backend.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'native', 'build.mjs');
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'mp-xsmm-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function build(env: Record<string, string>) {
  const out = fresh();
  const { CC: _cc, ...rest } = process.env;
  const r = spawnSync(process.execPath, [script], { env: { ...rest, MIDDLEPATH_XSMM_OUT: out, ...env }, encoding: 'utf8' });
  return { out, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const haveXsmm = existsSync('/usr/include/libxsmm.h') && existsSync('/usr/lib/libxsmm.a');

describe('npm install step for the libxsmm wrapper', () => {
  it.each([
    ['no compiler on PATH', { PATH: '/nonexistent' }, /no C compiler \(cc, gcc, clang\) on PATH/],
    ['CC names a missing compiler', { CC: '/nonexistent/cc' }, /no C compiler \(\/nonexistent\/cc\)/],
    ['the headers absent', { MIDDLEPATH_XSMM_INCLUDE: '/nonexistent/include' }, /libxsmm\.h not found in \/nonexistent\/include/],
    ['the archives absent', { MIDDLEPATH_XSMM_LIBDIR: '/nonexistent/lib' }, /libxsmm\.a and libxsmmnoblas\.a not found/],
  ])('%s: exits 0 with one line saying what it skipped and how to get it', (_, env, reason) => {
    const r = build(env);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^middlepath: skipped the wasm\+libxsmm kernels: /);
    expect(lines[0]).toMatch(reason);
    expect(lines[0]).toContain('apt-get install libxsmm-dev');
    expect(existsSync(join(r.out, 'libmpxsmm.so'))).toBe(false);
    expect(readFileSync(join(r.out, 'skipped.txt'), 'utf8').trim()).toBe(lines[0]);
  });

  it('then the backend choice says why it fell back, and auto takes the next backend', async () => {
    const r = build({ CC: '/nonexistent/cc' });
    process.env.MIDDLEPATH_XSMM_LIB = join(r.out, 'libmpxsmm.so');
    try {
      await expect(selectBackend('wasm+libxsmm')).rejects.toThrow(
        /skipped the wasm\+libxsmm kernels: no C compiler .*apt-get install libxsmm-dev/,
      );
      const auto = await selectBackend('auto');
      expect(['wasm+blas', 'wasm']).toContain(auto.name);
      expect(auto.reason).toMatch(/wasm\+libxsmm: skipped the wasm\+libxsmm kernels: no C compiler/);
    } finally {
      delete process.env.MIDDLEPATH_XSMM_LIB;
    }
  });

  it.skipIf(!haveXsmm && process.env.MIDDLEPATH_REQUIRE_XSMM !== '1')(
    'with libxsmm-dev and a compiler: builds a wrapper that loads',
    async () => {
      const r = build({});
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^middlepath: built the wasm\+libxsmm kernels/);
      const lib = join(r.out, 'libmpxsmm.so');
      expect(existsSync(lib)).toBe(true);
      expect(existsSync(join(r.out, 'skipped.txt'))).toBe(false);
      const koffi = ((await import('koffi')) as { default: { load(p: string): { func(s: string): () => number } } }).default;
      expect(koffi.load(lib).func('int mpx_version(void)')()).toBe(11700);
    },
  );
});
