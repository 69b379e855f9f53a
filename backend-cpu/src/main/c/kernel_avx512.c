/*
 * AVX-512 kernels with BF16 dot products (vdpbf16ps). Built with -mavx512f -mavx512bw -mavx512vl
 * -mavx512bf16 -mfma; only called when cpuid reports all of them (see moe_cpu_best_isa).
 *
 * Micro-kernel: one pair group (2 x 16 weight rows) x nt tokens over the whole K. For every
 * k pair, the weight operand is one zmm (lane = row, two bf16 = two consecutive k); the token
 * operand is a broadcast 32-bit pair of its bf16 activations. MXFP4 is decoded in registers:
 * one 512-bit load gives four k pairs (nibble q of every 16-bit word), a shift by 4q and a vpermw
 * over the E2M1->bf16 table turn it into the dot operand. The block's E8M0 scales (one per row,
 * i.e. per lane) multiply the block's partial sums in fp32.
 */
#include "moe_cpu.h"
#include <immintrin.h>
#include <string.h>

#ifndef MOE_PF_LINE
#define MOE_PF_LINE 4096
#endif
#ifndef MOE_PF_PAGE
#define MOE_PF_PAGE 4096
#endif
#ifndef NT_MAX
#define NT_MAX 6
#endif

static const uint16_t E2M1_BF16[32] __attribute__((aligned(64))) = {
    0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040, 0x4080, 0x40C0,
    0x8000, 0xBF00, 0xBF80, 0xBFC0, 0xC000, 0xC040, 0xC080, 0xC0C0,
    0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040, 0x4080, 0x40C0,
    0x8000, 0xBF00, 0xBF80, 0xBFC0, 0xC000, 0xC040, 0xC080, 0xC0C0};

static inline __m512 scales16(const uint8_t *s) {
    __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)s));
    __m512i bits = _mm512_slli_epi32(v, 23);
    __mmask16 zero = _mm512_cmpeq_epi32_mask(v, _mm512_setzero_si512());
    __mmask16 nan = _mm512_cmpeq_epi32_mask(v, _mm512_set1_epi32(255));
    bits = _mm512_mask_mov_epi32(bits, zero, _mm512_set1_epi32(0x00400000)); /* 2^-127 */
    bits = _mm512_mask_mov_epi32(bits, nan, _mm512_set1_epi32(0x7FC00000));  /* NaN */
    return _mm512_castsi512_ps(bits);
}

static inline __m512bh bcast_pair(const uint16_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return (__m512bh)_mm512_set1_epi32(v);
}

/* The nibble q of each 16-bit word, decoded to bf16. */
#define DEC(w, q, tab) ((__m512bh)_mm512_permutexvar_epi16((q) == 0 ? (w) : _mm512_srli_epi16((w), 4 * (q)), (tab)))

/*
 * accA/accB[t] = sum_k W[row][k] * x_t[k] for the 16 rows of group A / B.
 * NQ independent partial accumulators per (token, group) hide the vdpbf16ps latency when nt is small.
 */
