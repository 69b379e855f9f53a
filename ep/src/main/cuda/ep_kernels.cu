// Expert-parallel dispatch and combine kernels of moe-oracle's ep module: routing into virtual expert
// ids, the all-to-all pack / expand / gather / local combine / combine steps, and conversions. The
// experts themselves run in the backend chosen per rank (marlin, batched-marlin, ...); NCCL moves the
// buffers in between. Every launch is sized by host-known upper bounds and reads the real counts from
// device memory, so nothing here needs a host round trip. Launched by EpLaunches.java.
//
// Virtual expert ids: rank r owns virtual ids [r*El, (r+1)*El); perm[g] maps a global expert g to the
// virtual id of the (rank, slot) that holds it (the identity for contiguous placement). Rows and ids
// are int32; activations BF16 on the wire, partial outputs F32.
#include <cuda_bf16.h>
#include <stdint.h>

#include "moe_routing.cuh"  // cuda-moe/src/main/cuda: the top-k and softmax marlin and flashinfer use too

#define EP_ERR_BAD_ID 1      // a given top-k id outside [0, E): the id is dropped, the forward throws
#define EP_ERR_OVERFLOW 2    // more rows than a buffer's capacity: rows dropped, the forward throws
#define EP_ERR_COUNTS 4      // the expanded counts disagree with the exchanged ones

#define EP_MAX_RANKS 64

// ---------------------------------------------------------------------------------------------
// routing: one warp per row t < Tpad. Rows t >= T are padding: ids -1 (routed nowhere), weight 0.
// From logits (F32 or BF16, [T, E]): top-k (value desc, ties to the lower id, NaN below every number),
// softmax over the k (the rule of the float64 reference; the shared moe_topk_softmax, as in marlin's moe_route).
// From given ids and weights ([T, k]): ids outside [0, E) set EP_ERR_BAD_ID and become -1. Output ids are virtual.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_route(const void* logits, int logits_bf16, const int* ids_in, const float* w_in, int T,
                                    int Tpad, int E, int k, const int* perm, int* ids_out, float* w_out, int* err) {
    const int warps = blockDim.x >> 5;
    const int t = blockIdx.x * warps + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (t >= Tpad) return;
    int* io = ids_out + (size_t)t * k;
    float* wo = w_out + (size_t)t * k;
    if (t >= T) {
        for (int j = lane; j < k; j += 32) { io[j] = -1; wo[j] = 0.f; }
        return;
    }
    if (!logits) {
        for (int j = lane; j < k; j += 32) {
            int g = ids_in[(size_t)t * k + j];
            if (g < 0 || g >= E) {
                atomicOr(err, EP_ERR_BAD_ID);
                io[j] = -1;
            } else {
                io[j] = perm[g];
            }
            wo[j] = w_in[(size_t)t * k + j];
        }
        return;
    }
    const float* lf = reinterpret_cast<const float*>(logits) + (size_t)t * E;
    const __nv_bfloat16* lb = reinterpret_cast<const __nv_bfloat16*>(logits) + (size_t)t * E;
    float sum = moe_topk_softmax<false>(lane, lf, lb, logits_bf16, E, k, [=](int j, int index, float ex) {
        io[j] = perm[index];
        wo[j] = ex;
    });
    __syncwarp();
    for (int j = lane; j < k; j += 32) wo[j] = wo[j] / sum;
}

// F32 -> BF16, n elements (round to nearest even).
extern "C" __global__ void ep_f32_to_bf16(const float* in, __nv_bfloat16* out, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long stride = (long)gridDim.x * blockDim.x;
    for (; i < n; i += stride) out[i] = __float2bfloat16_rn(in[i]);
}

// Copies one row of H BF16 values (H a multiple of 8: 16-byte vectors) with the threads of a block.
__device__ __forceinline__ void copy_row_bf16(const __nv_bfloat16* src, __nv_bfloat16* dst, int H) {
    const uint4* s = reinterpret_cast<const uint4*>(src);
    uint4* d = reinterpret_cast<uint4*>(dst);
    for (int i = threadIdx.x; i < H / 8; i += blockDim.x) d[i] = s[i];
}

