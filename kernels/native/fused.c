/*
 * middlepath's fused elementwise kernels (kernels/fused-elementwise.ts registers them for wasm),
 * compiled into the same shared object as the libxsmm wrapper (xsmm.c) by build.mjs. Each is one
 * pass over rows of a row-major float32 array, in place of the 5–20 tfjs kernels (each writing a
 * tensor) that the composite ops run:
 *
 * - mpx_gelu / mpx_gelu_grad: GELU, tanh form (GPT-2), and its derivative times dy.
 * - mpx_layernorm / mpx_layernorm_grad / mpx_layernorm_grad_gain: LayerNorm over the last axis
 *   (two-pass mean and variance, as tf.moments), saving each row's mean and 1/σ for the
 *   backward passes: dx, and the gain's gradient (each only where the tape asks for it).
 * - mpx_xent / mpx_xent_grad: the log-probability of each row's label under softmax(logits)
 *   (minus its cross-entropy), and its gradient (a label outside [0, classes) gives 0 and no
 *   gradient, as tf.oneHot's zero row does).
 * - mpx_masked_softmax / mpx_masked_softmax_grad: attention's softmax(scores·scale + mask) and its
 *   gradient to the scores.
 * - mpx_sum_mid: x [pre, red, post] summed over the middle axis (bias and gain gradients), which
 *   the stock wasm Sum does by transposing first.
 *
 * Sums run in a fixed order (16 lanes, then those added in order), so a result does not depend
 * on which clone runs. Cloned for x86-64-v4 (AVX-512), v3 (AVX2+FMA) and baseline, picked at load.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* bumped whenever any kernel here changes its arithmetic: the hardware class names it (fused-elementwise.ts) */
int mpx_fused_version(void) { return 1; }

/* e^x to ~2 ulp on [-87, 88] (Cephes' expf polynomial), branch-free so loops over it vectorise */
static inline float exp_f(float in) {
  float x = in < -87.0f ? -87.0f : in;
  x = x > 88.0f ? 88.0f : x;
  /* round to nearest by the 1.5·2^23 trick (no rintf call in the loop) */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  union {
    float f;
    int32_t i;
  } s;
  s.i = ((int32_t)n + 127) << 23;
  return in < -87.0f ? 0.0f : y * s.f; /* 0 below the clamp, as expf's underflow (a −1e9 attention mask) */
}

static inline float tanh_f(float u) { return 1.0f - 2.0f / (exp_f(2.0f * u) + 1.0f); }

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

CLONES void mpx_gelu(int n, const float *x, float *y) {
  for (int i = 0; i < n; i++) {
    float v = x[i];
    float t = tanh_f(GELU_C * (v + GELU_A * v * v * v));
    y[i] = 0.5f * v * (1.0f + t);
  }
}

/* dx = dy · (½(1 + t) + ½x(1 − t²)·c(1 + 3a·x²)), t = tanh(c(x + a·x³)) */
CLONES void mpx_gelu_grad(int n, const float *x, const float *dy, float *dx) {
  for (int i = 0; i < n; i++) {
    float v = x[i];
    float t = tanh_f(GELU_C * (v + GELU_A * v * v * v));
    float du = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
  }
}

#define LANES 16

/* Σ x[0..d) in a fixed order: 16 lane sums over the full blocks, then the lanes and the tail in order */
static inline float sum_f(const float *x, int d) {
  float acc[LANES] = {0};
  int j = 0;
  for (; j + LANES <= d; j += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += x[j + l];
  float s = 0;
  for (int l = 0; l < LANES; l++) s += acc[l];
  for (; j < d; j++) s += x[j];
  return s;
}

/* Σ (x − m)² over d */
static inline float sumsq_f(const float *x, float m, int d) {
  float acc[LANES] = {0};
  int j = 0;
  for (; j + LANES <= d; j += LANES)
    for (int l = 0; l < LANES; l++) {
      float c = x[j + l] - m;
      acc[l] += c * c;
    }
  float s = 0;
  for (int l = 0; l < LANES; l++) s += acc[l];
  for (; j < d; j++) s += (x[j] - m) * (x[j] - m);
  return s;
}

/* Σ a·b over d */
static inline float dot_f(const float *a, const float *b, int d) {
  float acc[LANES] = {0};
  int j = 0;
  for (; j + LANES <= d; j += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (int l = 0; l < LANES; l++) s += acc[l];
  for (; j < d; j++) s += a[j] * b[j];
  return s;
}

/* y = (x − mean)/sqrt(var + eps)·gain + bias per row of d; mean and rstd = 1/sqrt(var + eps) saved per row */
CLONES void mpx_layernorm(int rows, int d, const float *x, const float *gain, const float *bias, float eps, float *y, float *mean,
                          float *rstd) {
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (size_t)i * d;
    float *yi = y + (size_t)i * d;
    float m = sum_f(xi, d) / (float)d;
    float r = 1.0f / sqrtf(sumsq_f(xi, m, d) / (float)d + eps);
    for (int j = 0; j < d; j++) yi[j] = (xi[j] - m) * r * gain[j] + bias[j];
    mean[i] = m;
    rstd[i] = r;
  }
}

/* x̂ = (x − mean)·rstd, g = dy·gain: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per row */
CLONES void mpx_layernorm_grad(int rows, int d, const float *dy, const float *x, const float *gain, const float *mean,
                               const float *rstd, float *dx) {
  float g[d], xh[d]; /* one row's dy·gain and x̂ (d is a layer's width: a few KiB at most) */
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (size_t)i * d, *dyi = dy + (size_t)i * d;
    float *dxi = dx + (size_t)i * d;
    float m = mean[i], r = rstd[i];
    for (int j = 0; j < d; j++) {
      xh[j] = (xi[j] - m) * r;
      g[j] = dyi[j] * gain[j];
    }
    float mg = sum_f(g, d) / (float)d;
    float mgx = dot_f(g, xh, d) / (float)d;
    for (int j = 0; j < d; j++) dxi[j] = r * (g[j] - mg - xh[j] * mgx);
  }
}

