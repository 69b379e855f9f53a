// Marlin-style W4A16 MoE kernels: MXFP4 weights decoded to BF16 in registers, BF16 tensor-core MMA
// (mma.sync m16n8k16, FP32 accumulate). One forward = route -> align -> gemm1 -> gemm2 -> finalize,
// all on one stream, no host round trip, capturable as a CUDA graph.
//
// Weight layout produced by moe_repack_mxfp4 (the "tile layout"):
//   q[e][ntile][kchunk][s=4][lane=32][16 bytes]   one 64(N) x 64(K) tile is 2048 contiguous bytes;
//     lane's 16 bytes = the B fragments of 8 n8-blocks for k16-step s: word w holds blocks 2w, 2w+1;
//     pair i of a word (values k, k+1 of block 2w+(i>>1), register i&1) is stored with its bits
//     at bf16 positions (magnitude -> bits 6-8 / 22-24, sign -> 15 / 31) shifted right by
//     MAG_SHIFT[i] (magnitudes) and SGN_SHIFT[i] (signs): the four pairs tile the 32 bits, so
//     decoding a pair costs 1 to 3 integer ops (see dequant_word).
//   sc[e][ntile][kchunk][kb=2][g=8][j=8]          biased exponent byte of column ntile*64 + j*8 + g,
//     k block kb: code + 126 - X (clamped to [0, 254]), so that (byte << 7) read as bf16 is
//     2^(code-127) * 2^126 / 2^X; the 2^-126 of the raw E2M1 bit pattern cancels and the
//     epilogue multiplies by 2^X (X = max(0, max code - 128) per tensor, 0 for real checkpoints).
// Padding (N or K not multiples of 64) is filled with zero weights, so callers may pad I and H.
#include <cuda_bf16.h>
#include <stdint.h>

#include "moe_routing.cuh"  // cuda-moe/src/main/cuda: activations, routing, alignment, finalize

#define NTILE 64
#define KCHUNK 64

// ---------------------------------------------------------------------------------------------
// small PTX helpers
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(src_bytes));
}

// predicated copy: nothing happens (and nothing is read) when pred is false. One asm block, so that the
// copy is a predicated instruction: with the C++ "if" around cp_async16, ptxas kept branches around the
// copies in the _lora GEMMs' main loop (and only there): 170 instead of 145 SASS instructions per iteration
// on sm_90a, +16% GEMM1 time at T=256. Used by the _lora GEMMs; the plain ones keep their tuned code.
__device__ __forceinline__ void cp_async16_pred(void* dst, const void* src, int src_bytes, bool pred) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %3, 0;\n @p cp.async.cg.shared.global [%0], [%1], 16, %2;\n}\n" ::"r"(
            smem_addr(dst)),
        "l"(src), "r"(src_bytes), "r"((int)pred));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
    __nv_bfloat162 x = *reinterpret_cast<__nv_bfloat162*>(&a);
    __nv_bfloat162 y = *reinterpret_cast<__nv_bfloat162*>(&b);
    __nv_bfloat162 z = __hmul2(x, y);
    return *reinterpret_cast<uint32_t*>(&z);
}

// Pair i of a word: magnitude bits stored shifted right by MAG_SHIFT[i] = {0, 3, 6, -3} and sign
// bits by SGN_SHIFT[i] = {0, 3, 1, 2} from their bf16 positions (found by exhaustive search: the
// four pairs tile 32 bits with the fewest integer-pipe ops; left shifts are written as multiplies
// so that they issue as IMAD on the FMA pipe, which the dequant otherwise leaves idle).
#define MAG_MASK 0x01C001C0u
#define SGN_MASK 0x80008000u

// One word -> four bf16x2 raw pairs holding value * 2^-126 (bf16 subnormal when the E2M1 exponent
// is 0, which the bf16 multiply keeps); the scale factor carries the 2^126.
__device__ __forceinline__ void dequant_word(uint32_t w, uint32_t (&p)[4]) {
    p[0] = w & (MAG_MASK | SGN_MASK);
    p[1] = (w * 8u) & (MAG_MASK | SGN_MASK);
    p[2] = ((w * 64u) & MAG_MASK) | ((w * 2u) & SGN_MASK);
    p[3] = ((w >> 3) & MAG_MASK) | ((w * 4u) & SGN_MASK);
}

// biased exponent byte j (0..3) of x -> bf16x2 of 2^(byte-127) in both halves
__device__ __forceinline__ uint32_t scale_bf16x2(uint32_t x, int j) {
    return __byte_perm(x, 0, 0x4040 | j | (j << 8)) * 128u;
}

// ---------------------------------------------------------------------------------------------
// LoRA (multi-adapter). Per sorted row pos = tile * M + r of an active tile, the token's adapter
// (adapter_ids[id / topk]; -1, out of range or an empty slot: none) and the tile's expert e pick the
// factors; rp is the slot's rank padded to a multiple of 8 (zero rows/columns, so the padding adds 0).
//   moe_lora_shrink_q1 (one launch, before GEMM1):  U13[pos][q] = A13[e][q] . x_row  (q < 2rp: gate A rows,
//       then up A rows); also row_slot[pos] (the slot, -1 without adapter, -2 padding) and U2[pos][*] = 0
//   GEMM1 epilogue, before the activation: + scaling * B13[e][n] . U13[pos][(n & 1) * rp ..) for its 64
//       columns (n interleaves gate and up as w13 does); after it, the tile's 32 activations (BF16-rounded,
//       as GEMM2 reads them) times A2[e][q][its 32 columns] are added into U2[pos][q] with atomics
//   GEMM2 epilogue (split 0), before the routing weight: + scaling * B2[e][n] . U2[pos][0..rp)
// The slot table is read on the device, so a CUDA graph replays with the adapters loaded at replay
// time. The GEMMs run as their _lora instantiations. Factors are BF16, device layouts of one slot: a13 [El][2rp][H], b13 [El][2I][rp] (row 2c = gate
// B row c, 2c+1 = up B row c), a2 [El][rp][I], b2 [El][H][rp]. U13 rows hold 2 * rmax floats, U2 rows
// rmax (rmax = the spec's largest rank, padded likewise). Without LoRA the GEMMs get lora_table = null.
// ---------------------------------------------------------------------------------------------
struct LoraSlot {
    const __nv_bfloat16* a13;
    const __nv_bfloat16* b13;
    const __nv_bfloat16* a2;
    const __nv_bfloat16* b2;
    int rank;  // padded to a multiple of 8; 0: empty
    float scaling;
};

