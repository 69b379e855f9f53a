/*
 * moe-oracle CPU backend: the exported C ABI (called from Java through FFM), CPU feature
 * detection, the worker pool, weight preparation, routing and the forward driver.
 * Built with baseline flags so the library loads on any x86-64 CPU; the ISA-specific kernels
 * live in their own translation units and are only called after cpuid says they can run.
 */
#define _GNU_SOURCE
#include "moe_cpu.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

const float moe_e2m1_values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                   -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

static __thread char tls_error[512];

static int fail(char *buf, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, 512, fmt, ap);
    va_end(ap);
    return code;
}

/* ---------------------------------------------------------------- CPU features */

int moe_cpu_best_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16")) {
        return ISA_AVX512_BF16;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return ISA_AVX2;
    }
#endif
    return ISA_SCALAR;
}

static const moe_kernels *kernels_for(int isa) {
#if defined(__x86_64__)
    switch (isa) {
    case ISA_AVX512_BF16: return &moe_kernels_avx512;
    case ISA_AVX2: return &moe_kernels_avx2;
    default: return &moe_kernels_scalar;
    }
#else
    (void)isa;
    return &moe_kernels_scalar;
#endif
}

EXPORT int32_t moe_cpu_abi_version(void) { return MOE_CPU_ABI_VERSION; }

EXPORT int32_t moe_cpu_host_isa(void) { return moe_cpu_best_isa(); }

EXPORT const char *moe_cpu_isa_name(int32_t isa) {
    switch (isa) {
    case ISA_AVX512_BF16: return "avx512-bf16";
    case ISA_AVX2: return "avx2-fma";
    case ISA_SCALAR: return "scalar";
    default: return "unknown";
    }
}

EXPORT const char *moe_cpu_last_error(void) { return tls_error; }

/* ---------------------------------------------------------------- worker pool */

struct moe_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t run_mu; /* one job at a time: callers of moe_pool_run take turns */
    int refs;               /* layers holding this shared pool (moe_pool_acquire) */
    struct moe_pool *next;  /* in the list of shared pools */
    int gen;
    int stop;
    int done;
    moe_job_fn job;
    void *ctx;
};

typedef struct {
    moe_pool *pool;
    int tid;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    worker_arg *arg = p;
    moe_pool *pool = arg->pool;
    int tid = arg->tid;
    free(arg);
    int seen = 0;
    for (;;) {
        int spins = 0;
        /* spin briefly (decode-sized calls come back to back), then sleep */
        while (__atomic_load_n(&pool->gen, __ATOMIC_ACQUIRE) == seen) {
            if (++spins < 20000) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool->mu);
            while (__atomic_load_n(&pool->gen, __ATOMIC_ACQUIRE) == seen && !pool->stop) {
                pthread_cond_wait(&pool->cv, &pool->mu);
            }
            pthread_mutex_unlock(&pool->mu);
        }
        seen = __atomic_load_n(&pool->gen, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE)) {
            return NULL;
        }
        pool->job(pool->ctx, tid, pool->n);
        __atomic_add_fetch(&pool->done, 1, __ATOMIC_ACQ_REL);
    }
}

moe_pool *moe_pool_create(int threads) {
    if (threads < 1) {
        threads = 1;
    }
    moe_pool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        return NULL;
    }
    pool->n = threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pthread_mutex_init(&pool->run_mu, NULL);
    pool->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    for (int i = 1; i < threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) {
            pool->n = i;
            moe_pool_destroy(pool);
            return NULL;
        }
        arg->pool = pool;
        arg->tid = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            pool->n = i;
            moe_pool_destroy(pool);
            return NULL;
        }
    }
    return pool;
}

void moe_pool_destroy(moe_pool *pool) {
    if (!pool) {
        return;
    }
    pthread_mutex_lock(&pool->mu);
    __atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&pool->gen, 1, __ATOMIC_ACQ_REL);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i < pool->n; i++) {
        pthread_join(pool->threads[i], NULL);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->run_mu);
    free(pool->threads);
    free(pool);
}

/* The process-wide pools, one per thread count (normally one: all cores), shared by every layer.
 * Before, each layer started its own workers for every core, so several kernels in one process
 * oversubscribed the CPU many times over while their spinning workers fought for it. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static moe_pool *shared_pools;

moe_pool *moe_pool_acquire(int threads) {
    if (threads < 1) {
        threads = 1;
    }
    pthread_mutex_lock(&shared_mu);
    moe_pool *p = shared_pools;
    while (p && p->n != threads) {
        p = p->next;
    }
    if (p) {
        p->refs++;
    } else if ((p = moe_pool_create(threads)) != NULL) {
        p->refs = 1;
        p->next = shared_pools;
        shared_pools = p;
    }
    pthread_mutex_unlock(&shared_mu);
    return p;
}

void moe_pool_release(moe_pool *pool) {
    if (!pool) {
        return;
    }
    pthread_mutex_lock(&shared_mu);
    int last = --pool->refs == 0;
    if (last) {
        moe_pool **pp = &shared_pools;
        while (*pp != pool) {
            pp = &(*pp)->next;
        }
        *pp = pool->next;
    }
    pthread_mutex_unlock(&shared_mu);
    if (last) {
        moe_pool_destroy(pool); /* no layer holds it and it is unlisted: no job can be running */
    }
}