static inline __attribute__((always_inline)) void mk_mxfp4(const uint8_t *rec, const uint8_t *srec, int nkb,
                                                           const int nt, const int NQ, int pf,
                                                           const uint16_t *const *xs, __m512 *accA,
                                                           __m512 *accB) {
    const __m512i tab = _mm512_load_si512((const void *)E2M1_BF16);
    #pragma GCC unroll 16
    for (int t = 0; t < nt; t++) {
        accA[t] = _mm512_setzero_ps();
        accB[t] = _mm512_setzero_ps();
    }
    for (int kb = 0; kb < nkb; kb++) {
        __m512 bA[NT_MAX][4], bB[NT_MAX][4];
        #pragma GCC unroll 16
        for (int t = 0; t < nt; t++) {
            #pragma GCC unroll 16
            for (int a = 0; a < NQ; a++) {
                bA[t][a] = _mm512_setzero_ps();
                bB[t][a] = _mm512_setzero_ps();
            }
        }
        const uint8_t *r = rec + (size_t)kb * 512;
        if (MOE_PF_LINE > 0 && pf && nt > 2) {
            /* many tokens: the loop is slow per byte, so prefetching every line ahead does not
             * exhaust the miss buffers and hides the first tile's memory latency */
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) {
                _mm_prefetch((const char *)(r + MOE_PF_LINE + 64 * l), _MM_HINT_T0);
            }
            if ((kb & 1) == 0) {
                _mm_prefetch((const char *)(srec + (size_t)kb * 32 + MOE_PF_LINE / 16), _MM_HINT_T0);
            }
        } else if (MOE_PF_PAGE > 0 && pf) {
            /* The first token tile streams the weights from memory. Touch the start of each 4 KiB
             * page MOE_PF_PAGE bytes ahead and let the hardware streamer fetch the rest of it:
             * prefetching every line instead (tried: 8-16 prefetches per block, 4-64 KiB ahead)
             * fills the miss buffers and stalls the loop, serializing memory and compute. */
            const char *a = (const char *)r + MOE_PF_PAGE;
            if (((uintptr_t)a & 4095) < 512) {
                const char *pg = (const char *)((uintptr_t)a & ~(uintptr_t)4095);
                _mm_prefetch(pg, _MM_HINT_T1);
                _mm_prefetch(pg + 64, _MM_HINT_T1);
                _mm_prefetch((const char *)(srec + (size_t)kb * 32 + MOE_PF_PAGE / 16), _MM_HINT_T1);
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m512i wa = _mm512_load_si512((const void *)(r + c * 64));
            __m512i wb = _mm512_load_si512((const void *)(r + 256 + c * 64));
#define MK_Q(q)                                                                                  \
    {                                                                                            \
        __m512bh da = DEC(wa, q, tab);                                                           \
        __m512bh db = DEC(wb, q, tab);                                                           \
        _Pragma("GCC unroll 16") for (int t = 0; t < nt; t++) {                                \
            __m512bh xb = bcast_pair(xs[t] + kb * 32 + 2 * (4 * c + (q)));                      \
            bA[t][(q) % NQ] = _mm512_dpbf16_ps(bA[t][(q) % NQ], da, xb);                         \
            bB[t][(q) % NQ] = _mm512_dpbf16_ps(bB[t][(q) % NQ], db, xb);                         \
        }                                                                                        \
    }
            MK_Q(0) MK_Q(1) MK_Q(2) MK_Q(3)
#undef MK_Q
        }
        __m512 sA = scales16(srec + (size_t)kb * 32);
        __m512 sB = scales16(srec + (size_t)kb * 32 + 16);
        #pragma GCC unroll 16
        for (int t = 0; t < nt; t++) {
            __m512 pa = bA[t][0], pb = bB[t][0];
            #pragma GCC unroll 16
            for (int a = 1; a < NQ; a++) {
                pa = _mm512_add_ps(pa, bA[t][a]);
                pb = _mm512_add_ps(pb, bB[t][a]);
            }
            accA[t] = _mm512_fmadd_ps(pa, sA, accA[t]);
            accB[t] = _mm512_fmadd_ps(pb, sB, accB[t]);
        }
    }
}

static inline __attribute__((always_inline)) void mk_bf16(const uint8_t *rec, int nkb, const int nt, const int NQ,
                                                          const uint16_t *const *xs, __m512 *accA,
                                                          __m512 *accB) {
    __m512 bA[NT_MAX][4], bB[NT_MAX][4];
    #pragma GCC unroll 16
    for (int t = 0; t < nt; t++) {
        #pragma GCC unroll 16
        for (int a = 0; a < NQ; a++) {
            bA[t][a] = _mm512_setzero_ps();
            bB[t][a] = _mm512_setzero_ps();
        }
    }
    for (int kb = 0; kb < nkb; kb++) {
        const uint8_t *r = rec + (size_t)kb * 2048;
        #pragma GCC unroll 16
        for (int kp = 0; kp < 16; kp++) {
            __m512bh da = (__m512bh)_mm512_load_si512((const void *)(r + kp * 64));
            __m512bh db = (__m512bh)_mm512_load_si512((const void *)(r + 1024 + kp * 64));
            #pragma GCC unroll 16
            for (int t = 0; t < nt; t++) {
                __m512bh xb = bcast_pair(xs[t] + kb * 32 + 2 * kp);
                bA[t][kp % NQ] = _mm512_dpbf16_ps(bA[t][kp % NQ], da, xb);
                bB[t][kp % NQ] = _mm512_dpbf16_ps(bB[t][kp % NQ], db, xb);
            }
        }
    }
    #pragma GCC unroll 16
    for (int t = 0; t < nt; t++) {
        __m512 pa = bA[t][0], pb = bB[t][0];
        #pragma GCC unroll 16
        for (int a = 1; a < NQ; a++) {
            pa = _mm512_add_ps(pa, bA[t][a]);
            pb = _mm512_add_ps(pb, bB[t][a]);
        }
        accA[t] = pa;
        accB[t] = pb;
    }
}

