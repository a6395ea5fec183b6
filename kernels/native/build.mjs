#!/usr/bin/env node
/**
 * Builds kernels/native/build/libmpxsmm.so — the libxsmm wrapper (xsmm.c) the wasm+libxsmm
 * backend loads with koffi — from Debian's static libxsmm archives (`libxsmm-dev`) and the
 * system C compiler. Run by npm at install (package.json "install") and by hand.
 *
 * Never fails the install: where the compiler, the headers or the archives are missing, or the
 * compile fails, it prints ONE line naming the faster path it skipped and how to get it, writes
 * that line to build/skipped.txt (so the backend choice can say why it fell back), and exits 0.
 * The harness then keeps wasm+blas (OpenBLAS), then wasm.
 *
 * Environment (for other layouts, and for the test of the fallback):
 *   CC                       compiler (default: cc, then gcc, then clang on PATH)
 *   MIDDLEPATH_XSMM_INCLUDE  directory holding libxsmm.h (default /usr/include, /usr/local/include)
 *   MIDDLEPATH_XSMM_LIBDIR   directory holding libxsmm.a and libxsmmnoblas.a (default /usr/lib, /usr/local/lib, /usr/lib/<multiarch>)
 *   MIDDLEPATH_XSMM_OUT      output directory (default kernels/native/build)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.MIDDLEPATH_XSMM_OUT || join(here, 'build');
const lib = join(out, 'libmpxsmm.so');
const HOW = 'apt-get install libxsmm-dev (and a C compiler), then npm run build:native';

function skip(why) {
  // One line, short enough to be quoted whole where the backend choice says why it fell back.
  const line = `middlepath: skipped the wasm+libxsmm kernels: ${why}; to get them: ${HOW}`;
  mkdirSync(out, { recursive: true });
  rmSync(lib, { force: true });
  writeFileSync(join(out, 'skipped.txt'), `${line}\n`);
  console.log(line);
  process.exit(0);
}

function onPath(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : null;
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

if (process.platform !== 'linux' || process.arch !== 'x64') skip(`built for linux x64 only (this is ${process.platform} ${process.arch})`);

const ccWanted = process.env.CC ? [process.env.CC.split(/\s+/)[0]] : ['cc', 'gcc', 'clang'];
const cc = ccWanted.map(onPath).find(Boolean);
if (!cc) skip(`no C compiler (${ccWanted.join(', ')}) on PATH`);

const multiarch = '/usr/lib/x86_64-linux-gnu';
const includes = process.env.MIDDLEPATH_XSMM_INCLUDE ? [process.env.MIDDLEPATH_XSMM_INCLUDE] : ['/usr/include', '/usr/local/include'];
const include = includes.find((d) => existsSync(join(d, 'libxsmm.h')));
if (!include) skip(`libxsmm.h not found in ${includes.join(', ')}`);
const libdirs = process.env.MIDDLEPATH_XSMM_LIBDIR ? [process.env.MIDDLEPATH_XSMM_LIBDIR] : ['/usr/lib', multiarch, '/usr/local/lib'];
const libdir = libdirs.find((d) => existsSync(join(d, 'libxsmm.a')) && existsSync(join(d, 'libxsmmnoblas.a')));
if (!libdir) skip(`libxsmm.a and libxsmmnoblas.a not found in ${libdirs.join(', ')}`);

mkdirSync(out, { recursive: true });
// -O3 for the Adam loop and the fused elementwise kernels (fused.c), cloned per ISA in the C files, so no
// -march: the .so runs on any x86-64;
// libxsmm.a's BLAS fallbacks resolve to libxsmmnoblas.a (middlepath routes those shapes to OpenBLAS itself).
const args = [
  '-O3',
  '-fPIC',
  '-shared',
  '-Wall',
  `-I${include}`,
  join(here, 'xsmm.c'),
  join(here, 'fused.c'),
  '-o',
  `${lib}.tmp`,
  join(libdir, 'libxsmm.a'),
  join(libdir, 'libxsmmnoblas.a'),
  '-lpthread',
  '-lrt',
  '-ldl',
  '-lm',
];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.error || r.status !== 0) {
  const msg = (r.error?.message ?? r.stderr ?? '').split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  skip(`${cc} failed: ${msg.trim().slice(0, 200)}`);
}
renameSync(`${lib}.tmp`, lib); // atomic: a process loading the old one keeps it
rmSync(join(out, 'skipped.txt'), { force: true });
console.log(`middlepath: built the wasm+libxsmm kernels (${lib}) with ${cc} from ${libdir}/libxsmm.a`);
