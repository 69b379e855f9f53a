/*
 * Portable kernels over the prepared layout (see moe_cpu.h). Included by kernel_scalar.c (built
 * with the baseline flags) and kernel_avx2.c (built with -mavx2 -mfma, where gcc vectorizes the
 * k-major inner loops over the 32 rows of a pair group). Define GSUFFIX before including.
 */
#include "moe_cpu.h"
#include <math.h>
#include <string.h>

#define GCAT2(a, b) a##_##b
#define GCAT(a, b) GCAT2(a, b)
#define G(name) GCAT(name, GSUFFIX)

#define G_NT 8

static inline float G(act_f)(int act, float g, float u, float alpha, float limit) {
    switch (act) {
    case ACT_SWIGLU_OAI:
        g = g > limit ? limit : g;                       /* NaN stays NaN */
        u = u > limit ? limit : (u < -limit ? -limit : u);
        return g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
    case ACT_SILU:
        return g / (1.0f + expf(-g)) * u;
    default: {
        float z = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        return g / (1.0f + expf(-2.0f * z)) * u;
    }
    }
}

/* Decodes one k block of a pair group into wT[k][r] (r < 16: group A, r >= 16: group B), unscaled,
 * and its 32 scales (1 for BF16). */
static void G(decode_block)(const moe_layer *L, const uint8_t *rec, const uint8_t *srec, float wT[32][32],
                            float sc[32]) {
    if (L->wfmt == WFMT_MXFP4) {
        for (int g = 0; g < 2; g++) {
            const uint8_t *base = rec + 256 * g;
            for (int kp = 0; kp < 16; kp++) {
                int c = kp >> 2, q = kp & 3;
                for (int w = 0; w < 32; w++) {
                    uint16_t word;
                    memcpy(&word, base + c * 64 + w * 2, 2);
                    int l = w >> 1, j = w & 1;
                    wT[2 * kp + j][16 * g + l] = moe_e2m1_values[(word >> (4 * q)) & 15];
                }
            }
        }
        for (int r = 0; r < 32; r++) {
            sc[r] = moe_e8m0_to_f32(srec[r]);
        }
    } else {
        for (int g = 0; g < 2; g++) {
            const uint8_t *base = rec + 1024 * g;
            for (int kp = 0; kp < 16; kp++) {
                for (int w = 0; w < 32; w++) {
                    uint16_t word;
                    memcpy(&word, base + kp * 64 + w * 2, 2);
                    wT[2 * kp + (w & 1)][16 * g + (w >> 1)] = moe_bf16_to_f32(word);
                }
            }
        }
        for (int r = 0; r < 32; r++) {
            sc[r] = 1.0f;
        }
    }
}

/* acc[t][r] = sum over K of W[r][k] * x_t[k] for nt tokens of one pair group. */
static void G(pair_group)(const moe_layer *L, const uint8_t *rec, const uint8_t *srec, int nkb, int nt,
                          const uint16_t *const *xs, float acc[G_NT][32]) {
    float wT[32][32];
    float sc[32];
    float xf[32];
    float blk[32];
    size_t rec_bytes = L->wfmt == WFMT_MXFP4 ? 512 : 2048;
    for (int t = 0; t < nt; t++) {
        for (int r = 0; r < 32; r++) {
            acc[t][r] = 0.0f;
        }
    }
    for (int kb = 0; kb < nkb; kb++) {
        G(decode_block)(L, rec + kb * rec_bytes, srec ? srec + kb * 32 : NULL, wT, sc);
        for (int t = 0; t < nt; t++) {
            const uint16_t *x = xs[t] + kb * 32;
            for (int k = 0; k < 32; k++) {
                xf[k] = moe_bf16_to_f32(x[k]);
            }
            for (int r = 0; r < 32; r++) {
                blk[r] = 0.0f;
            }
            for (int k = 0; k < 32; k++) {
                float xv = xf[k];
                for (int r = 0; r < 32; r++) {
                    blk[r] += wT[k][r] * xv;
                }
            }
            for (int r = 0; r < 32; r++) {
                acc[t][r] += blk[r] * sc[r];
            }
        }
    }
}

