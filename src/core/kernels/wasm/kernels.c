// Our wasm kernels (kernels.ts beside it registers them): causal multi-head attention, forward and backward, as
// one pass per (batch, head) over the rows (scores, softmax and the weighted sums never leave a [T] scratch row, and
// only j <= i is computed: the causal half), and the skinny matmuls of LoRA adapters.
// Runs on tfjs-backend-wasm's own heap: this module imports that memory and keeps nothing of its own (no data
// segment, no stack: every pointer is a tensor the caller allocated). Built by scripts/maintain/build-wasm.sh:
//   clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -Wl,--no-entry -Wl,--import-memory kernels.c
// Attention layout: q, k, v, o and their gradients are [B*T, C] row-major with the heads side by side (head h = columns
// h*hd .. h*hd+hd-1); hd must be a multiple of 4. stats holds, per (b, h, i), the row max m and 1/sum of exp.
// References: Dao et al. 2022 (FlashAttention: recompute P from saved row statistics, D_i = sum_j P_ij dP_ij).

#include <wasm_simd128.h>

typedef float f32;

#define SPLAT wasm_f32x4_splat

// c + a·b. The relaxed build (-mrelaxed-simd -DRELAXED, clang 19) makes it one f32x4.relaxed_madd, a fused multiply-add
// where the CPU has one (rounded once, so the last bits differ from the plain build's); the plain build, two
// instructions. The products, attention's sums and the norms' sums use it: V8's loops here are bound by instruction
// count more than by the floating-point pipes, so one instruction fewer per multiply-add is the gain
// (docs/PERFORMANCE.md).
#ifdef RELAXED
#define FMA(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define FMA(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))
#endif