__device__ __forceinline__ float bf_lo(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float bf_hi(uint32_t w) { return __uint_as_float(w & 0xFFFF0000u); }

// sum over q < rp of b[q] * u[q]; rp a multiple of 8, b and u 16-byte aligned
__device__ __forceinline__ float lora_dot(const __nv_bfloat16* __restrict__ b, const float* __restrict__ u, int rp) {
    float s0 = 0.f, s1 = 0.f;
    for (int q = 0; q < rp; q += 8) {
        const uint4 bv = __ldg(reinterpret_cast<const uint4*>(b + q));
        const float4 u0 = __ldg(reinterpret_cast<const float4*>(u + q));
        const float4 u1 = __ldg(reinterpret_cast<const float4*>(u + q + 4));
        s0 = fmaf(bf_lo(bv.x), u0.x, s0);
        s1 = fmaf(bf_hi(bv.x), u0.y, s1);
        s0 = fmaf(bf_lo(bv.y), u0.z, s0);
        s1 = fmaf(bf_hi(bv.y), u0.w, s1);
        s0 = fmaf(bf_lo(bv.z), u1.x, s0);
        s1 = fmaf(bf_hi(bv.z), u1.y, s1);
        s0 = fmaf(bf_lo(bv.w), u1.z, s0);
        s1 = fmaf(bf_hi(bv.w), u1.w, s1);
    }
    return s0 + s1;
}

// two B rows against one U row: d0 = b0 . u, d1 = b1 . u (q < rp, as lora_dot)
__device__ __forceinline__ void lora_dot2(const __nv_bfloat16* __restrict__ b0, const __nv_bfloat16* __restrict__ b1,
                                          const float* __restrict__ u, int rp, float& d0, float& d1) {
    float s0 = 0.f, s1 = 0.f;
    for (int q = 0; q < rp; q += 8) {
        const uint4 x = __ldg(reinterpret_cast<const uint4*>(b0 + q));
        const uint4 y = __ldg(reinterpret_cast<const uint4*>(b1 + q));
        const float4 u0 = __ldg(reinterpret_cast<const float4*>(u + q));
        const float4 u1 = __ldg(reinterpret_cast<const float4*>(u + q + 4));
        s0 = fmaf(bf_lo(x.x), u0.x, s0); s1 = fmaf(bf_lo(y.x), u0.x, s1);
        s0 = fmaf(bf_hi(x.x), u0.y, s0); s1 = fmaf(bf_hi(y.x), u0.y, s1);
        s0 = fmaf(bf_lo(x.y), u0.z, s0); s1 = fmaf(bf_lo(y.y), u0.z, s1);
        s0 = fmaf(bf_hi(x.y), u0.w, s0); s1 = fmaf(bf_hi(y.y), u0.w, s1);
        s0 = fmaf(bf_lo(x.z), u1.x, s0); s1 = fmaf(bf_lo(y.z), u1.x, s1);
        s0 = fmaf(bf_hi(x.z), u1.y, s0); s1 = fmaf(bf_hi(y.z), u1.y, s1);
        s0 = fmaf(bf_lo(x.w), u1.z, s0); s1 = fmaf(bf_lo(y.w), u1.z, s1);
        s0 = fmaf(bf_hi(x.w), u1.w, s0); s1 = fmaf(bf_hi(y.w), u1.w, s1);
    }
    d0 = s0;
    d1 = s1;
}

// GEMM1 epilogue, LoRA gate/up term of 4 interleaved columns n0..n0+3 (n0 even) of row pos
__device__ __forceinline__ float4 lora_expand13(const LoraSlot* __restrict__ ls, int e, int N_real, int n0,
                                                const float* __restrict__ u13_row) {
    const int rp = ls->rank;
    const __nv_bfloat16* b = ls->b13 + ((size_t)e * N_real + n0) * rp;
    float g0, g1, u0, u1;
    lora_dot2(b, b + 2 * rp, u13_row, rp, g0, g1);            // gate columns n0, n0 + 2
    lora_dot2(b + rp, b + 3 * rp, u13_row + rp, rp, u0, u1);  // up columns n0 + 1, n0 + 3
    const float sc = ls->scaling;
    return make_float4(sc * g0, sc * u0, sc * g1, sc * u1);
}

// Every GEMM exists twice: NAME without LoRA code (LORA = false: compiled as before LoRA existed; with the
// LoRA epilogue in the same kernel, ptxas allocated the M=16 main loop differently and the base GEMMs
// ran ~12% slower on an H100) and NAME_lora. The epilogue parts below are separate (non-inlined)
// functions, called once per block with the tile in shared memory.
// c: the reduced FP32 accumulator tile, row r at c + r * c_stride, 64 columns; the terms are added
// pre-divided by acc_scale (a power of two, so exactly), before the epilogue's scale, bias and activation.

// GEMM1: + scaling * B13[e][n] . U13[pos] for the tile's 64 interleaved gate/up columns n0 .. n0 + 63
__device__ __noinline__ void lora_expand13_tile(float* c, int c_stride, const int* s_slot, int M, int tile, int e,
                                                int n0, int N_real, float inv_scale,
                                                const LoraSlot* __restrict__ table, const float* __restrict__ U13,
                                                int rmax) {
    for (int it = threadIdx.x; it < M * 16; it += blockDim.x) {
        const int r = it >> 4, c4 = (it & 15) * 4;
        const int s = s_slot[r];
        if (s < 0) continue;
        const float4 d = lora_expand13(table + s, e, N_real, n0 + c4, U13 + (size_t)(tile * M + r) * 2 * rmax);
        float* p = c + r * c_stride + c4;
        p[0] += d.x * inv_scale;
        p[1] += d.y * inv_scale;
        p[2] += d.z * inv_scale;
        p[3] += d.w * inv_scale;
    }
}

// GEMM2: + scaling * B2[e][n] . U2[pos] for the tile's columns n0 .. n0 + 63 below N_real
__device__ __noinline__ void lora_expand2_tile(float* c, int c_stride, const int* s_slot, int M, int tile, int e,
                                               int n0, int N_real, float inv_scale, const LoraSlot* __restrict__ table,
                                               const float* __restrict__ U2, int rmax) {
    for (int it = threadIdx.x; it < M * NTILE; it += blockDim.x) {
        const int r = it >> 6, col = it & 63;
        const int s = s_slot[r];
        if (s < 0 || n0 + col >= N_real) continue;
        const LoraSlot* ls = table + s;
        const int rp = ls->rank;
        c[r * c_stride + col] += inv_scale * ls->scaling *
            lora_dot(ls->b2 + ((size_t)e * N_real + n0 + col) * rp, U2 + (size_t)(tile * M + r) * rmax, rp);
    }
}

// GEMM1, after the activation: U2[pos][q] += A2[e][q][c0 .. c0 + 32) . o_r for every row r of the tile
// with an adapter; o_r[2j] (j < 32, o_r = o + r * o_stride) holds the row's BF16-rounded activation of
// intermediate column c0 + j.
__device__ __noinline__ void lora_shrink2_partial(const float* o, int o_stride, const int* s_slot, int M, int tile,
                                                  int e, int c0, int I_real, const LoraSlot* __restrict__ table,
                                                  float* __restrict__ U2, int rmax) {
    for (int it = threadIdx.x; it < M * rmax; it += blockDim.x) {
        const int r = it / rmax, q = it - r * rmax;
        const int s = s_slot[r];
        if (s < 0) continue;
        const LoraSlot* ls = table + s;
        const int rp = ls->rank;
        if (q >= rp) continue;
        const uint4* a = reinterpret_cast<const uint4*>(ls->a2 + ((size_t)e * rp + q) * I_real + c0);
        const float* orow = o + r * o_stride;
        float s0 = 0.f, s1 = 0.f;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const uint4 av = __ldg(a + j);
            const float* oj = orow + 16 * j;
            s0 = fmaf(bf_lo(av.x), oj[0], s0);
            s1 = fmaf(bf_hi(av.x), oj[2], s1);
            s0 = fmaf(bf_lo(av.y), oj[4], s0);
            s1 = fmaf(bf_hi(av.y), oj[6], s1);
            s0 = fmaf(bf_lo(av.z), oj[8], s0);
            s1 = fmaf(bf_hi(av.z), oj[10], s1);
            s0 = fmaf(bf_lo(av.w), oj[12], s0);
            s1 = fmaf(bf_hi(av.w), oj[14], s1);
        }
        atomicAdd(U2 + (size_t)(tile * M + r) * rmax + q, s0 + s1);
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM: one CTA computes a [M, 64] tile of one expert, K split over warps (KW) and optionally over
// CTAs (splits, GEMM2 only: partials are summed by the atomic epilogue).
// ---------------------------------------------------------------------------------------------
template <int MB, int MW, int NW, int KW, int STAGES, int G>
struct TileCfg {
    static constexpr int THREADS_ALL = 128 * G;  // G groups of 4 warps, each with its own pipeline
    static constexpr int M = MB * 16;
    static constexpr int A_BYTES = M * KCHUNK * 2;
    static constexpr int B_BYTES = NTILE * KCHUNK / 2;  // 2048
    static constexpr int S_BYTES = NTILE * 2;           // 128
    static constexpr int STAGE_BYTES = A_BYTES + B_BYTES + S_BYTES;
    static constexpr int C_STRIDE = NTILE + 8;  // floats
    static constexpr int C_BYTES = M * C_STRIDE * 4;
    static constexpr int SMEM = (G * STAGES * STAGE_BYTES > C_BYTES ? G * STAGES * STAGE_BYTES : C_BYTES);
    static constexpr int WMB = MB / MW;     // m16 blocks per warp
    static constexpr int WNB = 8 / NW;      // n8 blocks per warp
    static constexpr int WSTEPS = 4 / KW;   // k16 steps per chunk per warp
    static_assert(MW * NW * KW == 4, "4 warps");
};

template <int MB, int MW, int NW, int KW, int STAGES, int G, bool GEMM2, bool LORA>
__device__ __forceinline__ void moe_gemm_body(
    const __nv_bfloat16* __restrict__ A, int a_stride, int a_div, int a_by_pos, int K_real,
    const int* __restrict__ sorted_ids, const int* __restrict__ tile_expert, const int* __restrict__ num_tiles,
    const uint8_t* __restrict__ Bq, const uint8_t* __restrict__ Bs, const float* __restrict__ bias,
    int N_real, int N_pad, int K_pad, int splits,
    void* __restrict__ out, int out_stride, const float* __restrict__ topk_w,
    int act, float alpha, float limit, float acc_scale, const LoraSlot* __restrict__ lora_table,
    const int* __restrict__ lora_row_slot, const float* __restrict__ lora_u13, float* __restrict__ lora_u2,
    int lora_rmax) {
    using C = TileCfg<MB, MW, NW, KW, STAGES, G>;
    constexpr int M = C::M;
    extern __shared__ __align__(128) uint8_t smem[];
    __shared__ int s_ids[M];
    __shared__ int s_arow[M];
    __shared__ int s_slot[M];  // LoRA slot of each row (-1: none)

    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;
    const int e = __ldg(tile_expert + tile);
    const int nt = blockIdx.x;
    const int n_tiles = N_pad / NTILE;
    const int nk = K_pad / KCHUNK;
    const int split = blockIdx.z;
    const int kc0 = (int)((long)split * nk / splits);
    const int kc1 = (int)((long)(split + 1) * nk / splits);
    const int tid = threadIdx.x & 127;  // index within the group
    const int grp = threadIdx.x >> 7;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    // warp -> (kw, mw, nw)
    const int kw = warp % KW;
    const int mw = (warp / KW) % MW;
    const int nw = warp / (KW * MW);

    for (int r = threadIdx.x; r < M; r += C::THREADS_ALL) {
        int id = __ldg(sorted_ids + tile * M + r);
        s_ids[r] = id;
        s_arow[r] = id < 0 ? -1 : (a_by_pos ? tile * M + r : id / a_div);
        s_slot[r] = LORA ? __ldg(lora_row_slot + tile * M + r) : -1;
    }
    __syncthreads();

    const size_t tile_base = (size_t)(e * n_tiles + nt) * nk;
    const uint8_t* bq = Bq + tile_base * C::B_BYTES;
    const uint8_t* bs = Bs + tile_base * C::S_BYTES;

    uint8_t* const gsmem = smem + grp * STAGES * C::STAGE_BYTES;
    auto stageA = [&](int st) { return gsmem + st * C::STAGE_BYTES; };
    auto stageB = [&](int st) { return gsmem + st * C::STAGE_BYTES + C::A_BYTES; };
    auto stageS = [&](int st) { return gsmem + st * C::STAGE_BYTES + C::A_BYTES + C::B_BYTES; };
    auto group_sync = [&]() {
        if constexpr (G == 1) {
            __syncthreads();
        } else {
            asm volatile("bar.sync %0, 128;\n" ::"r"(grp + 1));
        }
    };

    // A rows this thread copies: column segment c fixed, rows (tid >> 3) + 16 j; padding rows are
    // not loaded at all (their MMA rows are garbage and never stored)
    constexpr int AJ = M / 16;
    const int a_c = tid & 7;
    uint32_t a_off[AJ];
#pragma unroll
    for (int j = 0; j < AJ; j++) {
        int row = s_arow[(tid >> 3) + 16 * j];
        a_off[j] = row < 0 ? 0xFFFFFFFFu : (uint32_t)row * (uint32_t)a_stride + a_c * 8;
    }
    auto load_chunk = [&](int kc, int st) {
        cp_async16(stageB(st) + tid * 16, bq + (size_t)kc * C::B_BYTES + tid * 16, 16);
        if constexpr (LORA) {  // see cp_async16_pred; the plain GEMMs keep the code they were tuned with
            cp_async16_pred(stageS(st) + tid * 16, bs + (size_t)kc * C::S_BYTES + tid * 16, 16, tid < C::S_BYTES / 16);
        } else if (tid < C::S_BYTES / 16) {
            cp_async16(stageS(st) + tid * 16, bs + (size_t)kc * C::S_BYTES + tid * 16, 16);
        }
        uint8_t* sa = stageA(st);
        const int kbase = kc * KCHUNK;
        const int kbytes = (kbase + a_c * 8 < K_real) ? 16 : 0;
#pragma unroll
        for (int j = 0; j < AJ; j++) {
            int r = (tid >> 3) + 16 * j;
            if constexpr (LORA) {
                cp_async16_pred(sa + r * 128 + ((a_c ^ (r & 7)) << 4), A + a_off[j] + (kbytes ? kbase : 0), kbytes,
                                a_off[j] != 0xFFFFFFFFu);
            } else if (a_off[j] != 0xFFFFFFFFu) {
                cp_async16(sa + r * 128 + ((a_c ^ (r & 7)) << 4), A + a_off[j] + (kbytes ? kbase : 0), kbytes);
            }
        }
    };

    float acc[C::WMB][C::WNB][4];
#pragma unroll
    for (int i = 0; i < C::WMB; i++)
#pragma unroll
        for (int j = 0; j < C::WNB; j++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;

    // group g takes chunks kc0 + g, kc0 + g + G, ...
    const int nchunks = kc1 - kc0 > grp ? (kc1 - kc0 - grp + G - 1) / G : 0;
    auto chunk_of = [&](int i) { return kc0 + grp + i * G; };
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < nchunks) load_chunk(chunk_of(s), s);
        cp_async_commit();
    }

    for (int it = 0; it < nchunks; it++) {
        cp_async_wait<STAGES - 2>();
        group_sync();
        {
            int nxt = it + STAGES - 1;
            if (nxt < nchunks) load_chunk(chunk_of(nxt), nxt % STAGES);
            cp_async_commit();
        }
        {
        const int st = it % STAGES;
        const uint8_t* sa = stageA(st);
        const uint8_t* sb = stageB(st);
        const uint8_t* ss = stageS(st);
#pragma unroll
        for (int ws = 0; ws < C::WSTEPS; ws++) {
            const int s = kw + ws * KW;
            // B words for this warp's n8 blocks
            uint32_t bw[C::WNB / 2];
            const uint32_t* bsrc = reinterpret_cast<const uint32_t*>(sb + (s * 32 + lane) * 16) + nw * (C::WNB / 2);
            if constexpr (C::WNB == 8) {
                uint4 v = *reinterpret_cast<const uint4*>(bsrc);
                bw[0] = v.x; bw[1] = v.y; bw[2] = v.z; bw[3] = v.w;
            } else if constexpr (C::WNB == 4) {
                uint2 v = *reinterpret_cast<const uint2*>(bsrc);
                bw[0] = v.x; bw[1] = v.y;
            } else {
                bw[0] = bsrc[0];
            }
            uint2 scw = *reinterpret_cast<const uint2*>(ss + (s >> 1) * 64 + (lane >> 2) * 8);
            // A fragments
            uint32_t af[C::WMB][4];
#pragma unroll
            for (int mb = 0; mb < C::WMB; mb++) {
                int row = (mw * C::WMB + mb) * 16 + (lane & 15);
                int seg = s * 2 + (lane >> 4);
                ldmatrix_x4(af[mb], sa + row * 128 + ((seg ^ (row & 7)) << 4));
            }
#pragma unroll
            for (int wq = 0; wq < C::WNB / 2; wq++) {
                uint32_t p[4];
                dequant_word(bw[wq], p);
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int jb = wq * 2 + h;
                    const int j = nw * C::WNB + jb;  // n8 block within the tile
                    uint32_t sc = scale_bf16x2(j < 4 ? scw.x : scw.y, j & 3);
                    uint32_t b0 = bf16x2_mul(p[2 * h], sc);
                    uint32_t b1 = bf16x2_mul(p[2 * h + 1], sc);
#pragma unroll
                    for (int mb = 0; mb < C::WMB; mb++) mma_bf16(acc[mb][jb], af[mb], b0, b1);
                }
            }
        }
        }
    }
    cp_async_wait<0>();
    __syncthreads();

    // reduce the G*KW partial tiles into C (deterministic order)
    float* cs = reinterpret_cast<float*>(smem);
    const int g = lane >> 2, tg = lane & 3;
#pragma unroll
    for (int pass = 0; pass < G * KW; pass++) {
        if (grp * KW + kw == pass) {
#pragma unroll
            for (int mb = 0; mb < C::WMB; mb++)
#pragma unroll
                for (int jb = 0; jb < C::WNB; jb++) {
                    int row = (mw * C::WMB + mb) * 16 + g;
                    int col = (nw * C::WNB + jb) * 8 + tg * 2;
                    float2* p0 = reinterpret_cast<float2*>(cs + row * C::C_STRIDE + col);
                    float2* p1 = reinterpret_cast<float2*>(cs + (row + 8) * C::C_STRIDE + col);
                    if (pass == 0) {
                        *p0 = make_float2(acc[mb][jb][0], acc[mb][jb][1]);
                        *p1 = make_float2(acc[mb][jb][2], acc[mb][jb][3]);
                    } else {
                        float2 v0 = *p0, v1 = *p1;
                        *p0 = make_float2(v0.x + acc[mb][jb][0], v0.y + acc[mb][jb][1]);
                        *p1 = make_float2(v1.x + acc[mb][jb][2], v1.y + acc[mb][jb][3]);
                    }
                }
        }
        __syncthreads();
    }

    if constexpr (!GEMM2) {
        // gate/up pairs -> activation -> bf16 intermediate row (by sorted position)
        __nv_bfloat16* inter = reinterpret_cast<__nv_bfloat16*>(out);
        const float* bias_e = bias ? bias + (size_t)e * N_pad + nt * NTILE : nullptr;
        const bool lora = LORA && nt * NTILE < N_real;  // uniform over the block
        if (lora) {  // LoRA gate/up term, before the activation
            lora_expand13_tile(cs, C::C_STRIDE, s_slot, M, tile, e, nt * NTILE, N_real, 1.0f / acc_scale, lora_table,
                               lora_u13, lora_rmax);
            __syncthreads();
        }
        for (int i = threadIdx.x; i < M * 16; i += C::THREADS_ALL) {
            int r = i >> 4, p2 = (i & 15) * 2;  // two pairs per thread
            if (s_ids[r] < 0) continue;
            float* crow = cs + r * C::C_STRIDE + p2 * 2;
            float4 v = *reinterpret_cast<const float4*>(crow);
            v.x *= acc_scale; v.y *= acc_scale; v.z *= acc_scale; v.w *= acc_scale;
            if (bias_e) {
                float4 b = *reinterpret_cast<const float4*>(bias_e + p2 * 2);
                v.x += b.x; v.y += b.y; v.z += b.z; v.w += b.w;
            }
            float o0 = moe_act_apply(act, v.x, v.y, alpha, limit);
            float o1 = moe_act_apply(act, v.z, v.w, alpha, limit);
            __nv_bfloat162 o = __floats2bfloat162_rn(o0, o1);
            *reinterpret_cast<__nv_bfloat162*>(inter + (size_t)(tile * M + r) * out_stride + nt * (NTILE / 2) + p2) = o;
            if (lora) {  // the rounded activations, for the down shrink below (own float4 of cs, no race)
                crow[0] = __low2float(o);
                crow[2] = __high2float(o);
            }
        }
        if (lora) {
            __syncthreads();
            lora_shrink2_partial(cs, C::C_STRIDE, s_slot, M, tile, e, nt * (NTILE / 2), N_real / 2, lora_table, lora_u2,
                                 lora_rmax);
        }
    } else {
        float* accum = reinterpret_cast<float*>(out);
        const float* bias_e = (bias && split == 0) ? bias + (size_t)e * N_pad + nt * NTILE : nullptr;
        if (LORA && split == 0) {  // LoRA down term, before the routing weight
            lora_expand2_tile(cs, C::C_STRIDE, s_slot, M, tile, e, nt * NTILE, N_real, 1.0f / acc_scale, lora_table,
                              lora_u2, lora_rmax);
            __syncthreads();
        }
        for (int i = threadIdx.x; i < M * NTILE; i += C::THREADS_ALL) {
            int r = i >> 6, c = i & 63;
            int id = s_ids[r];
            int n = nt * NTILE + c;
            if (id < 0 || n >= N_real) continue;
            float v = cs[r * C::C_STRIDE + c] * acc_scale;
            if (bias_e) v += bias_e[c];
            float w = topk_w ? __ldg(topk_w + id) : 1.0f;
            atomicAdd(accum + (size_t)(id / a_div) * out_stride + n, w * v);
        }
    }
}