/* GEMM1 + bias + activation of expert e, pair groups [p0, p1), all its tokens. */
static void G(gemm1)(const moe_fwd *f, int e, int p0, int p1) {
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    int P1 = I / 16, nkb = H / 32;
    size_t rec_bytes = L->wfmt == WFMT_MXFP4 ? 512 : 2048;
    float acc[G_NT][32];
    const uint16_t *xs[G_NT];
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
            for (int s0 = 0; s0 < ne; s0 += G_NT) {
                int nt = ne - s0 < G_NT ? ne - s0 : G_NT;
                int slot0 = f->off[e] + s0;
                for (int t = 0; t < nt; t++) {
                    xs[t] = f->x + (size_t)f->slot_tok[slot0 + t] * H;
                }
                G(pair_group)(L, rec, srec, nkb, nt, xs, acc);
                for (int t = 0; t < nt; t++) {
                    uint16_t *dst = f->act + (size_t)(slot0 + t) * I + 16 * p;
                    const float *d = f->d13 && f->slot_ad[slot0 + t] >= 0 ? f->d13 + (size_t)(slot0 + t) * 2 * I : NULL;
                    for (int l = 0; l < 16; l++) {
                        int i = 16 * p + l;
                        float g = acc[t][l] + L->bg[(size_t)e * I + i] + (d ? d[i] : 0.0f);
                        float u = acc[t][16 + l] + L->bu[(size_t)e * I + i] + (d ? d[I + i] : 0.0f);
                        dst[l] = moe_f32_to_bf16(G(act_f)(L->act, g, u, L->alpha, L->limit));
                    }
                }
            }
        }
    }
}

/* GEMM2 + bias + weighted scatter-add of output rows [32 q0, 32 q1), every expert in order. */
static void G(gemm2)(const moe_fwd *f, int q0, int q1) {
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    int P2 = H / 32, nkb = I / 32;
    size_t rec_bytes = L->wfmt == WFMT_MXFP4 ? 512 : 2048;
    float acc[G_NT][32];
    const uint16_t *xs[G_NT];
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
            for (int s0 = 0; s0 < ne; s0 += G_NT) {
                int nt = ne - s0 < G_NT ? ne - s0 : G_NT;
                int slot0 = f->off[e] + s0;
                for (int t = 0; t < nt; t++) {
                    xs[t] = f->act + (size_t)(slot0 + t) * I;
                }
                G(pair_group)(L, rec, srec, nkb, nt, xs, acc);
                for (int t = 0; t < nt; t++) {
                    float w = f->slot_w[slot0 + t];
                    float *dst = f->acc + (size_t)f->slot_tok[slot0 + t] * H + 32 * q;
                    const float *b = L->b2 + (size_t)e * H + 32 * q;
                    for (int r = 0; r < 32; r++) {
                        dst[r] += w * (acc[t][r] + b[r]);
                    }
                }
            }
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
/* FMA peak: 12 independent 8-wide chains (latency 4 x 2 pipes needs >= 8). Returns flops done. */
static double G(dot_peak)(long iters) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) {
        acc[i] = _mm256_set1_ps(0.001f * (float)i);
    }
    __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
        __asm__ volatile("" : "+x"(a), "+x"(b));
        for (int i = 0; i < 12; i++) {
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        }
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) {
        s = _mm256_add_ps(s, acc[i]);
    }
    float out[8];
    _mm256_storeu_ps(out, s);
    volatile float sink = out[0];
    (void)sink;
    return 2.0 * 8.0 * 12.0 * (double)iters;
}
#else
/* Scalar multiply-add peak: 8 independent chains. Returns flops done. */
static double G(dot_peak)(long iters) {
    float a0 = 0.f, a1 = 1.f, a2 = 2.f, a3 = 3.f, a4 = 4.f, a5 = 5.f, a6 = 6.f, a7 = 7.f;
    float m = 0.9999f, c = 1e-7f;
    for (long it = 0; it < iters; it++) {
        __asm__ volatile("" : "+x"(m), "+x"(c));
        a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
        a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    }
    volatile float sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    (void)sink;
    return 2.0 * 8.0 * (double)iters;
}
#endif

static double G(read_sum)(const uint8_t *p, size_t bytes) {
    const uint64_t *q = (const uint64_t *)p;
    size_t n = bytes / 8;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += q[i];
        s1 += q[i + 1];
        s2 += q[i + 2];
        s3 += q[i + 3];
    }
    return (double)(s0 ^ s1 ^ s2 ^ s3);
}

const moe_kernels G(moe_kernels) = {G(gemm1), G(gemm2), G(dot_peak), G(read_sum)};