// ---------------------------------------------------------------------------------------------
// all-to-all pack (source side): one block per token t < T. The token goes once to every rank that
// owns one of its k experts (a dedup by rank, as DeepEP does): slot p = atomicAdd(send_count[d]) in
// that rank's slab (stride cap rows), its BF16 row and its k (virtual id, weight) pairs copied there,
// pos[t*R + d] = p (-1: not sent there). expert_count[v] counts (token, expert) pairs per virtual
// expert (summed over ranks afterwards by an all-reduce: every receiver learns its experts' loads).
// send_count and expert_count are zeroed before.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_a2a_pack(const __nv_bfloat16* hidden, const int* ids, const float* w, int T, int k,
                                       int H, int El, int R, int cap, __nv_bfloat16* send_hidden, int* send_meta,
                                       int* pos, int* send_count, int* expert_count, int* err) {
    const int t = blockIdx.x;
    if (t >= T) return;
    __shared__ int s_pos[EP_MAX_RANKS];
    if (threadIdx.x == 0) {
        unsigned long long mask = 0ull;
        for (int j = 0; j < k; j++) {
            int v = ids[(size_t)t * k + j];
            if (v >= 0) {
                mask |= 1ull << (v / El);
                atomicAdd(expert_count + v, 1);
            }
        }
        for (int d = 0; d < R; d++) {
            int p = -1;
            if (mask & (1ull << d)) {
                p = atomicAdd(send_count + d, 1);
                if (p >= cap) { atomicOr(err, EP_ERR_OVERFLOW); p = -1; }
            }
            s_pos[d] = p;
        }
    }
    __syncthreads();
    for (int d = threadIdx.x; d < R; d += blockDim.x) pos[(size_t)t * R + d] = s_pos[d];
    const int meta = 2 * k;
    for (int d = 0; d < R; d++) {
        const int p = s_pos[d];
        if (p < 0) continue;
        const size_t row = (size_t)d * cap + p;
        copy_row_bf16(hidden + (size_t)t * H, send_hidden + row * H, H);
        for (int j = threadIdx.x; j < k; j += blockDim.x) {
            send_meta[row * meta + j] = ids[(size_t)t * k + j];
            send_meta[row * meta + k + j] = __float_as_int(w[(size_t)t * k + j]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// all-to-all expand (receiver side): one thread per (received row i, choice j), rows in slabs of cap
// per source rank p (valid rows: counts[p*R + me], the exchanged count matrix). A choice of a local
// expert e takes slot s = atomicAdd(ecnt[e]) of that expert's batch: row_of[e*tb_cap + s] = i,
// slot_of[i*k + j] = s (-1 for choices of other ranks). ecnt is zeroed before.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_a2a_expand(const int* recv_meta, const int* counts, int R, int me, int cap, int k,
                                         int El, int tb_cap, int* ecnt, int* row_of, int* slot_of, int* err) {
    long f = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (f >= (long)R * cap * k) return;
    const int i = (int)(f / k), j = (int)(f % k);
    const int p = i / cap, r = i % cap;
    if (r >= counts[p * R + me]) return;
    const int v = recv_meta[(size_t)i * 2 * k + j];
    const int e = v - me * El;
    int s = -1;
    if (v >= 0 && e >= 0 && e < El) {
        s = atomicAdd(ecnt + e, 1);
        if (s < tb_cap) {
            row_of[(size_t)e * tb_cap + s] = i;
        } else {
            atomicOr(err, EP_ERR_OVERFLOW);
            s = -1;
        }
    }
    slot_of[(size_t)i * k + j] = s;
}

// Checks the expanded per-expert counts against the all-reduced ones (expert_total of this rank's
// experts): a mismatch means the exchange went wrong.
extern "C" __global__ void ep_a2a_check_counts(const int* ecnt, const int* expert_total, int El, int me, int* err) {
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e < El && ecnt[e] != expert_total[me * El + e]) atomicOr(err, EP_ERR_COUNTS);
}

// ---------------------------------------------------------------------------------------------
// chunk gather: block (i, e) copies row c0 + i of local expert e's batch into X[e][i] (the batched
// format [El, tc, H]); counts_chunk[e] = clamp(ecnt[e] - c0, 0, tc).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_a2a_gather(const __nv_bfloat16* recv_hidden, const int* row_of, const int* ecnt,
                                         int tb_cap, int c0, int tc, int H, __nv_bfloat16* X, int* counts_chunk) {
    const int i = blockIdx.x, e = blockIdx.y;
    const int n = min(max(ecnt[e] - c0, 0), tc);
    if (i == 0 && threadIdx.x == 0) counts_chunk[e] = n;
    if (i >= n) return;
    const int row = row_of[(size_t)e * tb_cap + c0 + i];
    copy_row_bf16(recv_hidden + (size_t)row * H, X + ((size_t)e * tc + i) * H, H);
}

// ---------------------------------------------------------------------------------------------
// local combine: one block per received row i. partial[i] (F32, [R*cap, H]) accumulates, over the
// row's choices of local experts whose slot falls in this chunk [c0, c0+tc), weight * Y[e][s - c0]
// (the batched expert output, F32 [El, tc, H]); first != 0 starts from zero. Choices are summed in
// order j = 0..k-1 and chunks in order, so the result does not depend on the slot assignment.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_a2a_combine_local(const float* Y, const int* slot_of, const int* recv_meta,
                                                const int* counts, int R, int me, int cap, int k, int El, int H,
                                                int c0, int tc, int first, float* partial) {
    const int i = blockIdx.x;
    const int p = i / cap, r = i % cap;
    if (r >= counts[p * R + me]) return;
    const int* meta = recv_meta + (size_t)i * 2 * k;
    float* out = partial + (size_t)i * H;
    for (int h = threadIdx.x * 4; h < H; h += blockDim.x * 4) {
        float4 acc = first ? make_float4(0.f, 0.f, 0.f, 0.f) : *reinterpret_cast<const float4*>(out + h);
        for (int j = 0; j < k; j++) {
            const int s = slot_of[(size_t)i * k + j];
            if (s < c0 || s >= c0 + tc) continue;  // -1: another rank's expert
            const int e = meta[j] - me * El;
            const float wt = __int_as_float(meta[k + j]);
            const float4 y = *reinterpret_cast<const float4*>(Y + ((size_t)e * tc + (s - c0)) * H + h);
            acc.x += wt * y.x; acc.y += wt * y.y; acc.z += wt * y.z; acc.w += wt * y.w;
        }
        *reinterpret_cast<float4*>(out + h) = acc;
    }
}

