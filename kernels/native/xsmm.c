/*
 * middlepath's native kernels: a small shared wrapper over libxsmm 1.17 (Debian ships it only
 * as static archives, so koffi cannot load it directly), built at npm install by build.mjs.
 *
 * - mpx_sgemm: row-major C = alpha·op(A)·op(B) + beta·C (cblas_sgemm's meaning, row-major only)
 *   on libxsmm's JIT. libxsmm is column-major: row-major C = op(A)·op(B) is column-major
 *   Cᵀ = op(B)ᵀ·op(A)ᵀ, so B is libxsmm's "A" and A its "B". The 1.17 JIT has no kernel for
 *   libxsmm's TRANS_A, i.e. row-major transposeB: B is transposed into scratch first.
 *   Large products are tiled (row and column blocks of C, full K) over one JIT kernel per tile
 *   shape. Kernels are cached per shape here, and the JIT's time is counted (mpx_jit_stats).
 * - mpx_fma_gflops: the core's fp32 FMA peak, from a loop of independent FMA chains (AVX-512
 *   when the CPU has it, else AVX2+FMA), chosen at run time.
 * - mpx_adam: Adam's update in one pass over parameter, both moments and gradient.
 */
#include <libxsmm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int initialised = 0;
static void init(void) {
  if (!initialised) {
    libxsmm_init();
    initialised = 1;
  }
}

/* ---------- kernel cache: (m, n, k, lda, ldb, ldc, beta, flags) -> JIT kernel ---------- */

typedef struct {
  int m, n, k, lda, ldb, ldc, beta1, flags;
  int used;
  libxsmm_smmfunction fn; /* NULL: libxsmm declined the shape (remembered too) */
} entry;

#define CACHE_SIZE 4096
static entry cache[CACHE_SIZE];
static int cache_count = 0;
static double jit_seconds = 0;
static long jit_kernels = 0, jit_declined = 0, cache_lookups = 0;

static libxsmm_smmfunction kernel(int m, int n, int k, int lda, int ldb, int ldc, int beta1, int flags) {
  uint64_t h = 1469598103934665603ull;
  int key[8] = {m, n, k, lda, ldb, ldc, beta1, flags};
  for (int i = 0; i < 8; i++) h = (h ^ (uint64_t)(uint32_t)key[i]) * 1099511628211ull;
  cache_lookups++;
  for (int probe = 0; probe < CACHE_SIZE; probe++) {
    entry *e = &cache[(h + (uint64_t)probe) % CACHE_SIZE];
    if (!e->used) {
      if (cache_count >= CACHE_SIZE / 2) break; /* full enough: ask libxsmm (it caches too) */
      float alpha = 1.0f, beta = beta1 ? 1.0f : 0.0f;
      libxsmm_blasint lda_ = lda, ldb_ = ldb, ldc_ = ldc;
      int prefetch = LIBXSMM_PREFETCH_NONE;
      double t0 = now_s();
      libxsmm_smmfunction fn = libxsmm_smmdispatch(m, n, k, &lda_, &ldb_, &ldc_, &alpha, &beta, &flags, &prefetch);
      jit_seconds += now_s() - t0;
      if (fn) jit_kernels++;
      else jit_declined++;
      e->m = m; e->n = n; e->k = k; e->lda = lda; e->ldb = ldb; e->ldc = ldc; e->beta1 = beta1; e->flags = flags;
      e->fn = fn;
      e->used = 1;
      cache_count++;
      return fn;
    }
    if (e->m == m && e->n == n && e->k == k && e->lda == lda && e->ldb == ldb && e->ldc == ldc && e->beta1 == beta1 && e->flags == flags) return e->fn;
  }
  /* past this table's size: libxsmm's own registry, timed whole (its lookup and any JIT it does) */
  float alpha = 1.0f, beta = beta1 ? 1.0f : 0.0f;
  libxsmm_blasint lda_ = lda, ldb_ = ldb, ldc_ = ldc;
  int prefetch = LIBXSMM_PREFETCH_NONE;
  double t0 = now_s();
  libxsmm_smmfunction fn = libxsmm_smmdispatch(m, n, k, &lda_, &ldb_, &ldc_, &alpha, &beta, &flags, &prefetch);
  jit_seconds += now_s() - t0;
  return fn;
}

