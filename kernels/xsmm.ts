/**
 * libxsmm's JIT for matmuls (the wasm+libxsmm backend), through the wrapper that npm install
 * builds from Debian's static archives (kernels/native/xsmm.c, build.mjs) and koffi loads.
 *
 * `xsmmBlas()` presents it as a `Blas` (the same row-major cblas_sgemm signature), so the
 * BLAS matmul and grouped kernels (blas-matmul.ts, blas-grouped.ts) run on it unchanged.
 * Which library runs which product — the rule, measured with kernels/bench-xsmm.ts on the
 * build machine (Zen 5, 1 thread; libxsmm 1.17 JIT target cpx vs OpenBLAS 0.3.21 Haswell):
 * libxsmm won every shape tried (8–1024 rows, k and n 64–2048, all transposes; 1.3–2.5×)
 * except row-major A·Bᵀ with few rows and a long inner dimension (m < 32, k ≥ 1024: 18 vs
 * 36 GFLOP/s), where libxsmm's kernel reads B's rows 4 KiB apart. Those go to the system
 * BLAS when one loads; everything else to libxsmm. The grouped expert products bypass the
 * rule: they are one wrapper call each (`grouped`, xsmm.c), with a kernel of its own for A·Bᵀ.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Blas, type BlasInfo, CBLAS_ROW_MAJOR, CBLAS_TRANS, type GroupedProducts, loadBlas, type Sgemm } from './blas.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** Where build.mjs puts the wrapper (MIDDLEPATH_XSMM_LIB overrides, e.g. to test the fallback). */
export function xsmmLibraryPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MIDDLEPATH_XSMM_LIB || join(here, 'native', 'build', 'libmpxsmm.so');
}

/** JIT statistics since the wrapper loaded. */
export interface JitStats {
  /** seconds spent generating kernels (first call of each shape) */
  seconds: number;
  kernels: number;
  /** shapes libxsmm would not JIT (they ran on the wrapper's plain loop) */
  declined: number;
  lookups: number;
}

/** Row-major, no order argument: C = alpha·op(A)·op(B) + beta·C; 1 when the JIT ran it, 0 for the plain loop. */
type MpxSgemm = (...args: Parameters<Sgemm> extends [number, ...infer Rest] ? Rest : never) => number;

export interface Xsmm {
  path: string;
  /** '1.17.0' */
  version: string;
  /** the JIT's code target, e.g. 'cpx' (AVX-512) or 'hsw' (AVX2) */
  target: string;
  /** the wrapper's own kernels' version (xsmm.c: mpx_kernels_version; 1 for a wrapper built before it had one) */
  kernelsVersion: number;
  sgemm: MpxSgemm;
  /** the grouped expert products, one call per product (xsmm.c: mpx_grouped_matmul, mpx_grouped_matmul_grad) */
  grouped: GroupedProducts;
  jitStats(): JitStats;
  /** widest FMA the wrapper's peak loop uses on this CPU: 512, 256, or 0 */
  fmaWidth: number;
  /** GFLOP/s of `iters` rounds of 12 independent FMA chains on this core */
  fmaGflops(iters: number): number;
  /** Adam in one pass: m, v and p updated in place (see xsmm.c) */
  adam(
    n: number,
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    c1: number,
    c2: number,
  ): void;
  /** tile sizes (C's rows, columns) of large products; 0 = whole (benchmarks) */
  setTiles(rows: number, cols: number): void;
}

type KoffiLib = { func(signature: string): (...args: unknown[]) => unknown };
type Koffi = { load(path: string): KoffiLib };
const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0] ?? 'unknown error';

let loaded: Promise<Xsmm> | null = null;
let current: Xsmm | null = null;

/**
 * Seconds libxsmm has spent generating kernels in this process (0 without the wrapper): a
 * clock that times training steps subtracts its growth over a step to keep the JIT off it.
 * Each new shape costs ~0.1–0.3 ms once; a MoE layer meets new shapes as its experts' row
 * counts change (one kernel per row count, product and tile: up to ~64 per product).
 */
export function xsmmJitSeconds(): number {
  return current?.jitStats().seconds ?? 0;
}

/**
 * Loads the wrapper (once per process). Rejects with why not: not built (with the install
 * step's own line saying what it skipped), or koffi refused.
 */