EXPORT int32_t moe_cpu_shared_pools(void) {
    pthread_mutex_lock(&shared_mu);
    int n = 0;
    for (moe_pool *p = shared_pools; p; p = p->next) {
        n++;
    }
    pthread_mutex_unlock(&shared_mu);
    return n;
}

int moe_pool_threads(const moe_pool *pool) { return pool->n; }

void moe_pool_run(moe_pool *pool, moe_job_fn job, void *ctx) {
    if (pool->n == 1) {
        job(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->run_mu);
    pool->job = job;
    pool->ctx = ctx;
    __atomic_store_n(&pool->done, 0, __ATOMIC_RELEASE);
    pthread_mutex_lock(&pool->mu);
    __atomic_add_fetch(&pool->gen, 1, __ATOMIC_ACQ_REL);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    job(ctx, 0, pool->n);
    long spins = 0;
    while (__atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) < pool->n - 1) {
        if (++spins < 100000) {
            cpu_relax();
        } else {
            sched_yield();
        }
    }
    pthread_mutex_unlock(&pool->run_mu);
}

/* ---------------------------------------------------------------- layer */

static void *xalloc(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

/* Large streamed buffers (prepared weights, the bandwidth probe's buffer): 2 MiB aligned and
 * advised as transparent huge pages, so streaming reads do not pay a TLB miss every 4 KiB. Both
 * use the same policy, so the measured ceiling and the kernel see the same memory system. */
#ifndef MOE_HUGE
#define MOE_HUGE 1
#endif
static void *xalloc_huge(size_t bytes) {
    const size_t huge = 2u << 20;
    if (!MOE_HUGE || bytes < huge) {
        return xalloc(bytes);
    }
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, rounded);
#ifdef MADV_HUGEPAGE
    if (p) {
        madvise(p, rounded, MADV_HUGEPAGE);
    }
#endif
    return p;
}

EXPORT int32_t moe_cpu_layer_create(int32_t E, int32_t K, int32_t H, int32_t I, int32_t wfmt, int32_t act,
                                    float alpha, float limit, int32_t has_bias, int32_t isa, int32_t threads,
                                    void **out) {
    if (!out) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_create: out is NULL");
    }
    *out = NULL;
    if (E < 1 || K < 1 || K > E || H < 32 || I < 32 || H % 32 || I % 32) {
        return fail(tls_error, MOE_EINVAL,
                    "moe_cpu_layer_create: E=%d topK=%d H=%d I=%d: need 1<=topK<=E and H, I positive multiples of 32",
                    E, K, H, I);
    }
    if (wfmt != WFMT_MXFP4 && wfmt != WFMT_BF16) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_create: weight format %d is not 0 (mxfp4) or 1 (bf16)", wfmt);
    }
    if (act < ACT_SWIGLU_OAI || act > ACT_GELU) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_create: activation %d is unknown", act);
    }
    if (isa < ISA_SCALAR || isa > moe_cpu_best_isa()) {
        return fail(tls_error, MOE_EISA, "moe_cpu_layer_create: ISA %s (%d) is not available on this CPU (best: %s)",
                    moe_cpu_isa_name(isa), isa, moe_cpu_isa_name(moe_cpu_best_isa()));
    }
    if (threads < 1 || threads > 4096) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_create: threads=%d must be in [1, 4096]", threads);
    }
    moe_layer *L = calloc(1, sizeof *L);
    if (!L) {
        return fail(tls_error, MOE_ENOMEM, "moe_cpu_layer_create: out of memory");
    }
    L->E = E; L->K = K; L->H = H; L->I = I; L->wfmt = wfmt; L->act = act;
    L->alpha = alpha; L->limit = limit; L->has_bias = has_bias; L->isa = isa;
    L->pool = moe_pool_acquire(threads);
    if (!L->pool) {
        free(L);
        return fail(tls_error, MOE_ETHREAD, "moe_cpu_layer_create: could not start %d worker threads", threads);
    }
    *out = L;
    return MOE_OK;
}

