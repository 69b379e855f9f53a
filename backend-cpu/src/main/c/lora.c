/*
 * moe-oracle CPU backend: LoRA adapters on the experts, beside the base kernels.
 *
 * Before GEMM1, for every (token, expert) slot whose token has an adapter, moe_lora_w13 computes
 *   u = [gateA; upA] x (2r values), d13 = scaling * (gateB u_gate | upB u_up)  (2I floats),
 * which GEMM1 adds to the gate/up pre-activation in registers (after the bias, before the
 * activation). After GEMM1, moe_lora_w2 computes d2 = scaling * downB (downA act) (H floats) from the
 * slot's bf16 activation; the GEMM2 job adds slot_w * d2 to the token's output rows it owns, i.e.
 * the term joins the expert output before the routing-weighted top-k sum (which is linear).
 * B factors are stored transposed so every expansion is a contiguous axpy; dot products keep 16
 * partial sums so the compiler vectorizes them; the hot loops are cloned per ISA (ifunc).
 */
#include "moe_cpu.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

CLONES static float dot(const float *a, const float *x, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) {
            acc[l] += a[i + l] * x[i + l];
        }
    }
    float s = 0.0f;
    for (; i < n; i++) {
        s += a[i] * x[i];
    }
    for (int l = 0; l < 16; l++) {
        s += acc[l];
    }
    return s;
}

CLONES static void axpy(float s, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) {
        y[i] += s * x[i];
    }
}

static void bf16_row(const uint16_t *src, float *dst, int n) {
    for (int i = 0; i < n; i++) {
        dst[i] = moe_bf16_to_f32(src[i]);
    }
}

/* Takes the next work item from the shared counter; -1 when none is left. */
static int next(int *pos, int total) {
    int i = __atomic_fetch_add(pos, 1, __ATOMIC_RELAXED);
    return i < total ? i : -1;
}

/* An item is up to MOE_LORA_NB slots of one (expert, adapter) group: each factor row is loaded once
 * and applied to all of them (a small GEMM), instead of once per slot. */
void moe_lora_w13(const moe_fwd *f, int *pos, int tid, int threads) {
    (void)threads;
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    float *x = f->scratch + (size_t)tid * f->scratch_len;  /* [NB][H] */
    float *u = x + (size_t)MOE_LORA_NB * (H > I ? H : I);  /* [NB][2r] */
    for (int k; (k = next(pos, f->nitems)) >= 0;) {
        const int32_t *sl = f->lslots + f->items[2 * k];
        int nb = f->items[2 * k + 1];
        const moe_lora *a = L->lora[f->slot_ad[sl[0]]];
        int r = a->rank, e = f->slot_e[sl[0]];
        for (int b = 0; b < nb; b++) {
            bf16_row(f->x + (size_t)f->slot_tok[sl[b]] * H, x + (size_t)b * H, H);
        }
        const float *A = a->a13 + (size_t)e * 2 * r * H;
        const float *B = a->b13 + (size_t)e * 2 * r * I;
        for (int q = 0; q < 2 * r; q++) {
            for (int b = 0; b < nb; b++) {
                u[b * 2 * r + q] = a->scaling * dot(A + (size_t)q * H, x + (size_t)b * H, H);
            }
        }
        for (int b = 0; b < nb; b++) {
            memset(f->d13 + (size_t)sl[b] * 2 * I, 0, (size_t)2 * I * sizeof(float));
        }
        for (int q = 0; q < r; q++) {
            for (int b = 0; b < nb; b++) {
                float *d = f->d13 + (size_t)sl[b] * 2 * I;
                axpy(u[b * 2 * r + q], B + (size_t)q * I, d, I);
                axpy(u[b * 2 * r + r + q], B + (size_t)(r + q) * I, d + I, I);
            }
        }
    }
}

void moe_lora_w2(const moe_fwd *f, int *pos, int tid, int threads) {
    (void)threads;
    const moe_layer *L = f->L;
    int H = L->H, I = L->I;
    float *act = f->scratch + (size_t)tid * f->scratch_len;  /* [NB][I] */
    float *v = act + (size_t)MOE_LORA_NB * (H > I ? H : I);  /* [NB][r] */
    for (int k; (k = next(pos, f->nitems)) >= 0;) {
        const int32_t *sl = f->lslots + f->items[2 * k];
        int nb = f->items[2 * k + 1];
        const moe_lora *a = L->lora[f->slot_ad[sl[0]]];
        int r = a->rank, e = f->slot_e[sl[0]];
        for (int b = 0; b < nb; b++) {
            bf16_row(f->act + (size_t)sl[b] * I, act + (size_t)b * I, I);
        }
        const float *A = a->a2 + (size_t)e * r * I;
        const float *B = a->b2 + (size_t)e * r * H;
        for (int q = 0; q < r; q++) {
            for (int b = 0; b < nb; b++) {
                v[b * r + q] = a->scaling * dot(A + (size_t)q * I, act + (size_t)b * I, I);
            }
        }
        for (int b = 0; b < nb; b++) {
            memset(f->d2 + (size_t)sl[b] * H, 0, (size_t)H * sizeof(float));
        }
        for (int q = 0; q < r; q++) {
            for (int b = 0; b < nb; b++) {
                axpy(v[b * r + q], B + (size_t)q * H, f->d2 + (size_t)sl[b] * H, H);
            }
        }
    }
}