#define GEMM_PARAMS                                                                                      \
    const __nv_bfloat16 *A, int a_stride, int a_div, int a_by_pos, int K_real, const int *sorted_ids,    \
        const int *tile_expert, const int *num_tiles, const uint8_t *Bq, const uint8_t *Bs,              \
        const float *bias, int N_real, int N_pad, int K_pad, int splits, void *out, int out_stride,      \
        const float *topk_w, int act, float alpha, float limit, float acc_scale, const LoraSlot *lora_table,    \
        const int *lora_row_slot, const float *lora_u13, float *lora_u2, int lora_rmax
#define GEMM_ARGS                                                                                        \
    A, a_stride, a_div, a_by_pos, K_real, sorted_ids, tile_expert, num_tiles, Bq, Bs, bias, N_real,      \
        N_pad, K_pad, splits, out, out_stride, topk_w, act, alpha, limit, acc_scale, lora_table,         \
        lora_row_slot, lora_u13, lora_u2, lora_rmax

// LB: the blocks per multiprocessor the _lora kernel is compiled for (what its shared memory allows
// anyway). Without it ptxas held the M=16 _lora kernels to 64 registers and rematerialized values in
// the main loop (161 instead of 145 SASS instructions per iteration on sm_90a: +19% GEMM1 time at T=256).
#define DEFINE_GEMM(NAME, MB, MW, NW, KW, ST, G, G2, LB)                                                 \
    extern "C" __global__ void __launch_bounds__(128 * G) NAME(GEMM_PARAMS) {                             \
        moe_gemm_body<MB, MW, NW, KW, ST, G, G2, false>(GEMM_ARGS);                                      \
    }                                                                                                    \
    extern "C" __global__ void __launch_bounds__(128 * G, LB) NAME##_lora(GEMM_PARAMS) {                  \
        moe_gemm_body<MB, MW, NW, KW, ST, G, G2, true>(GEMM_ARGS);                                       \
    }                                                                                                    \
    extern "C" __global__ void NAME##_config(int* o) {                                                   \
        o[0] = TileCfg<MB, MW, NW, KW, ST, G>::SMEM;                                                     \
        o[1] = TileCfg<MB, MW, NW, KW, ST, G>::THREADS_ALL;                                              \
        o[2] = TileCfg<MB, MW, NW, KW, ST, G>::M;                                                        \
    }