static void free_weights(moe_layer *L) {
    free(L->w13); free(L->w13s); free(L->w2); free(L->w2s);
    free(L->bg); free(L->bu); free(L->b2);
    L->w13 = L->w13s = L->w2 = L->w2s = NULL;
    L->bg = L->bu = L->b2 = NULL;
    L->prepared = 0;
}

EXPORT void moe_cpu_layer_destroy(void *layer) {
    moe_layer *L = layer;
    if (!L) {
        return;
    }
    moe_pool_release(L->pool);
    free_weights(L);
    for (int i = 0; i < L->lora_slots; i++) {
        moe_lora_free(L->lora[i]);
    }
    free(L->lora);
    free(L->ws);
    free(L);
}

EXPORT const char *moe_cpu_layer_error(void *layer) {
    return layer ? ((moe_layer *)layer)->error : tls_error;
}

EXPORT int32_t moe_cpu_layer_threads(void *layer) { return moe_pool_threads(((moe_layer *)layer)->pool); }

typedef struct {
    moe_layer *L;
    const uint8_t *w13, *w13s, *w2, *w2s;
} prep_ctx;

static inline uint16_t bf16_at(const uint8_t *row, int k) {
    uint16_t v;
    memcpy(&v, row + 2 * (size_t)k, 2);
    return v;
}

/* Writes one pair group's records. rowA/rowB map a row index l of group g to the canonical row. */
static void prep_pair(const moe_layer *L, const uint8_t *src, const uint8_t *ssrc, size_t row_bytes,
                      size_t srow_bytes, int nkb, const int rows[2][16], uint8_t *dst, uint8_t *sdst) {
    for (int kb = 0; kb < nkb; kb++) {
        if (L->wfmt == WFMT_MXFP4) {
            uint8_t *rec = dst + (size_t)kb * 512;
            for (int g = 0; g < 2; g++) {
                uint8_t v[16][32]; /* the block's 32 nibbles of each row, unpacked once */
                for (int l = 0; l < 16; l++) {
                    const uint8_t *row = src + (size_t)rows[g][l] * row_bytes + (size_t)kb * 16;
                    for (int b = 0; b < 16; b++) {
                        v[l][2 * b] = row[b] & 15;
                        v[l][2 * b + 1] = row[b] >> 4;
                    }
                }
                for (int c = 0; c < 4; c++) {
                    for (int w = 0; w < 32; w++) {
                        int l = w >> 1, j = w & 1;
                        uint16_t word = (uint16_t)(v[l][8 * c + j] | (v[l][8 * c + 2 + j] << 4) |
                                                   (v[l][8 * c + 4 + j] << 8) | (v[l][8 * c + 6 + j] << 12));
                        memcpy(rec + 256 * g + c * 64 + 2 * w, &word, 2);
                    }
                }
                for (int l = 0; l < 16; l++) {
                    sdst[(size_t)kb * 32 + 16 * g + l] = ssrc[(size_t)rows[g][l] * srow_bytes + kb];
                }
            }
        } else {
            uint8_t *rec = dst + (size_t)kb * 2048;
            for (int g = 0; g < 2; g++) {
                for (int kp = 0; kp < 16; kp++) {
                    for (int w = 0; w < 32; w++) {
                        const uint8_t *row = src + (size_t)rows[g][w >> 1] * row_bytes;
                        uint16_t v = bf16_at(row, kb * 32 + 2 * kp + (w & 1));
                        memcpy(rec + 1024 * g + kp * 64 + 2 * w, &v, 2);
                    }
                }
            }
        }
    }
}

static void prep_job(void *p, int tid, int n) {
    prep_ctx *c = p;
    moe_layer *L = c->L;
    int H = L->H, I = L->I;
    int P1 = I / 16, nkb1 = H / 32, P2 = H / 32, nkb2 = I / 32;
    int mx = L->wfmt == WFMT_MXFP4;
    size_t rec = mx ? 512 : 2048;
    size_t row1 = mx ? (size_t)H / 2 : (size_t)H * 2, row2 = mx ? (size_t)I / 2 : (size_t)I * 2;
    for (int e = tid; e < L->E; e += n) {
        const uint8_t *s13 = c->w13 + (size_t)e * 2 * I * row1;
        const uint8_t *ss13 = mx ? c->w13s + (size_t)e * 2 * I * (H / 32) : NULL;
        for (int p = 0; p < P1; p++) {
            int rows[2][16];
            for (int l = 0; l < 16; l++) {
                rows[0][l] = 2 * (16 * p + l);     /* gate */
                rows[1][l] = 2 * (16 * p + l) + 1; /* up */
            }
            prep_pair(L, s13, ss13, row1, H / 32, nkb1, rows,
                      L->w13 + (size_t)e * L->rec1_stride_e + (size_t)p * nkb1 * rec,
                      mx ? L->w13s + ((size_t)e * P1 + p) * nkb1 * 32 : NULL);
        }
        const uint8_t *s2 = c->w2 + (size_t)e * H * row2;
        const uint8_t *ss2 = mx ? c->w2s + (size_t)e * H * (I / 32) : NULL;
        for (int q = 0; q < P2; q++) {
            int rows[2][16];
            for (int l = 0; l < 16; l++) {
                rows[0][l] = 32 * q + l;
                rows[1][l] = 32 * q + 16 + l;
            }
            prep_pair(L, s2, ss2, row2, I / 32, nkb2, rows,
                      L->w2 + (size_t)e * L->rec2_stride_e + (size_t)q * nkb2 * rec,
                      mx ? L->w2s + ((size_t)e * P2 + q) * nkb2 * 32 : NULL);
        }
    }
}