// ---------------------------------------------------------------------------------------------
// combine (source side): one block per token t < T: out[t] = sum over ranks d (in order) of the
// partial that rank d sent back for it (ret, F32 slabs of cap rows per rank, row pos[t*R + d]);
// written as F32 or BF16. A token routed nowhere gets zeros.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void ep_a2a_combine(const float* ret, const int* pos, int T, int R, int cap, int H, void* out,
                                          int out_bf16) {
    const int t = blockIdx.x;
    if (t >= T) return;
    __shared__ int s_pos[EP_MAX_RANKS];
    for (int d = threadIdx.x; d < R; d += blockDim.x) s_pos[d] = pos[(size_t)t * R + d];
    __syncthreads();
    for (int h = threadIdx.x * 4; h < H; h += blockDim.x * 4) {
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (int d = 0; d < R; d++) {
            const int p = s_pos[d];
            if (p < 0) continue;
            const float4 y = *reinterpret_cast<const float4*>(ret + ((size_t)d * cap + p) * H + h);
            acc.x += y.x; acc.y += y.y; acc.z += y.z; acc.w += y.w;
        }
        if (out_bf16) {
            __nv_bfloat162* o = reinterpret_cast<__nv_bfloat162*>(reinterpret_cast<__nv_bfloat16*>(out) + (size_t)t * H + h);
            o[0] = __floats2bfloat162_rn(acc.x, acc.y);
            o[1] = __floats2bfloat162_rn(acc.z, acc.w);
        } else {
            *reinterpret_cast<float4*>(reinterpret_cast<float*>(out) + (size_t)t * H + h) = acc;
        }
    }
}
