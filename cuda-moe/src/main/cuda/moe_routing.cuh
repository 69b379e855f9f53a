// Device code shared by the CUDA kernel images of backend-marlin (moe_* kernels), backend-flashinfer
// (fi_*) and ep (ep_route): the activation functions, top-k routing with softmax over the k, expert
// alignment, and the small finalize/zero/convert bodies. Each image keeps its own extern "C" kernels,
// whose names and parameter lists are the ABI its Java side launches; they call the bodies below.
// Everything here is __forceinline__, so each image's machine code is what its own copy compiled to.
// The images' build scripts put this folder on nvcc's include path (see build-fatbin.sh here).
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

enum { MOE_ACT_SWIGLU_OAI = 0, MOE_ACT_SILU = 1, MOE_ACT_GELU = 2 };

// gate/up -> activated value (SwiGLU-OAI with alpha and limit, SiLU*up, GELU-tanh*up)
__device__ __forceinline__ float moe_act_apply(int act, float g, float u, float alpha, float limit) {
    if (act == MOE_ACT_SWIGLU_OAI) {
        g = fminf(g, limit);
        u = fminf(fmaxf(u, -limit), limit);
        return g / (1.0f + __expf(-alpha * g)) * (u + 1.0f);
    } else if (act == MOE_ACT_SILU) {
        return g / (1.0f + __expf(-g)) * u;
    } else {
        float c = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        return 0.5f * g * (1.0f + tanhf(c)) * u;
    }
}

// ---------------------------------------------------------------------------------------------
// one step of a warp's top-k over one token's logits (F32 or BF16 row lf/lb of E values): the largest
// logit strictly after the previous pick (prev_v, prev_i) in (value desc, index asc) order, NaN below
// every number; index 0 when fewer than k logits are finite. The result is the same on every lane.
// ---------------------------------------------------------------------------------------------
struct MoeTopkPick {
    float value;
    int index;
};

__device__ __forceinline__ MoeTopkPick moe_topk_next(int lane, const float* lf, const __nv_bfloat16* lb,
                                                     int logits_bf16, int E, float prev_v, int prev_i) {
    float best = -INFINITY;
    int bi = 0x7FFFFFFF;
    for (int x = lane; x < E; x += 32) {
        float v = logits_bf16 ? __bfloat162float(lb[x]) : lf[x];
        if (v != v) v = -INFINITY;
        // strictly after the previous pick in (value desc, index asc) order
        bool after = (v < prev_v) || (v == prev_v && x > prev_i);
        if (after && (v > best || (v == best && x < bi))) { best = v; bi = x; }
    }
#pragma unroll
    for (int off = 16; off; off >>= 1) {
        float ob = __shfl_xor_sync(0xFFFFFFFFu, best, off);
        int oi = __shfl_xor_sync(0xFFFFFFFFu, bi, off);
        if (ob > best || (ob == best && oi < bi)) { best = ob; bi = oi; }
    }
    if (bi == 0x7FFFFFFF) bi = 0;  // fewer finite logits than k
    return {best, bi};
}

// top-k and softmax over the k for one token: store(j, index, exp(value - max)) on lane 0 for each pick;
// returns the sum of the k exponentials (on every lane). FastExp: __expf (marlin, flashinfer), else expf (ep).
// Callers pass a lambda capturing by value: with [&] nvcc ordered the stores differently (other SASS than
// the former per-image copies); with [=] every image's machine code stayed byte for byte what it was.
template <bool FastExp, class Store>
__device__ __forceinline__ float moe_topk_softmax(int lane, const float* lf, const __nv_bfloat16* lb, int logits_bf16,
                                                  int E, int k, Store store) {
    float prev_v = INFINITY, m = 0.f, sum = 0.f;
    int prev_i = -1;
    for (int j = 0; j < k; j++) {
        const MoeTopkPick pick = moe_topk_next(lane, lf, lb, logits_bf16, E, prev_v, prev_i);
        if (j == 0) m = pick.value;
        float ex = FastExp ? __expf(pick.value - m) : expf(pick.value - m);
        sum += ex;
        if (lane == 0) store(j, pick.index, ex);
        prev_v = pick.value;
        prev_i = pick.index;
    }
    return sum;
}