/* Dispatches on nt so each call site is specialized with a constant token count; NQ partial sums
 * per (token, group) keep at least 8 vdpbf16ps chains in flight. */
#if NT_MAX >= 6
#define CASES_ABOVE_4(call) case 5: call(5, 1); break; default: call(6, 1); break;
#elif NT_MAX == 5
#define CASES_ABOVE_4(call) default: call(5, 1); break;
#else
#define CASES_ABOVE_4(call) default: break;
#endif

static void pair_group(const moe_layer *L, const uint8_t *rec, const uint8_t *srec, int nkb, int nt, int pf,
                       const uint16_t *const *xs, __m512 *accA, __m512 *accB) {
#define CALL_MX(n, q) mk_mxfp4(rec, srec, nkb, n, q, pf, xs, accA, accB)
#define CALL_BF(n, q) mk_bf16(rec, nkb, n, q, xs, accA, accB)
    if (L->wfmt == WFMT_MXFP4) {
        switch (nt) {
        case 1: CALL_MX(1, 4); break;
        case 2: CALL_MX(2, 2); break;
        case 3: CALL_MX(3, 2); break;
        case 4: CALL_MX(4, 1); break;
        CASES_ABOVE_4(CALL_MX)
        }
    } else {
        switch (nt) {
        case 1: CALL_BF(1, 4); break;
        case 2: CALL_BF(2, 2); break;
        case 3: CALL_BF(3, 2); break;
        case 4: CALL_BF(4, 1); break;
        CASES_ABOVE_4(CALL_BF)
        }
    }
#undef CALL_MX
#undef CALL_BF
}

/* exp(x) to about 2 ulp; NaN propagates, large |x| saturates to 0 / inf. */
static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x); /* max/min return the second operand on NaN */
    x = _mm512_min_ps(_mm512_set1_ps(104.0f), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* g * sigmoid(s * g) */
static inline __m512 gsig(__m512 g, __m512 s) {
    __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), s), g));
    return _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

static inline __m512 activate(const moe_layer *L, __m512 g, __m512 u) {
    switch (L->act) {
    case ACT_SWIGLU_OAI: {
        __m512 lim = _mm512_set1_ps(L->limit);
        g = _mm512_min_ps(lim, g);
        u = _mm512_min_ps(lim, _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), lim), u));
        return _mm512_mul_ps(gsig(g, _mm512_set1_ps(L->alpha)), _mm512_add_ps(u, _mm512_set1_ps(1.0f)));
    }
    case ACT_SILU:
        return _mm512_mul_ps(gsig(g, _mm512_set1_ps(1.0f)), u);
    default: {
        /* gelu_tanh(g) = g * sigmoid(2 * sqrt(2/pi) * (g + 0.044715 g^3)) */
        __m512 g3 = _mm512_mul_ps(_mm512_mul_ps(g, g), g);
        __m512 z = _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), g3, g);
        z = _mm512_mul_ps(z, _mm512_set1_ps(2.0f * 0.7978845608028654f));
        __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), z));
        return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
    }
    }
}

/* GEMM1 + bias + activation of expert e, pair groups [p0, p1), all its tokens. */
static void gemm1(const moe_fwd *f, int e, int p0, int p1) {
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    int P1 = I / 16, nkb = H / 32;
    size_t rec_bytes = L->wfmt == WFMT_MXFP4 ? 512 : 2048;
    __m512 accA[NT_MAX], accB[NT_MAX];
    const uint16_t *xs[NT_MAX];
    {
        int ne = f->cnt[e];
        if (ne == 0) {
            return;
        }
        const uint8_t *we = L->w13 + (size_t)e * L->rec1_stride_e;
        const uint8_t *se = L->w13s ? L->w13s + (size_t)e * P1 * nkb * 32 : NULL;
        for (int p = p0; p < p1; p++) {
            const uint8_t *rec = we + (size_t)p * nkb * rec_bytes;
            const uint8_t *srec = se ? se + (size_t)p * nkb * 32 : NULL;
            __m512 bg = _mm512_loadu_ps(L->bg + (size_t)e * I + 16 * p);
            __m512 bu = _mm512_loadu_ps(L->bu + (size_t)e * I + 16 * p);
            for (int s0 = 0; s0 < ne; s0 += NT_MAX) {
                int nt = ne - s0 < NT_MAX ? ne - s0 : NT_MAX;
                int slot0 = f->off[e] + s0;
                for (int t = 0; t < nt; t++) {
                    xs[t] = f->x + (size_t)f->slot_tok[slot0 + t] * H;
                }
                pair_group(L, rec, srec, nkb, nt, s0 == 0, xs, accA, accB);
                for (int t = 0; t < nt; t++) {
                    __m512 g = _mm512_add_ps(accA[t], bg), u = _mm512_add_ps(accB[t], bu);
                    if (f->d13 && f->slot_ad[slot0 + t] >= 0) {
                        const float *d = f->d13 + (size_t)(slot0 + t) * 2 * I + 16 * p;
                        g = _mm512_add_ps(g, _mm512_loadu_ps(d));
                        u = _mm512_add_ps(u, _mm512_loadu_ps(d + I));
                    }
                    __m512 a = activate(L, g, u);
                    __m256bh h = _mm512_cvtneps_pbh(a);
                    _mm256_storeu_si256((__m256i *)(f->act + (size_t)(slot0 + t) * I + 16 * p), (__m256i)h);
                }
            }
        }
    }
}