/* JIT statistics since load: [seconds spent generating, kernels generated, shapes declined, lookups] */
void mpx_jit_stats(double *out) {
  out[0] = jit_seconds;
  out[1] = (double)jit_kernels;
  out[2] = (double)jit_declined;
  out[3] = (double)cache_lookups;
}

const char *mpx_target(void) {
  init();
  return libxsmm_get_target_arch();
}

/*
 * The wrapper's own kernels' version: bump it whenever a kernel's arithmetic (its summation
 * order) changes. The hardware class names it (kernels/xsmm.ts), so records never mix across
 * versions. 2: grouped expert products (the input gradient's dot-product kernel).
 */
int mpx_kernels_version(void) { return 2; }

int mpx_version(void) { return LIBXSMM_VERSION_MAJOR * 10000 + LIBXSMM_VERSION_MINOR * 100 + LIBXSMM_VERSION_UPDATE; }

/* ---------- scratch for transposed operands and products ---------- */

typedef struct {
  float *p;
  size_t len;
} buffer;
static buffer scratch[4]; /* 0-2: mpx_sgemm's; 3: the grouped gradient's rows */
static float *scratch_of(int which, size_t n) {
  buffer *b = &scratch[which];
  if (n > b->len) {
    free(b->p);
    b->len = n + n / 2;
    b->p = (float *)aligned_alloc(64, ((b->len * sizeof(float) + 63) / 64) * 64);
    if (!b->p) b->len = 0;
  }
  return b->p;
}

/* dst [cols x rows] (ld = ldd) = src [rows x cols] (ld = lds)ᵀ, row-major, by libxsmm's transpose */
static void transpose(const float *src, int rows, int cols, int lds, float *dst, int ldd) {
  libxsmm_otrans(dst, src, sizeof(float), cols, rows, lds, ldd);
}

/* The plain loop, for what the JIT declines: row-major C = op(A)·op(B) + beta1·C. */
static void loop_gemm(int tA, int tB, int m, int n, int k, const float *a, int lda, const float *b, int ldb, int beta1, float *c, int ldc) {
  for (int i = 0; i < m; i++) {
    float *ci = c + (size_t)i * ldc;
    if (!beta1) memset(ci, 0, sizeof(float) * (size_t)n);
    for (int p = 0; p < k; p++) {
      float av = tA ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
      if (!tB) {
        const float *bp = b + (size_t)p * ldb;
        for (int j = 0; j < n; j++) ci[j] += av * bp[j];
      } else
        for (int j = 0; j < n; j++) ci[j] += av * b[(size_t)j * ldb + p];
    }
  }
}

/* tile sizes in C's rows (mb) and columns (nb); 0 = whole. Set by mpx_set_tiles (benchmarks). */
static int tile_m = 64, tile_n = 256;
void mpx_set_tiles(int mb, int nb) {
  tile_m = mb;
  tile_n = nb;
}

/* row-major C[m x n] (+)= A'[m x k]·B'[k x n], A' = op(A) given by tA (B already untransposed) */
static int jit_gemm(int tA, int m, int n, int k, const float *a, int lda, const float *b, int ldb, int beta1, float *c, int ldc) {
  int mb = tile_m > 0 && tile_m < m ? tile_m : m;
  int nb = tile_n > 0 && tile_n < n ? tile_n : n;
  int flags = tA ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
  /* column blocks outer: one k x nb block of B stays in cache while A's row blocks stream past it */
  for (int j0 = 0; j0 < n; j0 += nb) {
    int nj = n - j0 < nb ? n - j0 : nb;
    for (int i0 = 0; i0 < m; i0 += mb) {
      int mi = m - i0 < mb ? m - i0 : mb;
      /* column-major: Cᵀ tile [nj x mi] = Bᵀ tile [nj x k] · A'ᵀ tile [k x mi] */
      libxsmm_smmfunction fn = kernel(nj, mi, k, ldb, lda, ldc, beta1, flags);
      if (!fn) return 0;
      const float *at = tA ? a + i0 : a + (size_t)i0 * lda;
      fn(b + j0, at, c + (size_t)i0 * ldc + j0);
    }
  }
  return 1;
}