// e^x for x <= 0 (scores minus their row max), as 2^n * 2^f with |f| <= 1/2; degree-6 Taylor for 2^f (rel. err ~2e-7)
static inline v128_t vexp(v128_t x) {
  x = wasm_f32x4_max(x, SPLAT(-87.0f));
  v128_t t = wasm_f32x4_mul(x, SPLAT(1.44269504f));
  v128_t n = wasm_f32x4_nearest(t);
  v128_t f = wasm_f32x4_sub(t, n);
  v128_t p = SPLAT(1.5403530e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(1.3333558e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(9.6181291e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(5.5504109e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(2.4022651e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(6.9314718e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), SPLAT(1.0f));
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, e);
}

static inline f32 hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// head (b, h) of a [B*T, C] matrix, transposed into dst [hd][Tp], zero-padded to Tp (T rounded up to 4) columns
static void head_transpose(const f32* src, f32* dst, int T, int Tp, int C, int hd) {
  for (int d = 0; d < hd; d++) {
    for (int j = 0; j < T; j++) dst[d * Tp + j] = src[j * C + d];
    for (int j = T; j < Tp; j++) dst[d * Tp + j] = 0.0f;
  }
}

// s[j] = scale * (x_i . y_j) for j < n4, from yT [hd][Tp]
static inline void row_dots(const f32* xi, const f32* yT, f32* s, int n4, int Tp, int hd, f32 scale) {
  for (int j = 0; j < n4; j += 4) {
    v128_t acc = SPLAT(0.0f);
    for (int d = 0; d < hd; d++) acc = FMA(SPLAT(xi[d]), wasm_v128_load(yT + d * Tp + j), acc);
    wasm_v128_store(s + j, wasm_f32x4_mul(acc, SPLAT(scale)));
  }
}

// p[j] = exp(s[j] - m) * inv for j <= i, 0 for i < j < n4
static inline void row_probs(f32* p, int n, int n4, f32 m, f32 inv) {
  for (int j = 0; j < n4; j += 4) wasm_v128_store(p + j, wasm_f32x4_mul(vexp(wasm_f32x4_sub(wasm_v128_load(p + j), SPLAT(m))), SPLAT(inv)));
  for (int j = n; j < n4; j++) p[j] = 0.0f;
}

// The two passes are written once (always_inline, hd a parameter) and specialised for the head widths the models use,
// so clang unrolls the inner loops over the head width; other multiples of 4 run the same code unspecialised.
#define INLINE static inline __attribute__((always_inline))
#define LD wasm_v128_load
#define ST wasm_v128_store
#define MUL wasm_f32x4_mul
#define ADD wasm_f32x4_add

INLINE void fwd_head(const f32* restrict q, const f32* restrict k, const f32* restrict v, f32* restrict o, f32* restrict st,
                     f32* restrict kT, f32* restrict p, int T, int Tp, int C, int Ckv, const int hd, f32 scale) {
  head_transpose(k, kT, T, Tp, Ckv, hd);
  for (int i = 0; i < T; i++) {
    const int n = i + 1, n4 = (n + 3) & ~3;
    row_dots(q + i * C, kT, p, n4, Tp, hd, scale);
    f32 m = p[0];
    for (int j = 1; j < n; j++) m = p[j] > m ? p[j] : m;
    row_probs(p, n, n4, m, 1.0f);
    v128_t sv = SPLAT(0.0f);
    for (int j = 0; j < n4; j += 4) sv = ADD(sv, LD(p + j));
    const f32 inv = 1.0f / hsum(sv);
    f32* oi = o + i * C;
    for (int d = 0; d < hd; d += 4) ST(oi + d, SPLAT(0.0f));
    for (int j = 0; j < n; j++) {
      const v128_t pj = SPLAT(p[j] * inv);
      for (int d = 0; d < hd; d += 4) ST(oi + d, FMA(pj, LD(v + j * Ckv + d), LD(oi + d)));
    }
    st[2 * i] = m;
    st[2 * i + 1] = inv;
  }
}

INLINE void bwd_head(const f32* restrict q, const f32* restrict k, const f32* restrict v, const f32* restrict dout,
                     const f32* restrict st, f32* restrict dq, f32* restrict dk, f32* restrict dv, f32* restrict kT,
                     f32* restrict vT, f32* restrict p, f32* restrict dp, int T, int Tp, int C, int Ckv, const int hd, f32 scale,
                     int zero) {
  head_transpose(k, kT, T, Tp, Ckv, hd);
  head_transpose(v, vT, T, Tp, Ckv, hd);
  if (zero) // the first query head of its group; the others add to the same dk, dv
    for (int j = 0; j < T; j++)
      for (int d = 0; d < hd; d += 4) {
        ST(dk + j * Ckv + d, SPLAT(0.0f));
        ST(dv + j * Ckv + d, SPLAT(0.0f));
      }
  for (int i = 0; i < T; i++) {
    const int n = i + 1, n4 = (n + 3) & ~3;
    const f32* qi = q + i * C;
    const f32* doi = dout + i * C;
    f32* dqi = dq + i * C;
    row_dots(qi, kT, p, n4, Tp, hd, scale);
    row_probs(p, n, n4, st[2 * i], st[2 * i + 1]); // P_ij, recomputed from the saved row statistics
    row_dots(doi, vT, dp, n4, Tp, hd, 1.0f);         // dP_ij = dO_i . v_j
    v128_t Dv = SPLAT(0.0f);
    for (int j = 0; j < n4; j += 4) Dv = FMA(LD(p + j), LD(dp + j), Dv);
    const f32 D = hsum(Dv);
    for (int d = 0; d < hd; d += 4) ST(dqi + d, SPLAT(0.0f));
    for (int j = 0; j < n; j++) {
      // dS_ij = P_ij (dP_ij - D_i), times scale: the scores were scale * q_i . k_j
      const v128_t ds = SPLAT(p[j] * (dp[j] - D) * scale), pj = SPLAT(p[j]);
      const int r = j * Ckv;
      for (int d = 0; d < hd; d += 4) {
        ST(dqi + d, FMA(ds, LD(k + r + d), LD(dqi + d)));
        ST(dk + r + d, FMA(ds, LD(qi + d), LD(dk + r + d)));
        ST(dv + r + d, FMA(pj, LD(doi + d), LD(dv + r + d)));
      }
    }
  }
}

#define BY_WIDTH(call) \
  switch (hd) {        \
    case 16: call(16); break; \
    case 32: call(32); break; \
    case 64: call(64); break; \
    default: call(hd); \
  }

// Grouped-query attention: k and v have nkv heads ([B*T, nkv*hd]), each read by the g = nh/nkv consecutive query
// heads (transformers' repeat_kv, without the repeated copies); nkv = nh is ordinary multi-head attention.
// scratch: hd*Tp + Tp floats
__attribute__((export_name("attn_fwd")))
void attn_fwd(const f32* q, const f32* k, const f32* v, f32* o, f32* stats, f32* scratch, int B, int T, int C, int nh,
              int nkv, f32 scale) {
  const int hd = C / nh, Tp = (T + 3) & ~3, g = nh / nkv, Ckv = nkv * hd;
  for (int b = 0; b < B; b++)
    for (int h = 0; h < nh; h++) {
      const int base = b * T * C + h * hd, kvbase = b * T * Ckv + (h / g) * hd;
      f32* st = stats + (b * nh + h) * T * 2;
#define FWD(W) fwd_head(q + base, k + kvbase, v + kvbase, o + base, st, scratch, scratch + (W) * Tp, T, Tp, C, Ckv, W, scale)
      BY_WIDTH(FWD)
    }
}

// scratch: 2*hd*Tp + 2*Tp floats. dq [B*T, C], dk and dv [B*T, nkv*hd] are fully written (no need to zero them
// first); a kv head's dk, dv sum its g query heads'.
__attribute__((export_name("attn_bwd")))
void attn_bwd(const f32* q, const f32* k, const f32* v, const f32* dout, const f32* stats, f32* dq, f32* dk, f32* dv, f32* scratch,
              int B, int T, int C, int nh, int nkv, f32 scale) {
  const int hd = C / nh, Tp = (T + 3) & ~3, g = nh / nkv, Ckv = nkv * hd;
  for (int b = 0; b < B; b++)
    for (int h = 0; h < nh; h++) {
      const int base = b * T * C + h * hd, kvbase = b * T * Ckv + (h / g) * hd;
      const f32* st = stats + (b * nh + h) * T * 2;
      f32* p = scratch + 2 * hd * Tp;
#define BWD(W) bwd_head(q + base, k + kvbase, v + kvbase, dout + base, st, dq + base, dk + kvbase, dv + kvbase, scratch, scratch + hd * Tp, p, p + Tp, T, Tp, C, Ckv, W, scale, h % g == 0)
      BY_WIDTH(BWD)
    }
}

// Skinny matmuls, the LoRA adapter's: C [M, N] = A·B (transA 0, A [M, K]) or Aᵀ·B (transA 1, A [K, M]), B [K, N]
// row-major, with min(M, N) small (the rank). XNNPACK packs B per call and tiles at least 8 columns, so x·A
// [2048, 64] × [64, 4] and the gradients xᵀ·g, gᵀ·dy ran at a fraction of its speed; here it is one pass.
__attribute__((export_name("mm_skinny")))
void mm_skinny(const f32* restrict a, const f32* restrict b, f32* restrict c, int M, int K, int N, int transA) {
  const int N4 = N & ~3;
  if (!transA) {
    for (int i = 0; i < M; i++) {
      const f32* ai = a + i * K;
      f32* ci = c + i * N;
      for (int j = 0; j < N4; j += 4) {
        v128_t acc = SPLAT(0.0f);
        for (int kk = 0; kk < K; kk++) acc = FMA(SPLAT(ai[kk]), LD(b + kk * N + j), acc);
        ST(ci + j, acc);
      }
      for (int j = N4; j < N; j++) {
        f32 acc = 0.0f;
        for (int kk = 0; kk < K; kk++) acc += ai[kk] * b[kk * N + j];
        ci[j] = acc;
      }
    }
    return;
  }
  for (int i = 0; i < M * N; i++) c[i] = 0.0f;
  for (int kk = 0; kk < K; kk++) {
    const f32* ak = a + kk * M;
    const f32* bk = b + kk * N;
    for (int i = 0; i < M; i++) {
      const v128_t s = SPLAT(ak[i]);
      f32* ci = c + i * N;
      for (int j = 0; j < N4; j += 4) ST(ci + j, FMA(s, LD(bk + j), LD(ci + j)));
      for (int j = N4; j < N; j++) ci[j] += ak[i] * bk[j];
    }
  }
}

// General matmuls, C [M, N] = A·B, A [M, K] row-major, B [K, N] (transB 0) or [N, K] read transposed (transB 1).
// tfjs-backend-wasm 4.22's XNNPACK reached 16-28 GFLOP/s on the model's shapes here, against a SIMD128 ceiling of
// ~58 (scripts/probes/simd-peak.ts); this 4 × 8 register tile (8 accumulators, two B vectors and one broadcast A
// value: 11 of the 16 vector registers, so V8 spills none) ran them at 1.2-2× XNNPACK's speed in a first measure.
// B is packed one panel at a time (8 columns of a block of MC_KC rows of K, [kc][8], zero-padded past N) into `pack`,
// which the caller provides: 8 · MC_KC floats, plus 8 for a partial tile's store. The panel is 8 KB, so it stays in
// L1 while every row of A streams past it; blocks of K after the first add into C.
#define MC_KC 256

// one panel: columns j..j+7 of B's rows k0..k0+kc-1 as [kc][8], zero past column N
static void pack_panel(const f32* restrict b, f32* restrict p, int j, int k0, int kc, int K, int N, int transB) {
  const int w = N - j < 8 ? N - j : 8;
  if (!transB && w == 8) {
    for (int k = 0; k < kc; k++) {
      ST(p + 8 * k, LD(b + (k0 + k) * N + j));
      ST(p + 8 * k + 4, LD(b + (k0 + k) * N + j + 4));
    }
    return;
  }
  for (int k = 0; k < kc; k++)
    for (int jj = 0; jj < 8; jj++)
      p[8 * k + jj] = jj >= w ? 0.0f : transB ? b[(j + jj) * K + k0 + k] : b[(k0 + k) * N + j + jj];
}

// rows of C from a tile's two vectors: all 8 columns, or the first w through tmp (the module owns no stack)
static inline void put_row(f32* o, v128_t v0, v128_t v1, int w, int add, f32* tmp) {
  if (w == 8) {
    if (add) {
      v0 = ADD(v0, LD(o));
      v1 = ADD(v1, LD(o + 4));
    }
    ST(o, v0);
    ST(o + 4, v1);
    return;
  }
  ST(tmp, v0);
  ST(tmp + 4, v1);
  for (int jj = 0; jj < w; jj++) o[jj] = add ? o[jj] + tmp[jj] : tmp[jj];
}

__attribute__((export_name("mm_packed")))
void mm_packed(const f32* restrict a, const f32* restrict b, f32* restrict c, f32* restrict pack, int M, int K, int N,
               int transB) {
  f32* tmp = pack + 8 * MC_KC;
  for (int k0 = 0; k0 < K; k0 += MC_KC) {
    const int kc = K - k0 < MC_KC ? K - k0 : MC_KC;
    const int add = k0 > 0;
    for (int j = 0; j < N; j += 8) {
      pack_panel(b, pack, j, k0, kc, K, N, transB);
      const f32* pb = pack;
      const int w = N - j < 8 ? N - j : 8;
      int i = 0;
      for (; i + 4 <= M; i += 4) {
        const f32* a0 = a + i * K + k0;
        const f32* a1 = a0 + K;
        const f32* a2 = a1 + K;
        const f32* a3 = a2 + K;
        v128_t c00 = SPLAT(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        const f32* q = pb;
        for (int k = 0; k < kc; k++, q += 8) {
          const v128_t b0 = LD(q), b1 = LD(q + 4);
          v128_t x = wasm_v128_load32_splat(a0 + k);
          c00 = FMA(x, b0, c00);
          c01 = FMA(x, b1, c01);
          x = wasm_v128_load32_splat(a1 + k);
          c10 = FMA(x, b0, c10);
          c11 = FMA(x, b1, c11);
          x = wasm_v128_load32_splat(a2 + k);
          c20 = FMA(x, b0, c20);
          c21 = FMA(x, b1, c21);
          x = wasm_v128_load32_splat(a3 + k);
          c30 = FMA(x, b0, c30);
          c31 = FMA(x, b1, c31);
        }
        f32* o = c + i * N + j;
        put_row(o, c00, c01, w, add, tmp);
        put_row(o + N, c10, c11, w, add, tmp);
        put_row(o + 2 * N, c20, c21, w, add, tmp);
        put_row(o + 3 * N, c30, c31, w, add, tmp);
      }
      for (; i < M; i++) {
        const f32* ai = a + i * K + k0;
        v128_t c0 = SPLAT(0.0f), c1 = c0;
        const f32* q = pb;
        for (int k = 0; k < kc; k++, q += 8) {
          const v128_t x = wasm_v128_load32_splat(ai + k);
          c0 = FMA(x, LD(q), c0);
          c1 = FMA(x, LD(q + 4), c1);
        }
        put_row(c + i * N + j, c0, c1, w, add, tmp);
      }
    }
  }
}

// LayerNorm over rows of x [N, C] (C a multiple of 4): y = (x - mean) / sqrt(var + eps) * g + b, one pass to read
// the row statistics and one to write; stats [N, 2] keeps (mean, 1/sigma) for the backward pass.
__attribute__((export_name("ln_fwd")))
void ln_fwd(const f32* restrict x, const f32* restrict g, const f32* restrict b, f32* restrict y, f32* restrict stats, int N, int C, f32 eps) {
  for (int i = 0; i < N; i++) {
    const f32* xi = x + i * C;
    v128_t s = SPLAT(0.0f);
    for (int c = 0; c < C; c += 4) s = ADD(s, LD(xi + c));
    const f32 mean = hsum(s) / C;
    v128_t q = SPLAT(0.0f);
    for (int c = 0; c < C; c += 4) {
      const v128_t d = wasm_f32x4_sub(LD(xi + c), SPLAT(mean));
      q = FMA(d, d, q);
    }
    const f32 rstd = 1.0f / __builtin_sqrtf(hsum(q) / C + eps);
    f32* yi = y + i * C;
    for (int c = 0; c < C; c += 4) ST(yi + c, ADD(MUL(MUL(wasm_f32x4_sub(LD(xi + c), SPLAT(mean)), SPLAT(rstd)), LD(g + c)), LD(b + c)));
    stats[2 * i] = mean;
    stats[2 * i + 1] = rstd;
  }
}

// dx = (1/sigma)(dxh - mean(dxh) - xh * mean(dxh * xh)) with dxh = dy * g; dg = sum_rows dy * xh; db = sum_rows dy
__attribute__((export_name("ln_bwd")))
void ln_bwd(const f32* restrict dy, const f32* restrict x, const f32* restrict g, const f32* restrict stats, f32* restrict dx,
            f32* restrict dg, f32* restrict db, int N, int C) {
  for (int c = 0; c < C; c += 4) {
    ST(dg + c, SPLAT(0.0f));
    ST(db + c, SPLAT(0.0f));
  }
  for (int i = 0; i < N; i++) {
    const f32* xi = x + i * C;
    const f32* dyi = dy + i * C;
    const v128_t mean = SPLAT(stats[2 * i]), rstd = SPLAT(stats[2 * i + 1]);
    v128_t sa = SPLAT(0.0f), sb = SPLAT(0.0f);
    for (int c = 0; c < C; c += 4) {
      const v128_t xh = MUL(wasm_f32x4_sub(LD(xi + c), mean), rstd), d = LD(dyi + c), dxh = MUL(d, LD(g + c));
      sa = ADD(sa, dxh);
      sb = FMA(dxh, xh, sb);
      ST(dg + c, FMA(d, xh, LD(dg + c)));
      ST(db + c, ADD(LD(db + c), d));
    }
    const v128_t ma = SPLAT(hsum(sa) / C), mb = SPLAT(hsum(sb) / C);
    f32* dxi = dx + i * C;
    for (int c = 0; c < C; c += 4) {
      const v128_t xh = MUL(wasm_f32x4_sub(LD(xi + c), mean), rstd), dxh = MUL(LD(dyi + c), LD(g + c));
      ST(dxi + c, MUL(rstd, wasm_f32x4_sub(wasm_f32x4_sub(dxh, ma), MUL(xh, mb))));
    }
  }
}

// sigma(z) = 1 / (1 + e^-z), through e^-|z| <= 1 so it never overflows
static inline v128_t vsigmoid(v128_t z) {
  const v128_t t = vexp(wasm_f32x4_neg(wasm_f32x4_abs(z)));
  const v128_t r = wasm_f32x4_div(SPLAT(1.0f), ADD(SPLAT(1.0f), t));
  return wasm_v128_bitselect(r, MUL(t, r), wasm_f32x4_ge(z, SPLAT(0.0f)));
}

#define GELU_C2 1.5957691216f  // 2·sqrt(2/pi)
#define GELU_K 0.044715f

// GPT-2's tanh GELU as x·sigma(2u), u = sqrt(2/pi)(x + 0.044715 x^3), over n >= 4 values (the last, partial group
// of 4 is redone overlapping: elementwise and out of place, so that is harmless)
__attribute__((export_name("gelu_fwd")))
void gelu_fwd(const f32* restrict x, f32* restrict y, int n) {
  for (int i = 0;; i += 4) {
    if (i > n - 4) i = n - 4;
    const v128_t xv = LD(x + i);
    const v128_t z = MUL(xv, FMA(MUL(xv, xv), SPLAT(GELU_C2 * GELU_K), SPLAT(GELU_C2)));
    ST(y + i, MUL(xv, vsigmoid(z)));
    if (i == n - 4) break;
  }
}

// dx = dy · sigma · (1 + x (1 − sigma) · 2u'),  2u' = 2c (1 + 3k x^2)
__attribute__((export_name("gelu_bwd")))
void gelu_bwd(const f32* restrict x, const f32* restrict dy, f32* restrict dx, int n) {
  for (int i = 0;; i += 4) {
    if (i > n - 4) i = n - 4;
    const v128_t xv = LD(x + i), x2 = MUL(xv, xv);
    const v128_t s = vsigmoid(MUL(xv, FMA(x2, SPLAT(GELU_C2 * GELU_K), SPLAT(GELU_C2))));
    const v128_t dz = FMA(x2, SPLAT(3.0f * GELU_C2 * GELU_K), SPLAT(GELU_C2));
    const v128_t inner = FMA(MUL(xv, wasm_f32x4_sub(SPLAT(1.0f), s)), dz, SPLAT(1.0f));
    ST(dx + i, MUL(MUL(LD(dy + i), s), inner));
    if (i == n - 4) break;
  }
}

// dst [n, C, R] = src [n, R, C] with the last two axes swapped, in 4 x 4 SIMD blocks (wasm's Transpose took 6.4 ms
// for a [1024, 512] matrix, more than the matmul it fed); ragged edges element by element
__attribute__((export_name("transpose_last2")))
void transpose_last2(const f32* restrict src, f32* restrict dst, int n, int R, int C) {
  const int R4 = R & ~3, C4 = C & ~3;
  for (int m = 0; m < n; m++, src += R * C, dst += R * C) {
    for (int i = 0; i < R4; i += 4) {
      for (int j = 0; j < C4; j += 4) {
        const v128_t r0 = LD(src + i * C + j), r1 = LD(src + (i + 1) * C + j), r2 = LD(src + (i + 2) * C + j), r3 = LD(src + (i + 3) * C + j);
        const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        ST(dst + j * R + i, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
        ST(dst + (j + 1) * R + i, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
        ST(dst + (j + 2) * R + i, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
        ST(dst + (j + 3) * R + i, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (int j = C4; j < C; j++)
        for (int ii = i; ii < i + 4; ii++) dst[j * R + ii] = src[ii * C + j];
    }
    for (int i = R4; i < R; i++)
      for (int j = 0; j < C; j++) dst[j * R + i] = src[i * C + j];
  }
}

// log x for x >= 1 (a softmax's sum of exponentials, its largest term e^0): x = 2^e·m, m in [√½, √2),
// log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| <= 0.172, by its series to s^9 (error ~1e-9)
static inline f32 log_ge1(f32 x) {
  union { f32 f; int i; } u = {x};
  int e = ((u.i >> 23) & 255) - 127;
  u.i = (u.i & 0x007fffff) | 0x3f800000;
  f32 m = u.f;
  if (m > 1.41421356f) { m *= 0.5f; e += 1; }
  const f32 s = (m - 1.0f) / (m + 1.0f), z = s * s;
  return e * 0.69314718f + 2.0f * s * (1.0f + z * (1.0f / 3 + z * (1.0f / 5 + z * (1.0f / 7 + z * (1.0f / 9)))));
}

static inline f32 exp_le0(f32 x) { return wasm_f32x4_extract_lane(vexp(SPLAT(x)), 0); }

// Softmax and negative log-likelihood of each row of logits [N, V]: probs [N, V], nll[i] = −log p[i, t[i]]
__attribute__((export_name("ce_fwd")))
void ce_fwd(const f32* restrict lg, const int* restrict t, f32* restrict probs, f32* restrict nll, int N, int V) {
  const int V4 = V & ~3;
  for (int i = 0; i < N; i++) {
    const f32* x = lg + i * V;
    f32* p = probs + i * V;
    f32 m = x[0];
    for (int j = 1; j < V; j++) m = x[j] > m ? x[j] : m;
    v128_t sv = SPLAT(0.0f);
    for (int j = 0; j < V4; j += 4) {
      const v128_t e = vexp(wasm_f32x4_sub(LD(x + j), SPLAT(m)));
      ST(p + j, e);
      sv = ADD(sv, e);
    }
    f32 sum = hsum(sv);
    for (int j = V4; j < V; j++) sum += (p[j] = exp_le0(x[j] - m));
    const v128_t inv = SPLAT(1.0f / sum);
    for (int j = 0; j < V4; j += 4) ST(p + j, MUL(LD(p + j), inv));
    for (int j = V4; j < V; j++) p[j] /= sum;
    nll[i] = log_ge1(sum) - (x[t[i]] - m);
  }
}

// d logits = (probs − onehot(t)) · coef[i]
__attribute__((export_name("ce_bwd")))
void ce_bwd(const f32* restrict probs, const int* restrict t, const f32* restrict coef, f32* restrict dlg, int N, int V) {
  const int V4 = V & ~3;
  for (int i = 0; i < N; i++) {
    const f32* p = probs + i * V;
    f32* d = dlg + i * V;
    const v128_t c = SPLAT(coef[i]);
    for (int j = 0; j < V4; j += 4) ST(d + j, MUL(LD(p + j), c));
    for (int j = V4; j < V; j++) d[j] = p[j] * coef[i];
    d[t[i]] -= coef[i];
  }
}