export function loadXsmm(): Promise<Xsmm> {
  loaded ??= (async () => {
    const path = xsmmLibraryPath();
    if (!existsSync(path)) {
      const skipped = join(dirname(path), 'skipped.txt');
      const why = existsSync(skipped)
        ? readFileSync(skipped, 'utf8')
            .trim()
            .replace(/^middlepath: /, '')
        : null;
      throw new Error(
        why ??
          `the libxsmm wrapper is not built (${path} missing): apt-get install libxsmm-dev and a C compiler, then npm run build:native`,
      );
    }
    let koffi: Koffi;
    try {
      koffi = ((await import('koffi')) as { default: Koffi }).default;
    } catch (e) {
      throw new Error(`koffi (FFI) cannot load: ${firstLine(e)}`);
    }
    const lib = koffi.load(path);
    const sgemm = lib.func(
      'int mpx_sgemm(int tA, int tB, int m, int n, int k, float alpha, float *a, int lda, float *b, int ldb, float beta, float *c, int ldc)',
    ) as MpxSgemm;
    const grouped: GroupedProducts = {
      matmul: lib.func(
        'int mpx_grouped_matmul(float *heap, int groups, const int *counts, int k, int n, int tB, int x_off, const int *w_off, const int *b_off, int y_off)',
      ) as GroupedProducts['matmul'],
      grad: lib.func(
        'int mpx_grouped_matmul_grad(float *heap, int groups, const int *counts, int k, int n, int x_off, int dy_off, const int *dw_off, const int *db_off)',
      ) as GroupedProducts['grad'],
    };
    const stats = lib.func('void mpx_jit_stats(_Out_ double *out)') as (out: number[]) => void;
    const version = (lib.func('int mpx_version(void)') as () => number)();
    const target = (lib.func('const char *mpx_target(void)') as () => string)();
    let kernelsVersion = 1;
    try {
      kernelsVersion = (lib.func('int mpx_kernels_version(void)') as () => number)();
    } catch {
      // a wrapper built from an older xsmm.c: version 1
    }
    const fmaWidth = (lib.func('int mpx_fma_width(void)') as () => number)();
    const fmaGflops = lib.func('double mpx_fma_gflops(long iters)') as (iters: number) => number;
    const adam = lib.func(
      'void mpx_adam(int n, float *p, float *m, float *v, float *g, float lr, float b1, float b2, float eps, float c1, float c2)',
    ) as Xsmm['adam'];
    const setTiles = lib.func('void mpx_set_tiles(int mb, int nb)') as (mb: number, nb: number) => void;
    current = {
      path,
      version: `${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}.${version % 100}`,
      target,
      kernelsVersion,
      sgemm,
      grouped,
      jitStats: () => {
        const out = [0, 0, 0, 0];
        stats(out);
        return { seconds: out[0] ?? 0, kernels: out[1] ?? 0, declined: out[2] ?? 0, lookups: out[3] ?? 0 };
      },
      fmaWidth,
      fmaGflops,
      adam,
      setTiles,
    };
    return current;
  })();
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}

/** The rule (module comment): true where the system BLAS runs the product instead of libxsmm. */
export function preferSystemBlas(transA: boolean, transB: boolean, m: number, _n: number, k: number): boolean {
  return transB && !transA && m < 32 && k >= 1024;
}

/**
 * libxsmm as a `Blas` for the wasm+blas kernels, with `fallback` (the system BLAS, when one
 * loads) for the shapes preferSystemBlas names. Row-major only, as those kernels call it.
 * The record names it 'libxsmm <version>', kernel '<target>[ kernels v<N>][ + <fallback's kernel>]'.
 */
export function xsmmBlas(xsmm: Xsmm, fallback: Blas | null): Blas {
  const sgemm: Sgemm = (order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    if (order !== CBLAS_ROW_MAJOR) throw new Error('libxsmm wrapper: row-major only');
    const tA = transA === CBLAS_TRANS;
    const tB = transB === CBLAS_TRANS;
    if (fallback && preferSystemBlas(tA, tB, m, n, k)) {
      fallback.sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    xsmm.sgemm(tA ? 1 : 0, tB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  };
  const fb = fallback?.info;
  // the kernel (so the hardware class) names the wrapper's kernels' version from 2 on: version 1 keeps the class it had
  const own = xsmm.kernelsVersion > 1 ? `${xsmm.target} kernels v${xsmm.kernelsVersion}` : xsmm.target;
  const info: BlasInfo = {
    library: 'libxsmm',
    path: xsmm.path,
    version: xsmm.version,
    kernel: fb ? `${own} + ${fb.library}${fb.kernel ? ` ${fb.kernel}` : ''}` : own,
    // libxsmm runs each product on the calling thread; the fallback BLAS on its own threads
    threads: fb ? fb.threads : 1,
    coretype: fb?.coretype ?? null,
  };
  const setFallbackThreads = fallback?.setThreads;
  const setThreads = setFallbackThreads
    ? (t: number) => {
        setFallbackThreads(t);
        info.threads = t;
      }
    : null;
  return { info, sgemm, setThreads, grouped: xsmm.grouped };
}

/** The wrapper and, where one loads, the system BLAS for the shapes it runs better. */
export async function loadXsmmBlas(): Promise<{ blas: Blas; xsmm: Xsmm }> {
  const xsmm = await loadXsmm();
  const fallback = await loadBlas().catch(() => null);
  return { blas: xsmmBlas(xsmm, fallback), xsmm };
}
