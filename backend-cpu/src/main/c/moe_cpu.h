/*
 * moe-oracle CPU backend: internal declarations shared by the translation units.
 *
 * Prepared weight layout (ISA independent, built once by moe_cpu_layer_prepare):
 *   A "pair group" is two groups of 16 weight rows (A and B) that one micro-kernel call computes
 *   together over the whole reduction dimension K:
 *     GEMM1 (K = H): A = the gate rows 2i, B = the up rows 2i+1, for i in [16p, 16p+16)
 *                    (so the activation is applied in registers);  P1 = I/16 pair groups.
 *     GEMM2 (K = I): A = rows 32q..32q+15, B = rows 32q+16..32q+31;   P2 = H/32 pair groups.
 *   For each pair group, for each 32-wide k block kb, one record:
 *     MXFP4: 512 bytes of nibbles (A 256, B 256) + 32 E8M0 scale bytes (A 16, B 16, separate array).
 *            Within the 256 bytes of one row group, 64-byte chunk c holds k pairs kp = 4c..4c+3:
 *            16-bit word w = 2*l + j (l = row in group, j = 0/1) holds in its nibble q (bits 4q..4q+3)
 *            the value of row l at k = 2*(4c+q) + j. So one 512-bit load, a shift by 4q and a
 *            vpermw over a 16-entry (replicated to 32) bf16 table yields the vdpbf16ps operand for
 *            k pair kp: lane l = (W[l][2kp], W[l][2kp+1]).
 *     BF16:  2048 bytes (A 1024, B 1024): for kp = 0..15, 32 words, word 2l+j = W[l][2kp+j].
 *   The E8M0 scale of a (row, block) is applied in fp32 to that block's partial dot product,
 *   so every scale (0 = 2^-127, 254 = 2^127, 255 = NaN) behaves exactly as specified.
 */
#ifndef MOE_CPU_H
#define MOE_CPU_H

#include <stddef.h>
#include <stdint.h>

#define MOE_CPU_ABI_VERSION 5

enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512_BF16 = 2 };
enum { WFMT_MXFP4 = 0, WFMT_BF16 = 1 };
enum { ACT_SWIGLU_OAI = 0, ACT_SILU = 1, ACT_GELU = 2 };
enum { DT_F32 = 0, DT_BF16 = 1 };

enum {
    MOE_OK = 0,
    MOE_EINVAL = -1,
    MOE_ENOMEM = -2,
    MOE_ESTATE = -3,
    MOE_ERANGE = -4,
    MOE_ETHREAD = -5,
    MOE_EISA = -6
};

typedef struct moe_pool moe_pool;
typedef void (*moe_job_fn)(void *ctx, int tid, int nthreads);

/* A private pool (the ceiling probes use one, so their timing sees no other caller). */
moe_pool *moe_pool_create(int threads);
void moe_pool_destroy(moe_pool *pool);
/* The process-wide pool of `threads` workers, created on first use and shared by every layer that
 * asks for that many; reference-counted, destroyed when the last layer releases it. */
moe_pool *moe_pool_acquire(int threads);
void moe_pool_release(moe_pool *pool);
int moe_pool_threads(const moe_pool *pool);
/* Runs job(ctx, tid, n) on every thread (the caller is tid 0) and returns when all are done.
 * Safe from several threads at once: the jobs run one after the other, each on all workers. */
void moe_pool_run(moe_pool *pool, moe_job_fn job, void *ctx);

/* One resident LoRA adapter, in float, per expert (see lora.c):
 *   a13 [E][2r][H]  gate A rows, then up A rows
 *   b13 [E][2r][I]  gate B transposed (row q = column q of gate B), then up B transposed
 *   a2  [E][r][I], b2 [E][r][H] (down B transposed) */
typedef struct moe_lora {
    int rank;
    float scaling;
    float *a13, *b13, *a2, *b2;
} moe_lora;