/* transposeB plan: 0 = the cheaper copy (below), 1 = always transpose the product, 2 = always B */
static int tb_plan = 0;
void mpx_set_tb_plan(int plan) { tb_plan = plan; }

/*
 * Row-major C = alpha·op(A)·op(B) + beta·C. Returns 1 when the JIT ran it, 0 when the plain loop
 * did (a shape libxsmm declined). alpha ≠ 1 and beta ∉ {0, 1} are applied around the kernel.
 */
int mpx_sgemm(int tA, int tB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c,
              int ldc) {
  init();
  if (m <= 0 || n <= 0) return 1;
  if (k <= 0 || alpha == 0.0f) {
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
    return 1;
  }
  int beta1 = beta != 0.0f;
  if (alpha != 1.0f) {
    /* C = alpha·(op(A)·op(B) + (beta/alpha)·C) */
    float s = beta / alpha;
    if (beta1 && s != 1.0f)
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] *= s;
  } else if (beta1 && beta != 1.0f)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] *= beta;
  int jit = 0;
  if (!tB) jit = jit_gemm(tA, m, n, k, a, lda, b, ldb, beta1, c, ldc);
  else if (tA || (tb_plan == 0 ? (size_t)m * k + (size_t)m * n < (size_t)n * k : tb_plan == 1)) {
    /* C = op(A)·Bᵀ = (B·op(A)ᵀ)ᵀ: D [n x m] = B·A (tA) or B·At (At = Aᵀ in scratch), then C = Dᵀ.
       Moves m·n (+ m·k) floats instead of B's n·k: the cheaper way for few rows (experts). */
    const float *at = a;
    int ldat = lda;
    float *t = NULL, *d = scratch_of(1, (size_t)n * m);
    if (!tA) {
      t = scratch_of(0, (size_t)k * m);
      if (t) {
        transpose(a, m, k, lda, t, m);
        at = t;
        ldat = m;
      }
    }
    if (d && (tA || t) && jit_gemm(0, n, m, k, b, ldb, at, ldat, 0, d, m)) {
      jit = 1;
      if (!beta1) transpose(d, n, m, m, c, ldc);
      else {
        float *e = scratch_of(2, (size_t)m * n);
        if (e) {
          transpose(d, n, m, m, e, n);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] += e[(size_t)i * n + j];
        } else
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] += d[(size_t)j * m + i];
      }
    }
  } else {
    /* C = A·Bᵀ with Bᵀ materialised [k x n] */
    float *t = scratch_of(0, (size_t)k * n);
    if (t) {
      transpose(b, n, k, ldb, t, n);
      jit = jit_gemm(0, m, n, k, a, lda, t, n, beta1, c, ldc);
    }
  }
  if (!jit) loop_gemm(tA, tB, m, n, k, a, lda, b, ldb, beta1, c, ldc);
  if (alpha != 1.0f)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] *= alpha;
  return jit;
}

/* ---------- grouped expert matmuls (MoE): one call per grouped product ---------- */

int mpx_fma_width(void);