static float bias_at(const void *b, int dtype, size_t i) {
    if (dtype == DT_F32) {
        return ((const float *)b)[i];
    }
    return moe_bf16_to_f32(((const uint16_t *)b)[i]);
}

EXPORT int32_t moe_cpu_layer_prepare(void *layer, const uint8_t *w13, const uint8_t *w13s, const void *b13,
                                     int32_t b13_dtype, const uint8_t *w2, const uint8_t *w2s, const void *b2,
                                     int32_t b2_dtype) {
    moe_layer *L = layer;
    if (!L) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_prepare: layer is NULL");
    }
    int mx = L->wfmt == WFMT_MXFP4;
    if (!w13 || !w2 || (mx && (!w13s || !w2s))) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_prepare: w13=%p w13s=%p w2=%p w2s=%p: weights%s are required",
                    (const void *)w13, (const void *)w13s, (const void *)w2, (const void *)w2s,
                    mx ? " and scales" : "");
    }
    if (L->has_bias && (!b13 || !b2 || (b13_dtype != DT_F32 && b13_dtype != DT_BF16) ||
                        (b2_dtype != DT_F32 && b2_dtype != DT_BF16))) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_prepare: biases b13=%p (dtype %d) b2=%p (dtype %d) are required",
                    b13, b13_dtype, b2, b2_dtype);
    }
    free_weights(L);
    int E = L->E, H = L->H, I = L->I;
    size_t rec = mx ? 512 : 2048;
    L->rec1_stride_e = (size_t)(I / 16) * (H / 32) * rec;
    L->rec2_stride_e = (size_t)(H / 32) * (I / 32) * rec;
    L->w13 = xalloc_huge((size_t)E * L->rec1_stride_e);
    L->w2 = xalloc_huge((size_t)E * L->rec2_stride_e);
    if (mx) {
        L->w13s = xalloc_huge((size_t)E * (I / 16) * (H / 32) * 32);
        L->w2s = xalloc_huge((size_t)E * (H / 32) * (I / 32) * 32);
    }
    L->bg = xalloc((size_t)E * I * sizeof(float));
    L->bu = xalloc((size_t)E * I * sizeof(float));
    L->b2 = xalloc((size_t)E * H * sizeof(float));
    if (!L->w13 || !L->w2 || (mx && (!L->w13s || !L->w2s)) || !L->bg || !L->bu || !L->b2) {
        free_weights(L);
        return fail(L->error, MOE_ENOMEM, "moe_cpu_layer_prepare: out of memory for %zu bytes of prepared weights",
                    (size_t)E * (L->rec1_stride_e + L->rec2_stride_e));
    }
    for (size_t e = 0; e < (size_t)E; e++) {
        for (size_t i = 0; i < (size_t)I; i++) {
            L->bg[e * I + i] = L->has_bias ? bias_at(b13, b13_dtype, e * 2 * I + 2 * i) : 0.0f;
            L->bu[e * I + i] = L->has_bias ? bias_at(b13, b13_dtype, e * 2 * I + 2 * i + 1) : 0.0f;
        }
        for (size_t h = 0; h < (size_t)H; h++) {
            L->b2[e * H + h] = L->has_bias ? bias_at(b2, b2_dtype, e * H + h) : 0.0f;
        }
    }
    prep_ctx c = {L, w13, w13s, w2, w2s};
    moe_pool_run(L->pool, prep_job, &c);
    L->prepared = 1;
    return MOE_OK;
}

/* ---------------------------------------------------------------- forward */

typedef struct {
    moe_fwd f;
    const moe_kernels *k;
    const float *hidden_f32;
    void *out;
    int out_dtype;
    int next1, next2; /* shared positions of the guided schedule */
    int nextl1, nextl2; /* shared positions of the LoRA jobs */
} fwd_job;