// Tile configurations: MB (m16 blocks), MW x NW x KW warp grid, pipeline stages, groups. The
// *_config kernels report each configuration's dynamic shared memory, threads and M to the host.
#ifndef MOE_M16_STAGES
#define MOE_M16_STAGES 8
#endif
#ifndef MOE_M16_GROUPS
#define MOE_M16_GROUPS 1
#endif
#ifndef MOE_M32_STAGES
#define MOE_M32_STAGES 8
#endif
#define CFG_M16 1, 1, 1, 4, MOE_M16_STAGES, MOE_M16_GROUPS
#define CFG_M32 2, 1, 1, 4, MOE_M32_STAGES, 1
#ifndef CFG_M64
#define CFG_M64 4, 2, 1, 2, 4, 1
#endif
#ifndef CFG_M128
#define CFG_M128 8, 2, 2, 1, 4, 1
#endif
#define DEFINE_GEMM_(...) DEFINE_GEMM(__VA_ARGS__)
#ifndef LORA_LB_M16
#define LORA_LB_M16 6
#endif
DEFINE_GEMM_(moe_gemm1_m16, CFG_M16, false, LORA_LB_M16)
DEFINE_GEMM_(moe_gemm1_m32, CFG_M32, false, 4)
DEFINE_GEMM_(moe_gemm1_m64, CFG_M64, false, 4)
DEFINE_GEMM_(moe_gemm1_m128, CFG_M128, false, 3)
DEFINE_GEMM_(moe_gemm2_m16, CFG_M16, true, LORA_LB_M16)
DEFINE_GEMM_(moe_gemm2_m32, CFG_M32, true, 4)
DEFINE_GEMM_(moe_gemm2_m64, CFG_M64, true, 4)
DEFINE_GEMM_(moe_gemm2_m128, CFG_M128, true, 3)