// routing of token t by one warp: top-k of the logits and softmax over the k, or a copy of the given
// ids/weights (logits null). Also zeroes the token's FP32 accumulator row (H a multiple of 4).
__device__ __forceinline__ void moe_route_token(int t, int lane, const void* logits, int logits_bf16, const int* ids_in,
                                                const float* w_in, int E, int k, int* topk_ids, float* topk_w,
                                                float* accum, int H) {
    float4* row = reinterpret_cast<float4*>(accum + (size_t)t * H);
    for (int i = lane; i < H / 4; i += 32) row[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (!logits) {
        for (int j = lane; j < k; j += 32) {
            topk_ids[t * k + j] = ids_in[t * k + j];
            topk_w[t * k + j] = w_in[t * k + j];
        }
        return;
    }
    const float* lf = reinterpret_cast<const float*>(logits) + (size_t)t * E;
    const __nv_bfloat16* lb = reinterpret_cast<const __nv_bfloat16*>(logits) + (size_t)t * E;
    float sum = moe_topk_softmax<true>(lane, lf, lb, logits_bf16, E, k, [=](int j, int index, float ex) {
        topk_ids[t * k + j] = index;
        topk_w[t * k + j] = ex;  // normalized below
    });
    __syncwarp();
    for (int j = lane; j < k; j += 32) topk_w[t * k + j] = topk_w[t * k + j] / sum;
}

// The route kernel's body: one warp per token.
__device__ __forceinline__ void moe_route_body(const void* logits, int logits_bf16, const int* ids_in,
                                               const float* w_in, int T, int E, int k, int* topk_ids, float* topk_w,
                                               float* accum, int H) {
    const int warps = blockDim.x >> 5;
    const int t = blockIdx.x * warps + (threadIdx.x >> 5);
    if (t >= T) return;
    moe_route_token(t, threadIdx.x & 31, logits, logits_bf16, ids_in, w_in, E, k, topk_ids, topk_w, accum, H);
}

// ---------------------------------------------------------------------------------------------
// alignment: one CTA of 1024 threads. Counts rows per local expert, pads each expert's segment to
// the M tile, writes tile -> expert, the tile count, and the sorted row ids (-1 for padding).
// Standard: row id = t*k + j (from topk_ids, global expert ids, local range [e0, e0+El)).
// Batched: counts given per local expert, row id = e*max_t + i.
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ void moe_align_body(const int* topk_ids, int n_ids, const int* batch_counts, int max_t,
                                               int El, int e0, int M, int* sorted_ids, int* tile_expert,
                                               int* num_tiles) {
    __shared__ int cnt[1024];
    __shared__ int start[1024];
    __shared__ int cursor[1024];
    __shared__ int warp_sum[32];
    const int tid = threadIdx.x;
    cnt[tid] = 0;
    __syncthreads();
    if (batch_counts) {
        if (tid < El) cnt[tid] = min(max(batch_counts[tid], 0), max_t);
    } else {
        for (int i = tid; i < n_ids; i += 1024) {
            int e = topk_ids[i] - e0;
            if (e >= 0 && e < El) atomicAdd(&cnt[e], 1);
        }
    }
    __syncthreads();
    // exclusive scan of tiles per expert
    int tiles = (cnt[tid] + M - 1) / M;
    int x = tiles;
    const int lane = tid & 31, w = tid >> 5;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        int y = __shfl_up_sync(0xFFFFFFFFu, x, off);
        if (lane >= off) x += y;
    }
    if (lane == 31) warp_sum[w] = x;
    __syncthreads();
    if (w == 0) {
        int s = warp_sum[lane];
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            int y = __shfl_up_sync(0xFFFFFFFFu, s, off);
            if (lane >= off) s += y;
        }
        warp_sum[lane] = s;  // inclusive
    }
    __syncthreads();
    int incl = x + (w > 0 ? warp_sum[w - 1] : 0);
    int st = incl - tiles;
    start[tid] = st;
    cursor[tid] = st * M;
    if (tid == 1023) num_tiles[0] = incl;
    if (tid < El) {
        for (int t = 0; t < tiles; t++) tile_expert[st + t] = tid;
        for (int p = st * M + cnt[tid]; p < (st + tiles) * M; p++) sorted_ids[p] = -1;
    }
    __syncthreads();
    if (batch_counts) {
        long total = (long)El * max_t;
        for (long f = tid; f < total; f += 1024) {
            int e = (int)(f / max_t), i = (int)(f % max_t);
            if (i < cnt[e]) sorted_ids[start[e] * M + i] = (int)f;
        }
    } else {
        for (int i = tid; i < n_ids; i += 1024) {
            int e = topk_ids[i] - e0;
            if (e >= 0 && e < El) {
                int p = atomicAdd(&cursor[e], 1);
                sorted_ids[p] = i;
            }
        }
    }
}