static void job_convert(void *p, int tid, int n) {
    fwd_job *j = p;
    size_t H = (size_t)j->f.L->H;
    size_t t0 = (size_t)j->f.T * tid / n, t1 = (size_t)j->f.T * (tid + 1) / n;
    uint16_t *x = (uint16_t *)j->f.x;
    for (size_t i = t0 * H; i < t1 * H; i++) {
        x[i] = moe_f32_to_bf16(j->hidden_f32[i]);
    }
}

/* Work is handed out from a shared counter rather than split up front, so a thread that the OS
 * deschedules (a busy machine) delays only the piece it holds. Pieces are guided: a share of what
 * is left (long streams for the prefetchers while there is much to do), shrinking to a minimum so
 * the threads finish together. Each output element is still computed by exactly one piece in a
 * fixed order, so results do not depend on the threads. */
#define MIN_PIECE1 4 /* pair groups */
#define MIN_PIECE2 2 /* 32-row groups */

/* Takes [*lo, *hi) from the shared position; returns 0 when nothing is left. */
static int take(int *pos, int total, int min_piece, int threads, int *lo, int *hi) {
    int cur = __atomic_load_n(pos, __ATOMIC_RELAXED);
    for (;;) {
        if (cur >= total) {
            return 0;
        }
        int len = (total - cur) / (2 * threads);
        if (len < min_piece) {
            len = min_piece;
        }
        int next = cur + len < total ? cur + len : total;
        if (__atomic_compare_exchange_n(pos, &cur, next, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            *lo = cur;
            *hi = next;
            return 1;
        }
    }
}

static void job_gemm1(void *p, int tid, int n) {
    (void)tid;
    fwd_job *j = p;
    int P1 = j->f.L->I / 16;
    int total = j->f.nactive * P1; /* pair groups of all active experts, expert-major */
    int lo, hi;
    while (take(&j->next1, total, MIN_PIECE1, n, &lo, &hi)) {
        while (lo < hi) { /* a piece may span experts */
            int e = lo / P1;
            int end = (e + 1) * P1 < hi ? (e + 1) * P1 : hi;
            j->k->gemm1(&j->f, j->f.active[e], lo - e * P1, end - e * P1);
            lo = end;
        }
    }
}

static void job_gemm2(void *p, int tid, int n) {
    (void)tid;
    fwd_job *j = p;
    const moe_layer *L = j->f.L;
    int H = L->H, T = j->f.T;
    int P2 = H / 32;
    int q0, q1;
    while (take(&j->next2, P2, MIN_PIECE2, n, &q0, &q1)) {
        int h0 = 32 * q0, h1 = 32 * q1;
        for (int t = 0; t < T; t++) {
            memset(j->f.acc + (size_t)t * H + h0, 0, (size_t)(h1 - h0) * sizeof(float));
        }
        j->k->gemm2(&j->f, q0, q1);
        for (int k = 0; k < j->f.nl; k++) { /* LoRA down terms of the rows this piece owns */
            int sl = j->f.lslots[k];
            float w = j->f.slot_w[sl];
            float *dst = j->f.acc + (size_t)j->f.slot_tok[sl] * H;
            const float *d = j->f.d2 + (size_t)sl * H;
            for (int h = h0; h < h1; h++) {
                dst[h] += w * d[h];
            }
        }
        if (j->out_dtype == DT_BF16) {
            uint16_t *o = j->out;
            for (int t = 0; t < T; t++) {
                for (int h = h0; h < h1; h++) {
                    o[(size_t)t * H + h] = moe_f32_to_bf16(j->f.acc[(size_t)t * H + h]);
                }
            }
        }
    }
}

static void job_lora1(void *p, int tid, int n) {
    fwd_job *j = p;
    moe_lora_w13(&j->f, &j->nextl1, tid, n);
}

static void job_lora2(void *p, int tid, int n) {
    fwd_job *j = p;
    moe_lora_w2(&j->f, &j->nextl2, tid, n);
}

static int ensure_ws(moe_layer *L, size_t bytes) {
    if (L->ws_bytes >= bytes) {
        return 0;
    }
    free(L->ws);
    L->ws = xalloc(bytes);
    L->ws_bytes = L->ws ? bytes : 0;
    return L->ws ? 0 : -1;
}

static inline float logit_at(const void *l, int dtype, size_t i) {
    return dtype == DT_F32 ? ((const float *)l)[i] : moe_bf16_to_f32(((const uint16_t *)l)[i]);
}

#define ALIGN64(x) (((x) + 63) / 64 * 64)

EXPORT int32_t moe_cpu_layer_forward(void *layer, int32_t T, const void *hidden, int32_t hidden_dtype,
                                     int32_t routing_kind, const void *logits, int32_t logits_dtype,
                                     const int32_t *ids, const float *weights, void *out, int32_t out_dtype,
                                     const int32_t *adapter_ids) {
    moe_layer *L = layer;
    if (!L) {
        return fail(tls_error, MOE_EINVAL, "moe_cpu_layer_forward: layer is NULL");
    }
    if (!L->prepared) {
        return fail(L->error, MOE_ESTATE, "moe_cpu_layer_forward: weights are not prepared");
    }
    if (T < 0) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_forward: T=%d is negative", T);
    }
    if (T == 0) {
        return MOE_OK;
    }
    if (!hidden || !out || (hidden_dtype != DT_F32 && hidden_dtype != DT_BF16) ||
        (out_dtype != DT_F32 && out_dtype != DT_BF16)) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_forward: hidden=%p (dtype %d) out=%p (dtype %d) invalid",
                    hidden, hidden_dtype, out, out_dtype);
    }
    if (routing_kind == 0 ? (!logits || (logits_dtype != DT_F32 && logits_dtype != DT_BF16))
                          : (routing_kind != 1 || !ids || !weights)) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_forward: routing kind %d with logits=%p ids=%p weights=%p invalid",
                    routing_kind, logits, (const void *)ids, (const void *)weights);
    }
    int E = L->E, K = L->K, H = L->H, I = L->I;
    size_t S = (size_t)T * K;
    if (adapter_ids && !L->lora) {
        return fail(L->error, MOE_EINVAL, "moe_cpu_layer_forward: adapter ids given but no LoRA slots are configured");
    }
    for (int t = 0; adapter_ids && t < T; t++) {
        int a = adapter_ids[t];
        if (a < -1 || a >= L->lora_slots || (a >= 0 && !L->lora[a])) {
            return fail(L->error, MOE_ERANGE, "moe_cpu_layer_forward: adapter id %d of token %d is outside [-1, %d) "
                        "or names an empty slot", a, t, L->lora_slots);
        }
    }
    int nthreads = moe_pool_threads(L->pool);
    int scratch_len = MOE_LORA_NB * (H > I ? H : I) + MOE_LORA_NB * 2 * 512;
    size_t max_items = S + (size_t)E * (L->lora_slots > 0 ? L->lora_slots : 1);
    size_t o_cnt = 0;
    size_t o_off = o_cnt + ALIGN64((size_t)E * 4);
    size_t o_tok = o_off + ALIGN64((size_t)(E + 1) * 4);
    size_t o_w = o_tok + ALIGN64(S * 4);
    size_t o_active = o_w + ALIGN64(S * 4);
    size_t o_sel = o_active + ALIGN64((size_t)E * 4);
    size_t o_selw = o_sel + ALIGN64(S * 4);
    size_t o_act = o_selw + ALIGN64(S * 4);
    size_t o_x = o_act + ALIGN64(S * I * 2);
    size_t o_acc = o_x + (hidden_dtype == DT_F32 ? ALIGN64((size_t)T * H * 2) : 0);
    size_t o_lora = o_acc + (out_dtype == DT_BF16 ? ALIGN64((size_t)T * H * 4) : 0);
    size_t o_lad = o_lora, o_le = o_lad + ALIGN64(S * 4), o_ls = o_le + ALIGN64(S * 4);
    size_t o_d13 = o_ls + ALIGN64(S * 4), o_d2 = o_d13 + ALIGN64(S * 2 * I * 4);
    size_t o_items = o_d2 + ALIGN64(S * H * 4);
    size_t o_scr = o_items + ALIGN64(max_items * 8);
    size_t total = adapter_ids ? o_scr + ALIGN64((size_t)nthreads * scratch_len * 4) : o_lora;
    if (ensure_ws(L, total) != 0) {
        return fail(L->error, MOE_ENOMEM, "moe_cpu_layer_forward: out of memory for a %zu-byte workspace (T=%d)",
                    total, T);
    }
    uint8_t *ws = L->ws;
    int32_t *cnt = (int32_t *)(ws + o_cnt);
    int32_t *off = (int32_t *)(ws + o_off);
    int32_t *slot_tok = (int32_t *)(ws + o_tok);
    float *slot_w = (float *)(ws + o_w);
    int32_t *sel = (int32_t *)(ws + o_sel);
    int32_t *active = (int32_t *)(ws + o_active);
    float *selw = (float *)(ws + o_selw);

    /* routing: sel/selw [T][K] */
    if (routing_kind == 1) {
        for (size_t s = 0; s < S; s++) {
            if (ids[s] < 0 || ids[s] >= E) {
                return fail(L->error, MOE_ERANGE, "moe_cpu_layer_forward: top-k id %d at token %zu is outside [0, %d)",
                            ids[s], s / K, E);
            }
            sel[s] = ids[s];
            selw[s] = weights[s];
        }
    } else {
        for (int t = 0; t < T; t++) {
            int32_t *si = sel + (size_t)t * K;
            /* top-k, ties to the lower expert id */
            for (int j = 0; j < K; j++) {
                int best = -1;
                float bv = 0.0f;
                for (int e = 0; e < E; e++) {
                    int taken = 0;
                    for (int m = 0; m < j; m++) {
                        taken |= si[m] == e;
                    }
                    if (taken) {
                        continue;
                    }
                    float v = logit_at(logits, logits_dtype, (size_t)t * E + e);
                    /* NaN ranks below every number; ties go to the lower id */
                    if (best < 0 || (isnan(bv) && !isnan(v)) || v > bv) {
                        best = e;
                        bv = v;
                    }
                }
                si[j] = best;
            }
            double mx = logit_at(logits, logits_dtype, (size_t)t * E + si[0]);
            double sum = 0.0, ex[64];
            double *exv = K <= 64 ? ex : malloc(sizeof(double) * K);
            if (!exv) {
                return fail(L->error, MOE_ENOMEM, "moe_cpu_layer_forward: out of memory");
            }
            for (int j = 0; j < K; j++) {
                exv[j] = exp((double)logit_at(logits, logits_dtype, (size_t)t * E + si[j]) - mx);
                sum += exv[j];
            }
            for (int j = 0; j < K; j++) {
                selw[(size_t)t * K + j] = (float)(exv[j] / sum);
            }
            if (exv != ex) {
                free(exv);
            }
        }
    }
    /* slots grouped by expert, in token order */
    memset(cnt, 0, (size_t)E * 4);
    for (size_t s = 0; s < S; s++) {
        cnt[sel[s]]++;
    }
    off[0] = 0;
    for (int e = 0; e < E; e++) {
        off[e + 1] = off[e] + cnt[e];
    }
    int32_t *fill = (int32_t *)(ws + o_act); /* borrowed as a cursor before act is written */
    memcpy(fill, off, (size_t)E * 4);
    for (size_t s = 0; s < S; s++) {
        int e = sel[s];
        int d = fill[e]++;
        slot_tok[d] = (int32_t)(s / K);
        slot_w[d] = selw[s];
    }

    int nactive = 0;
    for (int e = 0; e < E; e++) {
        if (cnt[e] > 0) {
            active[nactive++] = e;
        }
    }

    fwd_job j;
    memset(&j, 0, sizeof j);
    j.f.active = active;
    j.f.nactive = nactive;
    j.f.L = L;
    j.f.T = T;
    j.f.cnt = cnt;
    j.f.off = off;
    j.f.slot_tok = slot_tok;
    j.f.slot_w = slot_w;
    j.f.act = (uint16_t *)(ws + o_act);
    j.f.acc = out_dtype == DT_F32 ? (float *)out : (float *)(ws + o_acc);
    j.k = kernels_for(L->isa);
    j.out = out;
    j.out_dtype = out_dtype;
    if (hidden_dtype == DT_BF16) {
        j.f.x = hidden;
    } else {
        j.f.x = (const uint16_t *)(ws + o_x);
        j.hidden_f32 = hidden;
        if ((size_t)T * H < 65536) {
            job_convert(&j, 0, 1);
        } else {
            moe_pool_run(L->pool, job_convert, &j);
        }
    }
    if (adapter_ids) {
        int32_t *slot_ad = (int32_t *)(ws + o_lad), *slot_e = (int32_t *)(ws + o_le), *lslots = (int32_t *)(ws + o_ls);
        int32_t *items = (int32_t *)(ws + o_items);
        int nl = 0, nitems = 0;
        for (int e = 0; e < E; e++) {
            for (int s = off[e]; s < off[e + 1]; s++) {
                slot_e[s] = e;
                slot_ad[s] = adapter_ids[slot_tok[s]];
            }
        }
        /* slots grouped by (expert, adapter), each group cut into items of at most MOE_LORA_NB */
        for (int e = 0; e < E; e++) {
            if (off[e + 1] == off[e]) {
                continue;
            }
            for (int a = 0; a < L->lora_slots; a++) {
                int first = nl;
                for (int s = off[e]; s < off[e + 1]; s++) {
                    if (slot_ad[s] == a) {
                        lslots[nl++] = s;
                    }
                }
                for (int b = first; b < nl; b += MOE_LORA_NB) {
                    items[2 * nitems] = b;
                    items[2 * nitems + 1] = nl - b < MOE_LORA_NB ? nl - b : MOE_LORA_NB;
                    nitems++;
                }
            }
        }
        if (nl > 0) {
            j.f.slot_ad = slot_ad;
            j.f.slot_e = slot_e;
            j.f.lslots = lslots;
            j.f.nl = nl;
            j.f.items = items;
            j.f.nitems = nitems;
            j.f.d13 = (float *)(ws + o_d13);
            j.f.d2 = (float *)(ws + o_d2);
            j.f.scratch = (float *)(ws + o_scr);
            j.f.scratch_len = scratch_len;
            moe_pool_run(L->pool, job_lora1, &j);
        }
    }
    moe_pool_run(L->pool, job_gemm1, &j);
    if (j.f.nl > 0) {
        moe_pool_run(L->pool, job_lora2, &j);
    }
    moe_pool_run(L->pool, job_gemm2, &j);
    return MOE_OK;
}