// ---------------------------------------------------------------------------------------------
// Decode path (M = 8): a GEMV-style kernel over the same tile layout, for tiles of at most 8 rows.
// The weights are the MMA's A operand (m16 = 16 output columns: a lane's word wq holds n8 blocks
// 2wq and 2wq+1, which are exactly the A fragment rows g and g+8), the <= 8 token rows are the B
// operand (n8), so one m16n8k16 covers 16 columns x 8 tokens x k16 and a lane's 16-byte weight
// load feeds four MMAs. Weights, scales and activations go straight from global memory into
// registers (ld.global.nc, weights without L1 allocation), D chunks ahead per warp: no shared-
// memory staging, no cp.async, no barrier in the main loop. One CTA = one 64-column tile of one
// M=8 tile, K split over its W warps (and over CTAs with blockIdx.z, GEMM2); the partial tiles
// meet in shared memory in a fixed order, then the same epilogues as the MMA GEMMs run.
// ---------------------------------------------------------------------------------------------
#ifndef MOE_GEMV_WARPS
#define MOE_GEMV_WARPS 4
#endif
#ifndef MOE_GEMV_MIN_BLOCKS
#define MOE_GEMV_MIN_BLOCKS 5
#endif
#ifndef MOE_GEMV_DEPTH
#define MOE_GEMV_DEPTH 2
#endif
#define GEMV_M 8