/* dgain = Σ_rows dy·x̂ (rows in order); the bias gradient is Σ_rows dy, a plain Sum */
CLONES void mpx_layernorm_grad_gain(int rows, int d, const float *dy, const float *x, const float *mean, const float *rstd,
                                    float *dgain) {
  memset(dgain, 0, sizeof(float) * (size_t)d);
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (size_t)i * d, *dyi = dy + (size_t)i * d;
    float m = mean[i], r = rstd[i];
    for (int j = 0; j < d; j++) dgain[j] += dyi[j] * ((xi[j] - m) * r);
  }
}

/* logp[i] = x_i[label_i] − logΣexp(x_i); lse[i] = logΣexp(x_i) saved for the backward pass */
CLONES void mpx_xent(int rows, int classes, const float *logits, const int32_t *labels, float *logp, float *lse) {
  for (int i = 0; i < rows; i++) {
    const float *xi = logits + (size_t)i * classes;
    float mx = xi[0];
    for (int j = 1; j < classes; j++) mx = xi[j] > mx ? xi[j] : mx;
    float acc[LANES] = {0};
    int j = 0;
    for (; j + LANES <= classes; j += LANES)
      for (int l = 0; l < LANES; l++) acc[l] += exp_f(xi[j + l] - mx);
    float s = 0;
    for (int l = 0; l < LANES; l++) s += acc[l];
    for (; j < classes; j++) s += exp_f(xi[j] - mx);
    float z = mx + logf(s);
    int32_t y = labels[i];
    lse[i] = z;
    logp[i] = y >= 0 && y < classes ? xi[y] - z : 0.0f;
  }
}

/* dx = dlogp[i]·(onehot(label_i) − softmax(x_i)); a row whose label is out of range gets zeros */
CLONES void mpx_xent_grad(int rows, int classes, const float *logits, const int32_t *labels, const float *lse, const float *dlogp,
                          float *dx) {
  for (int i = 0; i < rows; i++) {
    const float *xi = logits + (size_t)i * classes;
    float *dxi = dx + (size_t)i * classes;
    int32_t y = labels[i];
    if (y < 0 || y >= classes) {
      memset(dxi, 0, sizeof(float) * (size_t)classes);
      continue;
    }
    float z = lse[i], g = dlogp[i];
    for (int j = 0; j < classes; j++) dxi[j] = -g * exp_f(xi[j] - z);
    dxi[y] += g;
  }
}

/*
 * Attention's probabilities: y = softmax(x·scale + mask) over rows of t, the mask [mrows, t]
 * broadcast over the leading axes (row i takes mask row i mod mrows).
 */
CLONES void mpx_masked_softmax(int rows, int t, const float *x, const float *mask, int mrows, float scale, float *y) {
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (size_t)i * t, *mi = mask + (size_t)(i % mrows) * t;
    float *yi = y + (size_t)i * t;
    float mx = -INFINITY;
    for (int j = 0; j < t; j++) {
      yi[j] = xi[j] * scale + mi[j];
      mx = yi[j] > mx ? yi[j] : mx;
    }
    for (int j = 0; j < t; j++) yi[j] = exp_f(yi[j] - mx);
    float inv = 1.0f / sum_f(yi, t);
    for (int j = 0; j < t; j++) yi[j] *= inv;
  }
}

/* dx = scale·y·(dy − Σ dy·y) per row of t */
CLONES void mpx_masked_softmax_grad(int rows, int t, const float *y, const float *dy, float scale, float *dx) {
  for (int i = 0; i < rows; i++) {
    const float *yi = y + (size_t)i * t, *dyi = dy + (size_t)i * t;
    float *dxi = dx + (size_t)i * t;
    float s = dot_f(dyi, yi, t);
    for (int j = 0; j < t; j++) dxi[j] = scale * yi[j] * (dyi[j] - s);
  }
}

/* out[a, b] = Σ_r x[a, r, b] for x [pre, red, post], r in order */
CLONES void mpx_sum_mid(int pre, int red, int post, const float *x, float *out) {
  for (int a = 0; a < pre; a++) {
    float *o = out + (size_t)a * post;
    const float *xa = x + (size_t)a * red * post;
    memset(o, 0, sizeof(float) * (size_t)post);
    for (int r = 0; r < red; r++) {
      const float *row = xa + (size_t)r * post;
      for (int b = 0; b < post; b++) o[b] += row[b];
    }
  }
}