/* ---------------------------------------------------------------- roofline probes */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const moe_kernels *k;
    uint8_t *buf;
    size_t bytes;
    long iters;
    double sink[64];
    double flops[64];
} probe_ctx;

static void job_touch(void *p, int tid, int n) {
    probe_ctx *c = p;
    size_t chunk = c->bytes / (size_t)n / 4096 * 4096;
    uint8_t *b = c->buf + chunk * (size_t)tid;
    for (size_t i = 0; i < chunk; i += 8) {
        uint64_t v = i * 0x9E3779B97F4A7C15ull;
        memcpy(b + i, &v, 8);
    }
}

static void job_read(void *p, int tid, int n) {
    probe_ctx *c = p;
    size_t chunk = c->bytes / (size_t)n / 4096 * 4096;
    c->sink[tid & 63] += c->k->read_sum(c->buf + chunk * (size_t)tid, chunk);
}

static void job_dot(void *p, int tid, int n) {
    (void)n;
    probe_ctx *c = p;
    c->flops[tid & 63] = c->k->dot_peak(c->iters);
}

/* Best-of-reps read bandwidth in bytes/s over a buffer of `bytes`, all threads; <0 on error. */
EXPORT double moe_cpu_probe_read_bandwidth(int32_t isa, int32_t threads, int64_t bytes, int32_t reps) {
    if (isa < 0 || isa > moe_cpu_best_isa() || threads < 1 || bytes < (1 << 20) || reps < 1) {
        fail(tls_error, MOE_EINVAL, "moe_cpu_probe_read_bandwidth: isa=%d threads=%d bytes=%lld reps=%d invalid", isa,
             threads, (long long)bytes, reps);
        return -1.0;
    }
    probe_ctx c;
    memset(&c, 0, sizeof c);
    c.k = kernels_for(isa);
    c.bytes = (size_t)bytes;
    c.buf = xalloc_huge(c.bytes);
    moe_pool *pool = moe_pool_create(threads);
    if (!c.buf || !pool) {
        free(c.buf);
        moe_pool_destroy(pool);
        fail(tls_error, MOE_ENOMEM, "moe_cpu_probe_read_bandwidth: could not allocate %lld bytes or start %d threads",
             (long long)bytes, threads);
        return -1.0;
    }
    moe_pool_run(pool, job_touch, &c);
    size_t chunk = c.bytes / (size_t)threads / 4096 * 4096;
    double best = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        moe_pool_run(pool, job_read, &c);
        double dt = now_s() - t0;
        double bw = (double)(chunk * (size_t)threads) / dt;
        if (bw > best) {
            best = bw;
        }
    }
    moe_pool_destroy(pool);
    free(c.buf);
    return best;
}