__device__ __forceinline__ uint4 ldg_stream16(const void* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

__device__ __forceinline__ uint2 ldg_stream8(const void* p) {
    uint2 v;
    asm volatile("ld.global.nc.L1::no_allocate.v2.u32 {%0,%1}, [%2];\n" : "=r"(v.x), "=r"(v.y) : "l"(p));
    return v;
}

struct GemvChunk {
    uint4 q[4];      // this lane's 16 bytes of each k16 step
    uint2 sc[2];     // scale bytes of column g, n8 blocks 0..7, k blocks 0 and 1
    uint32_t x[4][2];  // B fragments (token g, k = 16s + 2tg + {0,1} and + {8,9})
};

template <int W, int D, bool GEMM2, bool LORA>
__device__ __forceinline__ void moe_gemv_body(
    const __nv_bfloat16* __restrict__ A, int a_stride, int a_div, int a_by_pos, int K_real,
    const int* __restrict__ sorted_ids, const int* __restrict__ tile_expert, const int* __restrict__ num_tiles,
    const uint8_t* __restrict__ Bq, const uint8_t* __restrict__ Bs, const float* __restrict__ bias,
    int N_real, int N_pad, int K_pad, int splits,
    void* __restrict__ out, int out_stride, const float* __restrict__ topk_w,
    int act, float alpha, float limit, float acc_scale, const LoraSlot* __restrict__ lora_table,
    const int* __restrict__ lora_row_slot, const float* __restrict__ lora_u13, float* __restrict__ lora_u2,
    int lora_rmax) {
    constexpr int M = GEMV_M;
    __shared__ __align__(16) float red[W][M][NTILE];
    __shared__ int s_ids[M];
    __shared__ int s_slot[M];  // LoRA slot of each row (-1: none)

    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;
    const int e = __ldg(tile_expert + tile);
    const int nt = blockIdx.x;
    const int n_tiles = N_pad / NTILE;
    const int nk = K_pad / KCHUNK;
    const int split = blockIdx.z;
    const int kc0 = (int)((long)split * nk / splits);
    const int kc1 = (int)((long)(split + 1) * nk / splits);
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int g = lane >> 2, tg = lane & 3;

    const size_t tile_base = (size_t)(e * n_tiles + nt) * nk;
    const uint8_t* bq = Bq + tile_base * 2048 + lane * 16;
    const uint8_t* bs = Bs + tile_base * 128 + g * 8;

    // this lane's token row (slot g); padding slots read slot 0's row (always a real row), their
    // output columns are never stored
    int id_g = __ldg(sorted_ids + tile * M + g);
    int id_0 = __shfl_sync(0xFFFFFFFFu, id_g, 0);
    int slot = id_g < 0 ? 0 : g;
    int id_r = id_g < 0 ? id_0 : id_g;
    long arow = a_by_pos ? (long)tile * M + slot : id_r / a_div;
    const uint32_t* xa = reinterpret_cast<const uint32_t*>(A + arow * a_stride) + tg;  // k = 2tg
    if (threadIdx.x < M) {
        s_ids[threadIdx.x] = __ldg(sorted_ids + tile * M + threadIdx.x);
        s_slot[threadIdx.x] = LORA ? __ldg(lora_row_slot + tile * M + threadIdx.x) : -1;
    }

    // warp w takes chunks kc0 + w, kc0 + w + W, ...
    const int n_my = (kc1 - kc0 > warp) ? (kc1 - kc0 - warp + W - 1) / W : 0;
    auto load = [&](GemvChunk& c, int i) {
        const int kc = kc0 + warp + i * W;
        const uint8_t* p = bq + (size_t)kc * 2048;
#pragma unroll
        for (int s = 0; s < 4; s++) c.q[s] = ldg_stream16(p + s * 512);
        const uint8_t* ps = bs + (size_t)kc * 128;
        c.sc[0] = ldg_stream8(ps);
        c.sc[1] = ldg_stream8(ps + 64);
#pragma unroll
        for (int s = 0; s < 4; s++) {
            const int k0 = kc * KCHUNK + s * 16;
            if (k0 < K_real) {
                c.x[s][0] = __ldg(xa + (k0 >> 1));
                c.x[s][1] = __ldg(xa + (k0 >> 1) + 4);
            } else {
                c.x[s][0] = 0u;
                c.x[s][1] = 0u;
            }
        }
    };

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;

    GemvChunk buf[D];
#pragma unroll
    for (int d = 0; d < D; d++)
        if (d < n_my) load(buf[d], d);

    for (int base = 0; base < n_my; base += D) {
#pragma unroll
        for (int d = 0; d < D; d++) {
            const int i = base + d;
            if (i < n_my) {
                GemvChunk& c = buf[d];
#pragma unroll
                for (int kb = 0; kb < 2; kb++) {
                    uint32_t sA[4], sB[4];
#pragma unroll
                    for (int wq = 0; wq < 4; wq++) {
                        const int j0 = 2 * wq, j1 = 2 * wq + 1;
                        sA[wq] = scale_bf16x2(j0 < 4 ? c.sc[kb].x : c.sc[kb].y, j0 & 3);
                        sB[wq] = scale_bf16x2(j1 < 4 ? c.sc[kb].x : c.sc[kb].y, j1 & 3);
                    }
#pragma unroll
                    for (int ss = 0; ss < 2; ss++) {
                        const int s = kb * 2 + ss;
                        const uint32_t w4[4] = {c.q[s].x, c.q[s].y, c.q[s].z, c.q[s].w};
#pragma unroll
                        for (int wq = 0; wq < 4; wq++) {
                            uint32_t p[4];
                            dequant_word(w4[wq], p);
                            uint32_t a[4];
                            a[0] = bf16x2_mul(p[0], sA[wq]);
                            a[1] = bf16x2_mul(p[2], sB[wq]);
                            a[2] = bf16x2_mul(p[1], sA[wq]);
                            a[3] = bf16x2_mul(p[3], sB[wq]);
                            mma_bf16(acc[wq], a, c.x[s][0], c.x[s][1]);
                        }
                    }
                }
                if (i + D < n_my) load(buf[d], i + D);
            }
        }
    }

    // partial tiles -> shared memory: red[warp][token slot][column]
#pragma unroll
    for (int wq = 0; wq < 4; wq++) {
        const int n0 = wq * 16 + g;
        red[warp][2 * tg][n0] = acc[wq][0];
        red[warp][2 * tg + 1][n0] = acc[wq][1];
        red[warp][2 * tg][n0 + 8] = acc[wq][2];
        red[warp][2 * tg + 1][n0 + 8] = acc[wq][3];
    }
    __syncthreads();

    if constexpr (!GEMM2) {
        __nv_bfloat16* inter = reinterpret_cast<__nv_bfloat16*>(out);
        const float* bias_e = bias ? bias + (size_t)e * N_pad + nt * NTILE : nullptr;
        const bool lora = LORA && nt * NTILE < N_real;  // uniform over the block
        if (lora) {  // LoRA gate/up term, before the activation: into warp 0's partial tile
            lora_expand13_tile(&red[0][0][0], NTILE, s_slot, M, tile, e, nt * NTILE, N_real, 1.0f / acc_scale,
                               lora_table, lora_u13, lora_rmax);
            __syncthreads();
        }
        for (int i = threadIdx.x; i < M * (NTILE / 2); i += 32 * W) {
            const int r = i / (NTILE / 2), p = i % (NTILE / 2);
            if (s_ids[r] < 0) continue;
            float gt = 0.f, up = 0.f;
#pragma unroll
            for (int w = 0; w < W; w++) {
                float2 v = *reinterpret_cast<const float2*>(&red[w][r][2 * p]);
                gt += v.x;
                up += v.y;
            }
            gt *= acc_scale;
            up *= acc_scale;
            if (bias_e) {
                gt += bias_e[2 * p];
                up += bias_e[2 * p + 1];
            }
            const __nv_bfloat16 o = __float2bfloat16_rn(moe_act_apply(act, gt, up, alpha, limit));
            inter[(size_t)(tile * M + r) * out_stride + nt * (NTILE / 2) + p] = o;
            if (lora) red[0][r][2 * p] = __bfloat162float(o);  // only this thread reads red[*][r][2p]
        }
        if (lora) {
            __syncthreads();
            lora_shrink2_partial(&red[0][0][0], NTILE, s_slot, M, tile, e, nt * (NTILE / 2), N_real / 2, lora_table,
                                 lora_u2, lora_rmax);
        }
    } else {
        float* accum = reinterpret_cast<float*>(out);
        const float* bias_e = (bias && split == 0) ? bias + (size_t)e * N_pad + nt * NTILE : nullptr;
        if (LORA && split == 0) {  // LoRA down term, before the routing weight: into warp 0's partial tile
            lora_expand2_tile(&red[0][0][0], NTILE, s_slot, M, tile, e, nt * NTILE, N_real, 1.0f / acc_scale,
                              lora_table, lora_u2, lora_rmax);
            __syncthreads();
        }
        for (int i = threadIdx.x; i < M * NTILE; i += 32 * W) {
            const int r = i / NTILE, c = i % NTILE;
            const int id = s_ids[r];
            const int n = nt * NTILE + c;
            if (id < 0 || n >= N_real) continue;
            float v = 0.f;
#pragma unroll
            for (int w = 0; w < W; w++) v += red[w][r][c];
            v *= acc_scale;
            if (bias_e) v += bias_e[c];
            const float wt = topk_w ? __ldg(topk_w + id) : 1.0f;
            atomicAdd(accum + (size_t)(id / a_div) * out_stride + n, wt * v);
        }
    }
}

#define DEFINE_GEMV(NAME, W, D, G2)                                                                      \
    extern "C" __global__ void __launch_bounds__(32 * W, MOE_GEMV_MIN_BLOCKS) NAME(GEMM_PARAMS) {         \
        moe_gemv_body<W, D, G2, false>(GEMM_ARGS);                                                       \
    }                                                                                                    \
    extern "C" __global__ void __launch_bounds__(32 * W, MOE_GEMV_MIN_BLOCKS) NAME##_lora(GEMM_PARAMS) {  \
        moe_gemv_body<W, D, G2, true>(GEMM_ARGS);                                                        \
    }                                                                                                    \
    extern "C" __global__ void NAME##_config(int* o) {                                                   \
        o[0] = 0;                                                                                        \
        o[1] = 32 * W;                                                                                   \
        o[2] = GEMV_M;                                                                                   \
    }