void moe_lora_free(moe_lora *a) {
    if (a) {
        free(a->a13); free(a->b13); free(a->a2); free(a->b2);
        free(a);
    }
}

static int lfail(moe_layer *L, int code, const char *msg) {
    strncpy(L->error, msg, sizeof L->error - 1);
    L->error[sizeof L->error - 1] = 0;
    return code;
}

/* Sets the number of slots and the largest rank; once, before any load. */
EXPORT int32_t moe_cpu_lora_configure(void *layer, int32_t slots, int32_t max_rank) {
    moe_layer *L = layer;
    if (!L) {
        return MOE_EINVAL;
    }
    if (slots < 1 || slots > 1024 || max_rank < 1 || max_rank > 512) {
        return lfail(L, MOE_EINVAL, "moe_cpu_lora_configure: need 1 <= slots <= 1024 and 1 <= max_rank <= 512");
    }
    if (L->lora) {
        return lfail(L, MOE_ESTATE, "moe_cpu_lora_configure: LoRA slots are already configured");
    }
    L->lora = calloc((size_t)slots, sizeof *L->lora);
    if (!L->lora) {
        return lfail(L, MOE_ENOMEM, "moe_cpu_lora_configure: out of memory");
    }
    L->lora_slots = slots;
    L->lora_max_rank = max_rank;
    return MOE_OK;
}

/* Transposes bf16 [E][rows][cols] into float [E][cols][rows], or copies when transpose == 0. */
static void put(float *dst, const uint16_t *src, size_t E, int rows, int cols, int transpose) {
    for (size_t e = 0; e < E; e++) {
        const uint16_t *s = src + e * rows * cols;
        float *d = dst + e * rows * cols;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = moe_bf16_to_f32(s[(size_t)i * cols + j]);
                if (transpose) {
                    d[(size_t)j * rows + i] = v;
                } else {
                    d[(size_t)i * cols + j] = v;
                }
            }
        }
    }
}

/* Loads an adapter into a slot (replacing it). Canonical bf16 layouts, E = the layer's experts:
 * gateA/upA [E][r][H], gateB/upB [E][I][r], downA [E][r][I], downB [E][H][r]. */
EXPORT int32_t moe_cpu_lora_load(void *layer, int32_t slot, int32_t rank, float scaling, const uint16_t *gate_a,
                                 const uint16_t *gate_b, const uint16_t *up_a, const uint16_t *up_b,
                                 const uint16_t *down_a, const uint16_t *down_b) {
    moe_layer *L = layer;
    if (!L) {
        return MOE_EINVAL;
    }
    if (!L->lora || slot < 0 || slot >= L->lora_slots || rank < 1 || rank > L->lora_max_rank) {
        return lfail(L, MOE_EINVAL, "moe_cpu_lora_load: slot or rank outside what moe_cpu_lora_configure set");
    }
    if (!gate_a || !gate_b || !up_a || !up_b || !down_a || !down_b) {
        return lfail(L, MOE_EINVAL, "moe_cpu_lora_load: a factor is NULL");
    }
    size_t E = (size_t)L->E, H = (size_t)L->H, I = (size_t)L->I, r = (size_t)rank;
    moe_lora *a = calloc(1, sizeof *a);
    if (!a) {
        return lfail(L, MOE_ENOMEM, "moe_cpu_lora_load: out of memory");
    }
    a->rank = rank;
    a->scaling = scaling;
    a->a13 = malloc(E * 2 * r * H * sizeof(float));
    a->b13 = malloc(E * 2 * r * I * sizeof(float));
    a->a2 = malloc(E * r * I * sizeof(float));
    a->b2 = malloc(E * r * H * sizeof(float));
    if (!a->a13 || !a->b13 || !a->a2 || !a->b2) {
        moe_lora_free(a);
        return lfail(L, MOE_ENOMEM, "moe_cpu_lora_load: out of memory for the adapter's factors");
    }
    for (size_t e = 0; e < E; e++) {
        put(a->a13 + e * 2 * r * H, gate_a + e * r * H, 1, rank, (int)H, 0);
        put(a->a13 + e * 2 * r * H + r * H, up_a + e * r * H, 1, rank, (int)H, 0);
        put(a->b13 + e * 2 * r * I, gate_b + e * I * r, 1, (int)I, rank, 1);
        put(a->b13 + e * 2 * r * I + r * I, up_b + e * I * r, 1, (int)I, rank, 1);
    }
    put(a->a2, down_a, E, rank, (int)I, 0);
    put(a->b2, down_b, E, (int)H, rank, 1);
    moe_lora_free(L->lora[slot]);
    L->lora[slot] = a;
    return MOE_OK;
}

EXPORT int32_t moe_cpu_lora_unload(void *layer, int32_t slot) {
    moe_layer *L = layer;
    if (!L || !L->lora || slot < 0 || slot >= L->lora_slots) {
        return L ? lfail(L, MOE_EINVAL, "moe_cpu_lora_unload: no such slot") : MOE_EINVAL;
    }
    moe_lora_free(L->lora[slot]);
    L->lora[slot] = NULL;
    return MOE_OK;
}