/* Best-of-reps dot-product peak in flop/s (vdpbf16ps on AVX-512 BF16, FMA otherwise), all threads. */
EXPORT double moe_cpu_probe_dot_peak(int32_t isa, int32_t threads, int64_t iters, int32_t reps) {
    if (isa < 0 || isa > moe_cpu_best_isa() || threads < 1 || threads > 64 || iters < 1 || reps < 1) {
        fail(tls_error, MOE_EINVAL, "moe_cpu_probe_dot_peak: isa=%d threads=%d iters=%lld reps=%d invalid", isa, threads,
             (long long)iters, reps);
        return -1.0;
    }
    probe_ctx c;
    memset(&c, 0, sizeof c);
    c.k = kernels_for(isa);
    c.iters = (long)iters;
    moe_pool *pool = moe_pool_create(threads);
    if (!pool) {
        fail(tls_error, MOE_ETHREAD, "moe_cpu_probe_dot_peak: could not start %d threads", threads);
        return -1.0;
    }
    double best = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        moe_pool_run(pool, job_dot, &c);
        double dt = now_s() - t0;
        double done = 0.0;
        for (int t = 0; t < threads && t < 64; t++) {
            done += c.flops[t];
        }
        double fl = done / dt;
        if (fl > best) {
            best = fl;
        }
    }
    moe_pool_destroy(pool);
    return best;
}