DEFINE_GEMV(moe_gemm1_m8, MOE_GEMV_WARPS, MOE_GEMV_DEPTH, false)
DEFINE_GEMV(moe_gemm2_m8, MOE_GEMV_WARPS, MOE_GEMV_DEPTH, true)

// ---------------------------------------------------------------------------------------------
// LoRA shrink of the gate/up input (see the LoRA section above); one launch before GEMM1.
// grid (ceil(2 * rmax / (8 * QW)), tiles_max, ceil(M / 16)), 256 threads: block z takes rows 16z .. 16z + 15
// of the tile, warp w the QW outputs q = (8 * blockIdx.x + w) * QW + j (j < QW) for each of them: per row,
// lanes over K with 16-byte loads, the x chunks loaded once for the QW dot products (U chunks in flight per
// operand). moe_lora_shrink (QW = 4, U = 3) reads a quarter of the x rows from L2 that QW = 1 does (at T=256
// on the 120b layer QW = 1 moved ~380 MB from L2: the kernel's bound); moe_lora_shrink_q1 (QW = 1, U = 6)
// keeps 4x the warps on the one or two rows per tile of decode calls (M = 8). Blocks with blockIdx.x == 0
// also write row_slot and zero the U2 rows that GEMM1 accumulates into. K is a multiple of 32; x and A rows
// are 16-byte aligned.
// ---------------------------------------------------------------------------------------------
#define LORA_ROWS 16
__device__ __forceinline__ void dot8_bf16(const uint4& a, const uint4& x, float& s0, float& s1) {
    s0 = fmaf(bf_lo(a.x), bf_lo(x.x), s0);
    s1 = fmaf(bf_hi(a.x), bf_hi(x.x), s1);
    s0 = fmaf(bf_lo(a.y), bf_lo(x.y), s0);
    s1 = fmaf(bf_hi(a.y), bf_hi(x.y), s1);
    s0 = fmaf(bf_lo(a.z), bf_lo(x.z), s0);
    s1 = fmaf(bf_hi(a.z), bf_hi(x.z), s1);
    s0 = fmaf(bf_lo(a.w), bf_lo(x.w), s0);
    s1 = fmaf(bf_hi(a.w), bf_hi(x.w), s1);
}

#define LORA_SHRINK_PARAMS                                                                               \
    const __nv_bfloat16 *__restrict__ X, int K, const int *__restrict__ sorted_ids,                      \
        const int *__restrict__ tile_expert, const int *__restrict__ num_tiles, int M,                   \
        const int *__restrict__ adapter_ids, int topk, int slots, const LoraSlot *__restrict__ table,    \
        int rmax, float *__restrict__ U13, float *__restrict__ U2, int *__restrict__ row_slot
#define LORA_SHRINK_ARGS X, K, sorted_ids, tile_expert, num_tiles, M, adapter_ids, topk, slots, table, rmax, U13, U2, row_slot