// Small calls (decode): routing of all T tokens and the alignment in one CTA of 1024 threads.
__device__ __forceinline__ void moe_route_align_body(const void* logits, int logits_bf16, const int* ids_in,
                                                     const float* w_in, int T, int E, int k, int* topk_ids,
                                                     float* topk_w, float* accum, int H, int El, int e0, int M,
                                                     int* sorted_ids, int* tile_expert, int* num_tiles) {
    for (int t = threadIdx.x >> 5; t < T; t += 32)
        moe_route_token(t, threadIdx.x & 31, logits, logits_bf16, ids_in, w_in, E, k, topk_ids, topk_w, accum, H);
    __syncthreads();
    moe_align_body(topk_ids, T * k, nullptr, 0, El, e0, M, sorted_ids, tile_expert, num_tiles);
}

// FP32 accumulator -> output (BF16 or F32), n a multiple of 4; one thread per 4 values.
__device__ __forceinline__ void moe_finalize_body(const float* accum, void* out, int out_bf16, long n) {
    long i = ((long)blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if (i >= n) return;
    float4 v = *reinterpret_cast<const float4*>(accum + i);
    if (out_bf16) {
        __nv_bfloat162 a = __floats2bfloat162_rn(v.x, v.y), b = __floats2bfloat162_rn(v.z, v.w);
        uint2 u;
        u.x = *reinterpret_cast<uint32_t*>(&a);
        u.y = *reinterpret_cast<uint32_t*>(&b);
        *reinterpret_cast<uint2*>(reinterpret_cast<__nv_bfloat16*>(out) + i) = u;
    } else {
        *reinterpret_cast<float4*>(reinterpret_cast<float*>(out) + i) = v;
    }
}

// zero n floats (batched format accumulator), n a multiple of 4; one thread per 4 values
__device__ __forceinline__ void moe_zero_body(float* p, long n) {
    long i = ((long)blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if (i < n) *reinterpret_cast<float4*>(p + i) = make_float4(0.f, 0.f, 0.f, 0.f);
}

// F32 activations -> BF16 (round to nearest even); one thread per value
__device__ __forceinline__ void moe_f32_to_bf16_body(const float* in, __nv_bfloat16* out, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2bfloat16_rn(in[i]);
}

// An image's routing entry points, named by the image (prefix + route, align, route_align, finalize, zero,
// f32_to_bf16: the names cuda-moe's RoutingLaunches launches), each a thin call of the bodies above.
#define MOE_DEFINE_ROUTING_KERNELS(ROUTE, ALIGN, ROUTE_ALIGN, FINALIZE, ZERO, F32_TO_BF16)                             \
    extern "C" __global__ void ROUTE(const void* logits, int logits_bf16, const int* ids_in, const float* w_in, int T, \
                                     int E, int k, int* topk_ids, float* topk_w, float* accum, int H) {                \
        moe_route_body(logits, logits_bf16, ids_in, w_in, T, E, k, topk_ids, topk_w, accum, H);                        \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024)                                                                 \
        ALIGN(const int* topk_ids, int n_ids, const int* batch_counts, int max_t, int El, int e0, int M,               \
              int* sorted_ids, int* tile_expert, int* num_tiles) {                                                     \
        moe_align_body(topk_ids, n_ids, batch_counts, max_t, El, e0, M, sorted_ids, tile_expert, num_tiles);           \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024)                                                                 \
        ROUTE_ALIGN(const void* logits, int logits_bf16, const int* ids_in, const float* w_in, int T, int E, int k,    \
                    int* topk_ids, float* topk_w, float* accum, int H, int El, int e0, int M, int* sorted_ids,         \
                    int* tile_expert, int* num_tiles) {                                                                \
        moe_route_align_body(logits, logits_bf16, ids_in, w_in, T, E, k, topk_ids, topk_w, accum, H, El, e0, M,        \
                             sorted_ids, tile_expert, num_tiles);                                                      \
    }                                                                                                                  \
    extern "C" __global__ void FINALIZE(const float* accum, void* out, int out_bf16, long n) {                         \
        moe_finalize_body(accum, out, out_bf16, n);                                                                    \
    }                                                                                                                  \
    extern "C" __global__ void ZERO(float* p, long n) { moe_zero_body(p, n); }                                         \
    extern "C" __global__ void F32_TO_BF16(const float* in, __nv_bfloat16* out, long n) {                              \
        moe_f32_to_bf16_body(in, out, n);                                                                              \
    }