/*
 * Row-major C[m x n] = A[m x k]·B[n x k]ᵀ (beta = 0) for few rows, where libxsmm 1.17 has no
 * kernel that reads B as it lies (its TRANS_A) and transposing B costs as much as the product.
 * Dot products along k: a 4-row × 4-column block of C keeps 16 AVX-512 accumulators over k,
 * then one shuffle tree turns them into the block's 16 sums. Rows and columns past the edge
 * repeat the last one and are not stored; k's tail is a masked load.
 */
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static inline __m512 pair_sum(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
}
/* lane L of the result: [v0, v1, v2, v3] summed over lane L of each */
__attribute__((target("avx512f"))) static inline __m512 lane_sums4(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
  __m512 x01 = _mm512_add_ps(_mm512_unpacklo_ps(v0, v1), _mm512_unpackhi_ps(v0, v1));
  __m512 x23 = _mm512_add_ps(_mm512_unpacklo_ps(v2, v3), _mm512_unpackhi_ps(v2, v3));
  __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(x01), _mm512_castps_pd(x23));
  __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(x01), _mm512_castps_pd(x23));
  return _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
}
static int pf_rows = 8; /* rows of B ahead that nt_small prefetches (0: none) */
void mpx_set_pf_rows(int r) { pf_rows = r; }
__attribute__((target("avx512f"))) static void nt_small(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                                                        const float *next_b) {
  const int kfull = k & ~15;
  const __mmask16 tail = (__mmask16)((1u << (k & 15)) - 1u);
  for (int p0 = 0; p0 < n; p0 += 4) {
    const float *b0 = b + (size_t)(p0 < n ? p0 : n - 1) * ldb;
    const float *b1 = b + (size_t)(p0 + 1 < n ? p0 + 1 : n - 1) * ldb;
    const float *b2 = b + (size_t)(p0 + 2 < n ? p0 + 2 : n - 1) * ldb;
    const float *b3 = b + (size_t)(p0 + 3 < n ? p0 + 3 : n - 1) * ldb;
    for (int i0 = 0; i0 < m; i0 += 4) {
      const float *a0 = a + (size_t)i0 * lda;
      const float *a1 = a + (size_t)(i0 + 1 < m ? i0 + 1 : m - 1) * lda;
      const float *a2 = a + (size_t)(i0 + 2 < m ? i0 + 2 : m - 1) * lda;
      const float *a3 = a + (size_t)(i0 + 3 < m ? i0 + 3 : m - 1) * lda;
      __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
#define NT_STEP(LOAD)                                                                                 \
  {                                                                                                   \
    __m512 v0 = LOAD(b0), v1 = LOAD(b1), v2 = LOAD(b2), v3 = LOAD(b3), u;                             \
    u = LOAD(a0);                                                                                     \
    c00 = _mm512_fmadd_ps(u, v0, c00); c01 = _mm512_fmadd_ps(u, v1, c01);                             \
    c02 = _mm512_fmadd_ps(u, v2, c02); c03 = _mm512_fmadd_ps(u, v3, c03);                             \
    u = LOAD(a1);                                                                                     \
    c10 = _mm512_fmadd_ps(u, v0, c10); c11 = _mm512_fmadd_ps(u, v1, c11);                             \
    c12 = _mm512_fmadd_ps(u, v2, c12); c13 = _mm512_fmadd_ps(u, v3, c13);                             \
    u = LOAD(a2);                                                                                     \
    c20 = _mm512_fmadd_ps(u, v0, c20); c21 = _mm512_fmadd_ps(u, v1, c21);                             \
    c22 = _mm512_fmadd_ps(u, v2, c22); c23 = _mm512_fmadd_ps(u, v3, c23);                             \
    u = LOAD(a3);                                                                                     \
    c30 = _mm512_fmadd_ps(u, v0, c30); c31 = _mm512_fmadd_ps(u, v1, c31);                             \
    c32 = _mm512_fmadd_ps(u, v2, c32); c33 = _mm512_fmadd_ps(u, v3, c33);                             \
  }
      /* on the first pass over these rows of B, fetch the rows pf_rows ahead (the next expert's past the end) */
      const float *q0 = i0 > 0 || pf_rows <= 0 ? NULL
                        : p0 + pf_rows < n     ? b + (size_t)(p0 + pf_rows) * ldb
                        : next_b               ? next_b + (size_t)(p0 + pf_rows - n) * ldb
                                               : NULL;
      for (int j = 0; j < kfull; j += 16) {
        if (q0) {
          _mm_prefetch((const char *)(q0 + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(q0 + ldb + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(q0 + 2 * (size_t)ldb + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(q0 + 3 * (size_t)ldb + j), _MM_HINT_T0);
        }
#define NT_FULL(ptr) _mm512_loadu_ps((ptr) + j)
        NT_STEP(NT_FULL)
#undef NT_FULL
      }
      if (tail) {
#define NT_TAIL(ptr) _mm512_maskz_loadu_ps(tail, (ptr) + kfull)
        NT_STEP(NT_TAIL)
#undef NT_TAIL
      }
#undef NT_STEP
      __m512 w = pair_sum(pair_sum(lane_sums4(c00, c01, c02, c03), lane_sums4(c10, c11, c12, c13)),
                          pair_sum(lane_sums4(c20, c21, c22, c23), lane_sums4(c30, c31, c32, c33)));
      float s[16];
      _mm512_storeu_ps(s, w);
      int rows = m - i0 < 4 ? m - i0 : 4, cols = n - p0 < 4 ? n - p0 : 4;
      for (int r = 0; r < rows; r++) {
        float *to = c + (size_t)(i0 + r) * ldc + p0;
        if (cols == 4) _mm_storeu_ps(to, _mm_loadu_ps(s + 4 * r));
        else memcpy(to, s + 4 * r, sizeof(float) * (size_t)cols);
      }
    }
  }
}
#endif

#if defined(__x86_64__)
/* mask of the first `count` (0..16) lanes */
static inline __mmask16 lanes(int count) { return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1u); }

/*
 * Row-major dw[k x n] = x[m x k]ᵀ·dy[m x n] for few rows m (x and dy stay in L1): a 4 × 64 block
 * of dw gathers its m products in registers, then four whole rows of dw go out with streaming
 * stores (no read of dw's old contents: the gradients of all experts are too many to stay in
 * cache). tmp: 4·n floats.
 */
__attribute__((target("avx512f"))) static void stream_rows(float *dst, const float *src, int n) {
  int j = 0;
  while (j < n && ((uintptr_t)(dst + j) & 63)) {
    dst[j] = src[j];
    j++;
  }
  for (; j + 16 <= n; j += 16) _mm512_stream_ps(dst + j, _mm512_loadu_ps(src + j));
  for (; j < n; j++) dst[j] = src[j];
}
__attribute__((target("avx512f"))) static void tn_small(int m, int n, int k, const float *x, const float *dy, float *dw, float *tmp) {
  for (int p = 0; p < k; p += 4) {
    const int rows = k - p < 4 ? k - p : 4;
    for (int j = 0; j < n; j += 64) {
      const __mmask16 m0 = lanes(n - j), m1 = lanes(n - j - 16), m2 = lanes(n - j - 32), m3 = lanes(n - j - 48);
      __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
      for (int i = 0; i < m; i++) {
        const float *d = dy + (size_t)i * n + j;
        const float *xi = x + (size_t)i * k + p;
        const __m512 d0 = _mm512_maskz_loadu_ps(m0, d), d1 = _mm512_maskz_loadu_ps(m1, d + 16), d2 = _mm512_maskz_loadu_ps(m2, d + 32),
                     d3 = _mm512_maskz_loadu_ps(m3, d + 48);
        __m512 a = _mm512_set1_ps(xi[0]);
        c00 = _mm512_fmadd_ps(a, d0, c00); c01 = _mm512_fmadd_ps(a, d1, c01); c02 = _mm512_fmadd_ps(a, d2, c02); c03 = _mm512_fmadd_ps(a, d3, c03);
        a = _mm512_set1_ps(rows > 1 ? xi[1] : 0.0f);
        c10 = _mm512_fmadd_ps(a, d0, c10); c11 = _mm512_fmadd_ps(a, d1, c11); c12 = _mm512_fmadd_ps(a, d2, c12); c13 = _mm512_fmadd_ps(a, d3, c13);
        a = _mm512_set1_ps(rows > 2 ? xi[2] : 0.0f);
        c20 = _mm512_fmadd_ps(a, d0, c20); c21 = _mm512_fmadd_ps(a, d1, c21); c22 = _mm512_fmadd_ps(a, d2, c22); c23 = _mm512_fmadd_ps(a, d3, c23);
        a = _mm512_set1_ps(rows > 3 ? xi[3] : 0.0f);
        c30 = _mm512_fmadd_ps(a, d0, c30); c31 = _mm512_fmadd_ps(a, d1, c31); c32 = _mm512_fmadd_ps(a, d2, c32); c33 = _mm512_fmadd_ps(a, d3, c33);
      }
      float *t = tmp + j;
      _mm512_mask_storeu_ps(t, m0, c00); _mm512_mask_storeu_ps(t + 16, m1, c01); _mm512_mask_storeu_ps(t + 32, m2, c02); _mm512_mask_storeu_ps(t + 48, m3, c03);
      t += n;
      _mm512_mask_storeu_ps(t, m0, c10); _mm512_mask_storeu_ps(t + 16, m1, c11); _mm512_mask_storeu_ps(t + 32, m2, c12); _mm512_mask_storeu_ps(t + 48, m3, c13);
      t += n;
      _mm512_mask_storeu_ps(t, m0, c20); _mm512_mask_storeu_ps(t + 16, m1, c21); _mm512_mask_storeu_ps(t + 32, m2, c22); _mm512_mask_storeu_ps(t + 48, m3, c23);
      t += n;
      _mm512_mask_storeu_ps(t, m0, c30); _mm512_mask_storeu_ps(t + 16, m1, c31); _mm512_mask_storeu_ps(t + 32, m2, c32); _mm512_mask_storeu_ps(t + 48, m3, c33);
    }
    for (int r = 0; r < rows; r++) stream_rows(dw + (size_t)(p + r) * n, tmp + (size_t)r * n, n);
  }
}
__attribute__((target("avx512f"))) static void stream_zero(float *dst, size_t n) {
  size_t j = 0;
  while (j < n && ((uintptr_t)(dst + j) & 63)) dst[j++] = 0.0f;
  for (; j + 16 <= n; j += 16) _mm512_stream_ps(dst + j, _mm512_setzero_ps());
  for (; j < n; j++) dst[j] = 0.0f;
}
#endif

/* rows of an expert up to which the few-rows kernels above run its products (above: libxsmm's JIT) */
static int small_rows = 32;
void mpx_set_small_rows(int rows) { small_rows = rows; }

static int avx512(void) {
  static int width = -1;
  if (width < 0) width = mpx_fma_width();
  return width == 512;
}

/* Row-major C[m x n] = A[m x k]·B[n x k]ᵀ, beta = 0; 1 on a fast kernel, 0 on the plain loop. */
static int gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc, const float *next_b) {
#if defined(__x86_64__)
  if (avx512() && m <= small_rows && k > 0) {
    nt_small(m, n, k, a, lda, b, ldb, c, ldc, next_b);
    return 1;
  }
#endif
  return mpx_sgemm(0, 1, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

/* dst[i] += Σ rows of src [rows x n] (the bias gradient); vectorised per ISA at load */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void column_sums(int rows, int n, const float *src, float *dst) {
  memset(dst, 0, sizeof(float) * (size_t)n);
  for (int r = 0; r < rows; r++) {
    const float *s = src + (size_t)r * n;
    for (int j = 0; j < n; j++) dst[j] += s[j];
  }
}

/*
 * All experts' products in one call, on the wasm heap: every offset is in floats from `heap`.
 * Rows of x are grouped by expert: counts[e] consecutive rows for expert e.
 *   tB = 0: y_e [c x n] = x_e [c x k]·w_e [k x n] (+ b_e when b_off is not NULL)
 *   tB = 1: y_e [c x n] = x_e [c x k]·w_e [n x k]ᵀ (+ b_e): the input gradient
 * Returns 1 when every product ran on a fast kernel, 0 when one ran on the plain loop.
 */
int mpx_grouped_matmul(float *heap, int groups, const int *counts, int k, int n, int tB, int x_off, const int *w_off, const int *b_off,
                       int y_off) {
  init();
  int fast = 1;
  size_t row = 0;
  for (int e = 0; e < groups; e++) {
    int c = counts[e];
    if (c <= 0) continue;
    const float *x = heap + (size_t)x_off + row * (size_t)k;
    const float *w = heap + (size_t)w_off[e];
    float *y = heap + (size_t)y_off + row * (size_t)n;
    const float *next_w = NULL;
    for (int f = e + 1; f < groups && !next_w; f++)
      if (counts[f] > 0) next_w = heap + (size_t)w_off[f];
    if (tB) {
      fast &= gemm_nt(c, n, k, x, k, w, k, y, n, next_w);
      if (b_off)
        for (int r = 0; r < c; r++) {
          const float *b = heap + (size_t)b_off[e];
          float *yr = y + (size_t)r * n;
          for (int j = 0; j < n; j++) yr[j] += b[j];
        }
    } else {
      if (b_off)
        for (int r = 0; r < c; r++) memcpy(y + (size_t)r * n, heap + (size_t)b_off[e], sizeof(float) * (size_t)n);
      if (k <= 0 && !b_off) memset(y, 0, sizeof(float) * (size_t)c * (size_t)n);
      else if (k > 0 && !jit_gemm(0, c, n, k, x, k, w, n, b_off != NULL, y, n)) {
        loop_gemm(0, 0, c, n, k, x, k, w, n, b_off != NULL, y, n);
        fast = 0;
      }
    }
    row += (size_t)c;
  }
  return fast;
}

/*
 * The weight gradients of all experts in one call: dw_e [k x n] = x_eᵀ·dy_e, db_e = Σ rows of
 * dy_e (when db_off is not NULL); zeros for an expert without rows. Offsets as above.
 */
int mpx_grouped_matmul_grad(float *heap, int groups, const int *counts, int k, int n, int x_off, int dy_off, const int *dw_off,
                            const int *db_off) {
  init();
  int fast = 1;
  size_t row = 0;
  for (int e = 0; e < groups; e++) {
    int c = counts[e] > 0 ? counts[e] : 0;
    const float *x = heap + (size_t)x_off + row * (size_t)k;
    const float *dy = heap + (size_t)dy_off + row * (size_t)n;
    float *dw = heap + (size_t)dw_off[e];
#if defined(__x86_64__)
    float *tmp = avx512() && c <= small_rows ? scratch_of(3, 4 * (size_t)n) : NULL;
    if (tmp) {
      if (c == 0) stream_zero(dw, (size_t)k * (size_t)n);
      else tn_small(c, n, k, x, dy, dw, tmp);
    } else
#endif
    if (c == 0) memset(dw, 0, sizeof(float) * (size_t)k * (size_t)n);
    else if (!jit_gemm(1, k, n, c, x, k, dy, n, 0, dw, n)) {
      loop_gemm(1, 0, k, n, c, x, k, dy, n, 0, dw, n);
      fast = 0;
    }
    if (db_off) column_sums(c, n, dy, heap + (size_t)db_off[e]);
    row += (size_t)c;
  }
#if defined(__x86_64__)
  _mm_sfence(); /* the streaming stores are visible before the caller reads the gradients */
#endif
  return fast;
}

/* ---------- the machine's fp32 FMA peak on one core ---------- */

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma512(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++)
    for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, acc[i]);
  return (double)_mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) static double fma256(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++)
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
  float f[8];
  _mm256_storeu_ps(f, s);
  return (double)(f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7]);
}
#endif