template <int QW, int U>
__device__ __forceinline__ void lora_shrink_body(LORA_SHRINK_PARAMS) {
    __shared__ int s_tok[LORA_ROWS];
    __shared__ int s_slot[LORA_ROWS];
    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;  // uniform over the block
    const int e = __ldg(tile_expert + tile);
    const int r0 = blockIdx.z * LORA_ROWS;
    const int nr = min(LORA_ROWS, M - r0);
    if ((int)threadIdx.x < nr) {
        const int pos = tile * M + r0 + threadIdx.x;
        const int id = __ldg(sorted_ids + pos);
        int slot = -2;
        if (id >= 0) {
            const int a = __ldg(adapter_ids + id / topk);
            slot = (a >= 0 && a < slots && table[a].rank > 0) ? a : -1;
        }
        s_tok[threadIdx.x] = id < 0 ? 0 : id / topk;
        s_slot[threadIdx.x] = slot;
        if (blockIdx.x == 0) row_slot[pos] = slot;
    }
    __syncthreads();
    if (blockIdx.x == 0) {
        for (int i = threadIdx.x; i < nr * rmax; i += blockDim.x) {
            const int rr = i / rmax;
            if (s_slot[rr] >= 0) U2[(size_t)(tile * M + r0 + rr) * rmax + (i - rr * rmax)] = 0.f;
        }
    }
    const int q0 = (blockIdx.x * 8 + (threadIdx.x >> 5)) * QW;
    const int lane = threadIdx.x & 31;
    for (int rr = 0; rr < nr; rr++) {
        const int slot = s_slot[rr];
        if (slot < 0) continue;
        const LoraSlot* ls = table + slot;
        const int rp = ls->rank;
        const int nq = min(QW, 2 * rp - q0);  // this warp's outputs for the row's adapter
        if (nq <= 0) continue;                 // uniform over the warp
        const __nv_bfloat16* a = ls->a13 + ((size_t)e * 2 * rp + q0) * K;
        const __nv_bfloat16* x = X + (size_t)s_tok[rr] * K;
        float s0[QW], s1[QW];
#pragma unroll
        for (int j = 0; j < QW; j++) s0[j] = s1[j] = 0.f;
        for (int k0 = lane * 8; k0 < K; k0 += 256 * U) {
            uint4 xv[U];
            int kk[U];
#pragma unroll
            for (int u = 0; u < U; u++) {
                // past K: load a valid chunk (no branch around the load) and zero the x operand
                const int k = k0 + 256 * u;
                kk[u] = k < K ? k : K - 8;
                xv[u] = __ldg(reinterpret_cast<const uint4*>(x + kk[u]));
                if (k >= K) xv[u] = make_uint4(0u, 0u, 0u, 0u);
            }
#pragma unroll
            for (int j = 0; j < QW; j++) {
                if (j < nq) {
                    uint4 av[U];
#pragma unroll
                    for (int u = 0; u < U; u++)
                        av[u] = __ldg(reinterpret_cast<const uint4*>(a + (size_t)j * K + kk[u]));
#pragma unroll
                    for (int u = 0; u < U; u++) dot8_bf16(av[u], xv[u], s0[j], s1[j]);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < QW; j++) {
            if (j < nq) {
                float sum = s0[j] + s1[j];
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
                if (lane == 0) U13[(size_t)(tile * M + r0 + rr) * 2 * rmax + q0 + j] = sum;
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) moe_lora_shrink(LORA_SHRINK_PARAMS) {
    lora_shrink_body<4, 3>(LORA_SHRINK_ARGS);
}

extern "C" __global__ void __launch_bounds__(256) moe_lora_shrink_q1(LORA_SHRINK_PARAMS) {
    lora_shrink_body<1, 6>(LORA_SHRINK_ARGS);
}

// ---------------------------------------------------------------------------------------------
// routing, alignment, finalize: the bodies are shared with flashinfer and ep (moe_routing.cuh); these
// are marlin's entry points, launched by cuda-moe's RoutingLaunches with the prefix moe_.
// ---------------------------------------------------------------------------------------------
MOE_DEFINE_ROUTING_KERNELS(moe_route, moe_align, moe_route_align, moe_finalize, moe_zero, moe_f32_to_bf16)

// ---------------------------------------------------------------------------------------------
// prepare: canonical MXFP4 [E][N_real][K_real/2] + scales [E][N_real][K_real/32] -> tile layout.
// One thread per output 32-bit word (4 pairs); x_bias = X of the scale encoding (see the header).
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t shr_signed(uint32_t x, int n) { return n >= 0 ? x >> n : x << -n; }

extern "C" __global__ void moe_repack_mxfp4(const uint8_t* blocks, const uint8_t* scales, int E, int N_real,
                                           int K_real, int N_pad, int K_pad, int x_bias, uint32_t* q, uint8_t* sc) {
    const int n_tiles = N_pad / NTILE, nk = K_pad / KCHUNK;
    const long words = (long)E * n_tiles * nk * 4 * 32 * 4;
    const int mag_shift[4] = {0, 3, 6, -3};
    const int sgn_shift[4] = {0, 3, 1, 2};
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < words) {
        int wq = (int)(idx & 3);
        int lane = (int)((idx >> 2) & 31);
        int s = (int)((idx >> 7) & 3);
        long rest = idx >> 9;
        int kc = (int)(rest % nk);
        rest /= nk;
        int nt = (int)(rest % n_tiles);
        int e = (int)(rest / n_tiles);
        uint32_t word = 0;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int j = 2 * wq + (i >> 1);
            int n = nt * NTILE + j * 8 + (lane >> 2);
            int kb = kc * KCHUNK + s * 16 + (lane & 3) * 2 + (i & 1) * 8;
            uint32_t mag = 0, sgn = 0;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int kk = kb + h;
                uint32_t nib = 0;
                if (n < N_real && kk < K_real) {
                    uint8_t b = blocks[((size_t)e * N_real + n) * (K_real / 2) + kk / 2];
                    nib = (kk & 1) ? (b >> 4) : (b & 0xF);
                }
                mag |= (nib & 7u) << (6 + 16 * h);
                sgn |= ((nib >> 3) & 1u) << (15 + 16 * h);
            }
            word |= shr_signed(mag, mag_shift[i]) | shr_signed(sgn, sgn_shift[i]);
        }
        q[idx] = word;
    }
    const long sbytes = (long)E * n_tiles * nk * 128;
    if (idx < sbytes) {
        int j = (int)(idx & 7);
        int g = (int)((idx >> 3) & 7);
        int kb = (int)((idx >> 6) & 1);
        long rest = idx >> 7;
        int kc = (int)(rest % nk);
        rest /= nk;
        int nt = (int)(rest % n_tiles);
        int e = (int)(rest / n_tiles);
        int n = nt * NTILE + j * 8 + g;
        int kblk = kc * 2 + kb;
        int v = 127;
        if (n < N_real && kblk < K_real / 32) {
            v = (int)scales[((size_t)e * N_real + n) * (K_real / 32) + kblk] + 126 - x_bias;
            v = v < 0 ? 0 : (v > 254 ? 254 : v);
        }
        sc[idx] = (uint8_t)v;
    }
}
