// Shared pieces of the flashinfer MoE image: routing, expert alignment, finalize, activation
// conversion and the weight repack. Routing, alignment and the activation functions are the code
// marlin and ep use too (cuda-moe/src/main/cuda/moe_routing.cuh); the kernels here are flashinfer's
// entry points (names start with fi_). Contract with the GEMM kernels and the Java side: ABI.md.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

#include "moe_routing.cuh"

// ---------------------------------------------------------------------------------------------
// routing, alignment, finalize: the bodies are shared with marlin and ep (moe_routing.cuh); these are
// flashinfer's entry points (names and parameters: ABI.md).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void fi_route(const void* logits, int logits_bf16, const int* ids_in, const float* w_in,
                                     int T, int E, int k, int* topk_ids, float* topk_w, float* accum, int H) {
    moe_route_body(logits, logits_bf16, ids_in, w_in, T, E, k, topk_ids, topk_w, accum, H);
}

extern "C" __global__ void __launch_bounds__(1024) fi_align(const int* topk_ids, int n_ids, const int* batch_counts,
                                                            int max_t, int El, int e0, int M, int* sorted_ids,
                                                            int* tile_expert, int* num_tiles) {
    moe_align_body(topk_ids, n_ids, batch_counts, max_t, El, e0, M, sorted_ids, tile_expert, num_tiles);
}

// Small calls (decode): routing of all T tokens and the alignment in one CTA, one launch.
extern "C" __global__ void __launch_bounds__(1024) fi_route_align(const void* logits, int logits_bf16,
                                                                  const int* ids_in, const float* w_in, int T, int E,
                                                                  int k, int* topk_ids, float* topk_w, float* accum,
                                                                  int H, int El, int e0, int M, int* sorted_ids,
                                                                  int* tile_expert, int* num_tiles) {
    moe_route_align_body(logits, logits_bf16, ids_in, w_in, T, E, k, topk_ids, topk_w, accum, H, El, e0, M,
                         sorted_ids, tile_expert, num_tiles);
}

extern "C" __global__ void fi_finalize(const float* accum, void* out, int out_bf16, long n) {
    moe_finalize_body(accum, out, out_bf16, n);
}

extern "C" __global__ void fi_zero(float* p, long n) { moe_zero_body(p, n); }

extern "C" __global__ void fi_f32_to_bf16(const float* in, __nv_bfloat16* out, long n) {
    moe_f32_to_bf16_body(in, out, n);
}

// ---------------------------------------------------------------------------------------------
// prepare: canonical MXFP4 [E][N_real][K_real/2] + E8M0 scales [E][N_real][K_real/32] -> the padded
// row-major layout of ABI.md: q [E][N_pad][K_pad/2] (low nibble = even k), s [E][N_pad][K_pad/32];
// padding holds zero nibbles and scale 127 (1.0). One thread per output byte of q (and of s).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void fi_repack_mxfp4(const uint8_t* blocks, const uint8_t* scales, int E, int N_real,
                                          int K_real, int N_pad, int K_pad, uint8_t* q, uint8_t* s) {
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long qbytes = (long)E * N_pad * (K_pad / 2);
    if (idx < qbytes) {
        const int kb = (int)(idx % (K_pad / 2));
        const long rest = idx / (K_pad / 2);
        const int n = (int)(rest % N_pad);
        const int e = (int)(rest / N_pad);
        uint8_t v = 0;
        if (n < N_real && 2 * kb < K_real) v = blocks[((size_t)e * N_real + n) * (K_real / 2) + kb];
        q[idx] = v;
    }
    const long sbytes = (long)E * N_pad * (K_pad / 32);
    if (idx < sbytes) {
        const int kb = (int)(idx % (K_pad / 32));
        const long rest = idx / (K_pad / 32);
        const int n = (int)(rest % N_pad);
        const int e = (int)(rest / N_pad);
        uint8_t v = 127;
        if (n < N_real && kb < K_real / 32) v = scales[((size_t)e * N_real + n) * (K_real / 32) + kb];
        s[idx] = v;
    }
}
