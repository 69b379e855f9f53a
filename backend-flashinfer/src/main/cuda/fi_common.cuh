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
// flashinfer's entry points (names and parameters: ABI.md; launched by cuda-moe's RoutingLaunches,
// prefix fi_). fi_route_align: small calls (decode), routing of all T tokens and the alignment in one CTA.
// ---------------------------------------------------------------------------------------------
MOE_DEFINE_ROUTING_KERNELS(fi_route, fi_align, fi_route_align, fi_finalize, fi_zero, fi_f32_to_bf16)

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
