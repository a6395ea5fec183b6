/**
 * The system BLAS, loaded through koffi (FFI): which library, which kernel, how many threads.
 *
 * Why a system BLAS: wasm SIMD128 has no FMA, which caps any wasm matmul near a quarter of a
 * modern core's fp32 peak; OpenBLAS/BLIS/Accelerate reach most of it. cblas_sgemm reads and
 * writes the wasm heap in place (kernels/blas-matmul.ts), so no data is copied.
 *
 * Search order: OpenBLAS (Debian `libopenblas0`), then BLIS, on Linux; Accelerate on macOS.
 * Threads: `MIDDLEPATH_BLAS_THREADS` when set (a suite running several jobs sets it to 1),
 * else every core this process may use. OPENBLAS_CORETYPE is OpenBLAS's own choice of kernel:
 * read at load time by the library, reported here, never set by this code.
 */
import { availableParallelism } from 'node:os';

/** 'libxsmm': the JIT wrapper of kernels/xsmm.ts, presented as a BLAS (wasm+libxsmm) */
export type BlasLibrary = 'openblas' | 'blis' | 'accelerate' | 'libxsmm';

/** Row-major C = alpha·op(A)·op(B) + beta·C on float32 pointers (TypedArray views, no copy). */
export type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

export interface BlasInfo {
  library: BlasLibrary;
  /** the file koffi loaded */
  path: string;
  /** e.g. '0.3.21'; null where the library does not say */
  version: string | null;
  /** the compute kernel it picked (OpenBLAS corename, e.g. 'SkylakeX'); null where it does not say */
  kernel: string | null;
  /** threads it was told to use; null where it cannot be told (Accelerate) */
  threads: number | null;
  /** OPENBLAS_CORETYPE as the user set it (OpenBLAS only), else null */
  coretype: string | null;
}

export interface Blas {
  info: BlasInfo;
  sgemm: Sgemm;
  /** changes the library's thread count (info.threads follows); null where it cannot be told (Accelerate) */
  setThreads: ((n: number) => void) | null;
  /** all experts' products of a grouped matmul in one native call (libxsmm's wrapper only); absent: one sgemm per expert */
  grouped?: GroupedProducts;
}

/**
 * The grouped expert products on the wasm heap, one native call each (kernels/native/xsmm.c):
 * every offset is in floats from the start of `heap`; rows of x are grouped by expert, counts[e]
 * rows for expert e. Each returns 1 when every product ran on a fast kernel, 0 otherwise.
 */
export interface GroupedProducts {
  /** y_e = x_e·op(w_e) (+ b_e): w_e is [k, n], or [n, k] with transposeB; bOff null: no bias */
  matmul(
    heap: Float32Array,
    groups: number,
    counts: Int32Array,
    k: number,
    n: number,
    transposeB: number,
    xOff: number,
    wOff: Int32Array,
    bOff: Int32Array | null,
    yOff: number,
  ): number;
  /** dw_e [k, n] = x_eᵀ·dy_e, db_e = Σ rows of dy_e (when dbOff is given); zeros for an empty group */
  grad(
    heap: Float32Array,
    groups: number,
    counts: Int32Array,
    k: number,
    n: number,
    xOff: number,
    dyOff: number,
    dwOff: Int32Array,
    dbOff: Int32Array | null,
  ): number;
}

interface Candidate {
  library: BlasLibrary;
  path: string;
}

function candidates(): Candidate[] {
  if (process.platform === 'darwin') {
    return [{ library: 'accelerate', path: '/System/Library/Frameworks/Accelerate.framework/Accelerate' }];
  }
  return [
    { library: 'openblas', path: 'libopenblas.so.0' },
    { library: 'openblas', path: 'libopenblas.so' },
    { library: 'blis', path: 'libblis.so.4' },
    { library: 'blis', path: 'libblis.so' },
  ];
}

/** Threads to ask for: MIDDLEPATH_BLAS_THREADS, else all cores. Throws on a malformed value. */
export function blasThreadsWanted(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MIDDLEPATH_BLAS_THREADS;
  if (raw === undefined || raw.trim() === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MIDDLEPATH_BLAS_THREADS must be an integer ≥ 1, got '${raw}'`);
  return n;
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0] ?? 'unknown error';

type KoffiLib = { func(signature: string): (...args: unknown[]) => unknown };
type Koffi = { load(path: string): KoffiLib };

function optionalFunc(lib: KoffiLib, signature: string): ((...args: unknown[]) => unknown) | null {
  try {
    return lib.func(signature);
  } catch {
    return null;
  }
}

function open(koffi: Koffi, c: Candidate, threads: number): Blas {
  const lib = koffi.load(c.path);
  const sgemm = lib.func(
    'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, float *a, int lda, float *b, int ldb, float beta, float *c, int ldc)',
  ) as Sgemm;
  let version: string | null = null;
  let kernel: string | null = null;
  let setter: ((...args: unknown[]) => unknown) | null = null;
  if (c.library === 'openblas') {
    // 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64'
    const config = String(optionalFunc(lib, 'const char *openblas_get_config(void)')?.() ?? '');
    version = /OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? null;
    kernel = (optionalFunc(lib, 'const char *openblas_get_corename(void)')?.() as string | undefined) ?? null;
    setter = optionalFunc(lib, 'void openblas_set_num_threads(int n)');
  } else if (c.library === 'blis') {
    const v = optionalFunc(lib, 'const char *bli_info_get_version_str(void)')?.();
    version = typeof v === 'string' ? v : null;
    setter = optionalFunc(lib, 'void bli_thread_set_num_threads(int64_t n)');
  }
  // Accelerate takes its thread count from the system (VECLIB_MAXIMUM_THREADS), not from us.
  const coretype = c.library === 'openblas' ? (process.env.OPENBLAS_CORETYPE ?? null) : null;
  const info: BlasInfo = { library: c.library, path: c.path, version, kernel, threads: null, coretype };
  const setThreads = setter
    ? (n: number) => {
        (setter as (n: number) => void)(n);
        info.threads = n;
      }
    : null;
  setThreads?.(threads);
  return { info, sgemm, setThreads };
}

let loaded: Promise<Blas> | null = null;

/**
 * Loads the first system BLAS found (once per process; later calls return the same one).
 * Rejects with every place it looked and why each failed, e.g. when koffi is refused under
 * Node's permission model or no library is installed.
 */
export function loadBlas(): Promise<Blas> {
  loaded ??= (async () => {
    const threads = blasThreadsWanted();
    let koffi: Koffi;
    try {
      koffi = ((await import('koffi')) as { default: Koffi }).default;
    } catch (e) {
      throw new Error(`koffi (FFI) cannot load: ${firstLine(e)}`);
    }
    const tried: string[] = [];
    for (const c of candidates()) {
      try {
        return open(koffi, c, threads);
      } catch (e) {
        tried.push(`${c.path}: ${firstLine(e)}`);
      }
    }
    const hint = process.platform === 'darwin' ? '' : ' (Debian/Ubuntu: apt-get install libopenblas0)';
    throw new Error(`no system BLAS found${hint}; tried ${tried.join('; ')}`);
  })();
  // A failed load may succeed later (e.g. after installing); do not cache the failure.
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}

/** 'openblas 0.3.21, kernel SkylakeX, 2 threads': how the record and doctor name it. */
export function describeBlas(info: BlasInfo): string {
  const parts = [`${info.library}${info.version ? ` ${info.version}` : ''}`];
  if (info.kernel) parts.push(`kernel ${info.kernel}`);
  parts.push(info.threads === null ? 'threads set by the system' : `${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  return parts.join(', ');
}
