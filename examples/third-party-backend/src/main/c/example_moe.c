/*
 * The example backend's kernel: one MoE layer with BF16 expert weights, SiLU-GLU and no bias, in
 * float32 on the host CPU. Routing (top-k ids and weights) is decided by the Java side.
 *   w13 [E, 2I, H] bf16, rows interleaved: even row gate, odd row up
 *   w2  [E, H, I]  bf16
 *   x   [T, H] f32, ids [T, k] int32 in [0, E), weights [T, k] f32, out [T, H] f32
 * Returns 0, or -1 when an id is out of range (the Java side checks first; this is a second guard).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_MOE_ABI 1

int example_moe_abi(void) {
    return EXAMPLE_MOE_ABI;
}

static inline float bf16(uint16_t v) {
    uint32_t bits = (uint32_t)v << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float dot_bf16(const uint16_t *w, const float *x, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        acc += bf16(w[i]) * x[i];
    }
    return acc;
}

int example_moe_forward(int tokens, int hidden, int inter, int experts, int topk, const float *x,
                        const int32_t *ids, const float *weights, const uint16_t *w13, const uint16_t *w2,
                        float *out) {
    float *act = malloc(sizeof(float) * (size_t)inter);
    if (act == NULL) {
        return -2;
    }
    for (int t = 0; t < tokens; t++) {
        float *o = out + (size_t)t * hidden;
        memset(o, 0, sizeof(float) * (size_t)hidden);
        const float *xt = x + (size_t)t * hidden;
        for (int j = 0; j < topk; j++) {
            int e = ids[(size_t)t * topk + j];
            if (e < 0 || e >= experts) {
                free(act);
                return -1;
            }
            float wt = weights[(size_t)t * topk + j];
            const uint16_t *w13e = w13 + (size_t)e * 2 * inter * hidden;
            for (int c = 0; c < inter; c++) {
                float g = dot_bf16(w13e + (size_t)(2 * c) * hidden, xt, hidden);
                float u = dot_bf16(w13e + (size_t)(2 * c + 1) * hidden, xt, hidden);
                act[c] = g / (1.0f + expf(-g)) * u;
            }
            const uint16_t *w2e = w2 + (size_t)e * hidden * inter;
            for (int n = 0; n < hidden; n++) {
                o[n] += wt * dot_bf16(w2e + (size_t)n * inter, act, inter);
            }
        }
    }
    free(act);
    return 0;
}