typedef struct moe_layer {
    int E, K, H, I, wfmt, act, has_bias, isa;
    float alpha, limit;
    int prepared;
    /* prepared weights: per expert, GEMM1 records then GEMM2 records */
    uint8_t *w13;      /* E * P1 * nkb1 * rec */
    uint8_t *w13s;     /* E * P1 * nkb1 * 32 (MXFP4 only) */
    uint8_t *w2;
    uint8_t *w2s;
    float *bg, *bu;    /* [E][I] gate / up bias (zeros without bias) */
    float *b2;         /* [E][H] */
    size_t rec1_stride_e, rec2_stride_e; /* bytes per expert in w13 / w2 */
    moe_pool *pool;
    /* LoRA: slots (NULL entries are empty) and the largest rank */
    int lora_slots, lora_max_rank;
    moe_lora **lora;
    /* per-forward workspace, grown as needed */
    void *ws;
    size_t ws_bytes;
    char error[512];
} moe_layer;

/* One forward's shared state, filled by the caller and read by all threads. */
typedef struct moe_fwd {
    const moe_layer *L;
    int T;
    const uint16_t *x;      /* [T][H] bf16 activations */
    const int32_t *cnt;     /* [E] tokens per expert */
    const int32_t *off;     /* [E+1] slot offsets */
    const int32_t *slot_tok;/* [T*K] token of each slot, grouped by expert, token order */
    const float *slot_w;    /* [T*K] routing weight of each slot */
    uint16_t *act;          /* [T*K][I] bf16 */
    float *acc;             /* [T][H] fp32 accumulation (the output itself when it is F32) */
    const int32_t *active;  /* experts with tokens, ascending */
    int nactive;
    /* LoRA (all NULL / 0 without adapters in this call) */
    const int32_t *slot_ad; /* [T*K] adapter of each slot, -1 none */
    const int32_t *slot_e;  /* [T*K] expert of each slot */
    const int32_t *lslots;  /* slots with an adapter, grouped by (expert, adapter) */
    int nl;
    const int32_t *items;   /* [nitems][2]: first index into lslots, count (<= MOE_LORA_NB), one group each */
    int nitems;
    float *d13;             /* [T*K][2I]: gate delta [0, I), up delta [I, 2I) */
    float *d2;              /* [T*K][H] */
    float *scratch;         /* [threads][scratch_len]: NB rows of max(H, I), then NB x 2 x 512 */
    int scratch_len;
} moe_fwd;

#define MOE_LORA_NB 8 /* slots of one (expert, adapter) group per work item */

/* lora.c: the low-rank terms beside the base kernels (each takes its slots from *pos) */
void moe_lora_w13(const moe_fwd *f, int *pos, int tid, int threads);
void moe_lora_w2(const moe_fwd *f, int *pos, int tid, int threads);
void moe_lora_free(moe_lora *a);

/* Kernels of one ISA, called on chunks that threads take from a shared counter (so a thread
 * that is descheduled delays nothing but its own chunk). */
typedef struct moe_kernels {
    void (*gemm1)(const moe_fwd *f, int e, int p0, int p1); /* expert e, pair groups [p0, p1) */
    void (*gemm2)(const moe_fwd *f, int q0, int q1);         /* output rows [32 q0, 32 q1) */
    double (*dot_peak)(long iters); /* flops of one thread's tight loop; returns flops done */
    double (*read_sum)(const uint8_t *p, size_t bytes); /* streams bytes, returns a checksum */
} moe_kernels;

extern const moe_kernels moe_kernels_scalar;
extern const moe_kernels moe_kernels_avx2;
extern const moe_kernels moe_kernels_avx512;

int moe_cpu_best_isa(void);

static inline float moe_bf16_to_f32(uint16_t b) {
    union { uint32_t u; float f; } v;
    v.u = (uint32_t)b << 16;
    return v.f;
}

static inline uint16_t moe_f32_to_bf16(float f) {
    union { uint32_t u; float f; } v;
    v.f = f;
    if ((v.u & 0x7F800000u) == 0x7F800000u && (v.u & 0x007FFFFFu) != 0) {
        return (uint16_t)((v.u >> 16) | 0x0040u);
    }
    uint32_t rounding = 0x7FFFu + ((v.u >> 16) & 1u);
    return (uint16_t)((v.u + rounding) >> 16);
}

static inline float moe_e8m0_to_f32(uint8_t s) {
    union { uint32_t u; float f; } v;
    if (s == 0) {
        v.u = 0x00400000u; /* 2^-127, a subnormal */
    } else if (s == 255) {
        v.u = 0x7FC00000u; /* NaN */
    } else {
        v.u = (uint32_t)s << 23;
    }
    return v.f;
}

extern const float moe_e2m1_values[16];

#endif