/* Widest FMA this CPU runs: 512, 256, or 0 (none this wrapper knows). */
int mpx_fma_width(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
#endif
  return 0;
}

static volatile double sink;
/* GFLOP/s of `iters` rounds of 12 independent FMA chains at the widest width (one core). */
double mpx_fma_gflops(long iters) {
  int w = mpx_fma_width();
  if (w == 0) return 0;
  double t0 = now_s();
#if defined(__x86_64__)
  sink = w == 512 ? fma512(iters) : fma256(iters);
#endif
  double s = now_s() - t0;
  return (double)iters * 12.0 * (w / 32) * 2.0 / s / 1e9;
}

/* ---------- Adam in one pass ---------- */

/*
 * m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; p −= lr·m/(c1·(sqrt(v/c2) + eps))
 * with c1 = 1 − b1^t, c2 = 1 − b2^t (tfjs's AdamOptimizer: lr·m̂/(sqrt(v̂)+eps)).
 * Cloned for AVX-512, AVX2 and baseline x86-64, picked at load by the dynamic linker.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void mpx_adam(int n, float *p, float *m, float *v, const float *g, float lr, float b1, float b2, float eps, float c1, float c2) {
  const float a1 = 1.0f - b1, a2 = 1.0f - b2, ic1 = 1.0f / c1, ic2 = 1.0f / c2;
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + a1 * gi;
    float vi = b2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * ic1) / (__builtin_sqrtf(vi * ic2) + eps);
  }
}