/* GEMM2 + bias + weighted scatter-add of output rows [32 q0, 32 q1), every expert in order. */
static void gemm2(const moe_fwd *f, int q0, int q1) {
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    int P2 = H / 32, nkb = I / 32;
    size_t rec_bytes = L->wfmt == WFMT_MXFP4 ? 512 : 2048;
    __m512 accA[NT_MAX], accB[NT_MAX];
    const uint16_t *xs[NT_MAX];
    for (int e = 0; e < L->E; e++) {
        int ne = f->cnt[e];
        if (ne == 0) {
            continue;
        }
        const uint8_t *we = L->w2 + (size_t)e * L->rec2_stride_e;
        const uint8_t *se = L->w2s ? L->w2s + (size_t)e * P2 * nkb * 32 : NULL;
        for (int q = q0; q < q1; q++) {
            const uint8_t *rec = we + (size_t)q * nkb * rec_bytes;
            const uint8_t *srec = se ? se + (size_t)q * nkb * 32 : NULL;
            __m512 b0 = _mm512_loadu_ps(L->b2 + (size_t)e * H + 32 * q);
            __m512 b1 = _mm512_loadu_ps(L->b2 + (size_t)e * H + 32 * q + 16);
            for (int s0 = 0; s0 < ne; s0 += NT_MAX) {
                int nt = ne - s0 < NT_MAX ? ne - s0 : NT_MAX;
                int slot0 = f->off[e] + s0;
                for (int t = 0; t < nt; t++) {
                    xs[t] = f->act + (size_t)(slot0 + t) * I;
                }
                pair_group(L, rec, srec, nkb, nt, s0 == 0, xs, accA, accB);
                for (int t = 0; t < nt; t++) {
                    __m512 w = _mm512_set1_ps(f->slot_w[slot0 + t]);
                    float *dst = f->acc + (size_t)f->slot_tok[slot0 + t] * H + 32 * q;
                    __m512 y0 = _mm512_mul_ps(w, _mm512_add_ps(accA[t], b0));
                    __m512 y1 = _mm512_mul_ps(w, _mm512_add_ps(accB[t], b1));
                    _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_loadu_ps(dst), y0));
                    _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_loadu_ps(dst + 16), y1));
                }
            }
        }
    }
}

static double dot_peak(long iters) {
    /* 16 independent vdpbf16ps chains: more than latency x throughput on current cores. */
    __m512 acc[16];
    for (int i = 0; i < 16; i++) {
        acc[i] = _mm512_set1_ps((float)i);
    }
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3C00); /* 2^-7 */
    __m512bh b = (__m512bh)_mm512_set1_epi16(0x3C00);
    for (long it = 0; it < iters; it++) {
        __asm__ volatile("" : "+v"(a), "+v"(b));
        for (int i = 0; i < 16; i++) {
            acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
        }
    }
    __m512 s = acc[0];
    for (int i = 1; i < 16; i++) {
        s = _mm512_add_ps(s, acc[i]);
    }
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return 64.0 * 16.0 * (double)iters;
}

static double read_sum(const uint8_t *p, size_t bytes) {
    __m512i s[8];
    for (int i = 0; i < 8; i++) {
        s[i] = _mm512_setzero_si512();
    }
    size_t n = bytes / 512;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *q = p + i * 512;
        for (int j = 0; j < 8; j++) {
            s[j] = _mm512_add_epi64(s[j], _mm512_load_si512((const void *)(q + 64 * j)));
        }
    }
    for (int j = 1; j < 8; j++) {
        s[0] = _mm512_xor_si512(s[0], s[j]);
    }
    return (double)_mm512_reduce_add_epi64(s[0]);
}

const moe_kernels moe_kernels_avx512 = {gemm1, gemm2, dot_peak, read_sum};
