// Hopper BF16 wgmma GEMMs: MXFP4 weights x BF16 activations (flashinfer-bf16). Contract: ABI.md.
//
// Design ("swap AB", as in mixed-input GEMMs for small token counts): the weights are the wgmma A
// operand, 64 output features per m64 fragment, decoded E2M1 -> BF16 by each consumer warpgroup
// straight into the A-register fragment (every weight decoded once per CTA); the tokens of one
// M tile are the wgmma N dimension (n = 8..256), B = BF16 activations in shared memory, K-major,
// 128-byte swizzle. Per tile the kernel issues wgmma with N = the tile's real rows rounded up to
// NSTEP, so padding rows of an expert's last tile cost (almost) no tensor-core work.
//
// One CTA = C consumer warpgroups (warps 0..4C-1, each FR m64 fragments: BN = 64*C*FR output
// features) + PW producer warps. Per stage (ST stages, mbarrier full/empty pairs): the producer's
// thread 0 bulk-copies (cp.async.bulk, complete_tx) the weight and scale blocks of KB 64-wide K
// blocks; all producer threads gather the tile's activation rows with 16-byte cp.async into the
// swizzled layout (zero-filled past K_real and for padding rows) and arrive with
// cp.async.mbarrier.arrive.noinc. Consumers: wait full, decode, wgmma (one commit group per k16
// step, one group left in flight), release the previous stage once its groups completed.
//
// Weight layout (fi_bf16_repack, from the padded layout of ABI.md):
//   Bq' u32 [El][N_pad/64][K_pad/64][w=4][lane=32][ks=4]: word = the 8 E2M1 values of lane's
//     A fragment (rows g, g+8 of warp slice w; k = 2t, 2t+1, 2t+8, 2t+9 of k16 step ks) as four
//     bf16-positioned pairs (pair i = register i), stored shifted as in backend-marlin's tile
//     layout (MAG_SHIFT {0,3,6,-3}, SGN_SHIFT {0,3,1,2}) so one pair decodes in 1-4 integer ops.
//   Fragment row r of warp slice w of m-tile mt is weight row mt*64 + 16w + (r < 8 ? 2r : 2(r-8)+1):
//     a lane holds rows 2j and 2j+1 (GEMM1: gate and up of column j; GEMM2: two adjacent outputs).
//   Bs' U8 [El][N_pad/64][K_pad/64 * 128 + 64]: per 64x64 block 128 bytes [w][g][4] = biased
//     exponents of (row g, kb0), (row g, kb1), (row g+8, kb0), (row g+8, kb1): code + 126 - X_row
//     clamped to [0, 254]; after the K blocks of an m-tile, 64 bytes X_row = max(0, max code of
//     the row - 128) (row order of the padded layout). Decoded weight = raw * 2^(byte-127) with
//     raw = value * 2^-126 (bf16 subnormal when the E2M1 exponent is 0; the bf16 multiply keeps
//     it), so one HMUL2 per pair; the epilogue multiplies by 2^X_row (X = 0 for real checkpoints).
#pragma once
#include <type_traits>

#include "fi_common.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FB16_WGMMA 1
#else
#define FB16_WGMMA 0
#endif

#define FB16_MAG_MASK 0x01C001C0u
#define FB16_SGN_MASK 0x80008000u

// ---------------------------------------------------------------------------------------------
// prepare: padded layout (fi_repack_mxfp4) -> the fragment layout above. One thread per output
// word of Bq', then one thread per weight row (its scale bytes and X). Runs on any architecture.
// Grid: ceil((El*N_pad*K_pad/8 + El*N_pad) / 256) x 256 threads.
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t fb16_shr(uint32_t v, int s) { return s >= 0 ? v >> s : v << (-s); }

extern "C" __global__ void fi_bf16_repack(const uint8_t* q_in, const uint8_t* s_in, int El, int N_pad, int K_pad,
                                         uint32_t* q_out, uint8_t* s_out) {
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const int nk = K_pad / 64, nm = N_pad / 64;
    const long words = (long)El * N_pad * (K_pad / 8);
    const long region = (long)nk * 128 + 64;  // scale bytes of one m-tile
    if (idx < words) {
        const int ks = (int)(idx & 3), lane = (int)((idx >> 2) & 31), w = (int)((idx >> 7) & 3);
        long rest = idx >> 9;
        const int kt = (int)(rest % nk);
        rest /= nk;
        const int mt = (int)(rest % nm), e = (int)(rest / nm);
        const int g = lane >> 2, t = lane & 3;
        const long row0 = (long)e * N_pad + mt * 64 + 16 * w + 2 * g;  // fragment row g; +1 = row g+8
        const int kbase = kt * 64 + ks * 16 + 2 * t;
        const int mag_shift[4] = {0, 3, 6, -3}, sgn_shift[4] = {0, 3, 1, 2};
        uint32_t word = 0;
#pragma unroll
        for (int i = 0; i < 4; i++) {  // register i: rows g / g+8 alternate, k +8 for i >= 2
            const long row = row0 + (i & 1);
            const int k = kbase + (i >> 1) * 8;
            const uint32_t b = q_in[row * (K_pad / 2) + k / 2];  // low nibble = k, high = k+1
            uint32_t mag = 0, sgn = 0;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const uint32_t nib = (b >> (4 * h)) & 0xFu;
                mag |= (nib & 7u) << (6 + 16 * h);
                sgn |= ((nib >> 3) & 1u) << (15 + 16 * h);
            }
            word |= fb16_shr(mag, mag_shift[i]) | fb16_shr(sgn, sgn_shift[i]);
        }
        q_out[idx] = word;
        return;
    }
    const long r = idx - words;
    if (r >= (long)El * N_pad) return;
    const int e = (int)(r / N_pad), row = (int)(r % N_pad);
    const int nkb = K_pad / 32;
    const uint8_t* src = s_in + r * nkb;
    int mx = 0;
    for (int kb = 0; kb < nkb; kb++) mx = max(mx, (int)src[kb]);
    const int X = max(0, mx - 128);
    const int mt = row / 64, rr = row % 64, w = rr / 16, q = rr % 16;
    uint8_t* reg = s_out + ((long)e * nm + mt) * region;
    reg[(long)nk * 128 + rr] = (uint8_t)X;
    uint8_t* dst = reg + (w * 8 + (q >> 1)) * 4 + (q & 1) * 2;
    for (int kb = 0; kb < nkb; kb++) {
        int v = (int)src[kb] + 126 - X;
        v = v < 0 ? 0 : (v > 254 ? 254 : v);
        dst[(long)(kb >> 1) * 128 + (kb & 1)] = (uint8_t)v;
    }
}

// ---------------------------------------------------------------------------------------------
// tile configurations: M (token tile = max wgmma N), C consumer warpgroups, FR m64 fragments per
// warpgroup, KB 64-wide K blocks per stage, ST stages, PW producer warps, NSTEP (wgmma N
// granule), REG (producer warpgroup gives registers to the consumers with setmaxnreg), MINB
// (CTAs per SM for __launch_bounds__).
// ---------------------------------------------------------------------------------------------
// NACC: independent accumulator sets per fragment (k16 step ks accumulates into set ks % NACC; summed
// in the epilogue). DBG (harness experiments only): 1 = no wgmma, 2 = no activation copies,
// 4 = no weight copies.
// SYNC: the consumers multiply with mma.sync m16n8k16 (same fragments; B via ldmatrix) instead of
// wgmma: at N <= 32 a register-A wgmma costs ~40 SM cycles each whatever N (measured, NOTES-bf16.md).
template <int M_, int C_, int FR_, int KB_, int ST_, int PW_, int NSTEP_, bool REG_, int MINB_, int NACC_ = 1,
          int DBG_ = 0, bool SYNC_ = false, int KSPLIT_ = 1>
struct Fb16Cfg {
    static constexpr bool SYNC = SYNC_;
    static constexpr int KSPLIT = KSPLIT_;  // consumer groups sharing the fragments, splitting the K blocks
    static constexpr int M = M_, C = C_, FR = FR_, KB = KB_, ST = ST_, PW = PW_, NSTEP = NSTEP_, MINB = MINB_;
    static constexpr int NACC = NACC_, DBG = DBG_;
    static constexpr bool REG = REG_;
    static constexpr int MT = C * FR / KSPLIT;  // 64-row m-tiles per CTA
    static constexpr int BN = 64 * MT;
    static constexpr int THREADS = 128 * C + 32 * PW;
    static constexpr int A_BYTES = KB * M * 128;  // per stage; multiple of 1024 (M % 8 == 0)
    static constexpr int W_BYTES = MT * KB * 2048;
    static constexpr int S_BYTES = MT * KB * 128;
    static constexpr int SMEM = 1024 + ST * (A_BYTES + W_BYTES + S_BYTES) + 2 * ST * 8 + M * 4 + M * 8;
    static_assert(M % NSTEP == 0 && M % 8 == 0 && M <= 256 && M <= THREADS, "tile");
    static_assert(!REG || PW == 4, "setmaxnreg needs a whole producer warpgroup");
    static_assert(C % KSPLIT == 0 && (KSPLIT == 1 || SYNC), "K split within a CTA: mma.sync consumers only");
    static_assert((KSPLIT - 1) * (C / KSPLIT) * 128 * FR * (M / 2) * 4 <= ST * A_BYTES, "K-split partials");
};

//              M   C  FR KB ST PW NSTEP REG  MINB NACC DBG SYNC KSPLIT
typedef Fb16Cfg<8, 1, 1, 4, 4, 1, 8, false, 4, 1, 0, true, 1> Fb16CfgM8;
typedef Fb16Cfg<32, 2, 1, 2, 4, 1, 8, false, 2, 1, 0, true, 1> Fb16CfgM32;
typedef Fb16Cfg<64, 2, 2, 1, 6, 4, 16, true, 1> Fb16CfgM64;
typedef Fb16Cfg<128, 2, 2, 1, 5, 4, 32, true, 1> Fb16CfgM128;

#if FB16_WGMMA
// ---------------------------------------------------------------------------------------------
// PTX helpers (sm_90a)
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t fb16_saddr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void fb16_mbar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void fb16_mbar_wait(uint32_t bar, int parity) {
    uint32_t done;
    do {
        asm volatile(
            "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    } while (!done);
}
__device__ __forceinline__ void fb16_mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void fb16_mbar_expect_tx(uint32_t bar, int bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void fb16_bulk_g2s(uint32_t dst, const void* src, int bytes, uint32_t bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst),
                 "l"(src), "r"(bytes), "r"(bar)
                 : "memory");
}
__device__ __forceinline__ void fb16_cp16(uint32_t dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
}
__device__ __forceinline__ void fb16_cp_arrive(uint32_t bar) {
    asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void fb16_wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void fb16_wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void fb16_wg_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// K-major B operand, 128-byte swizzle, 8-row groups 1024 bytes apart
__device__ __forceinline__ uint64_t fb16_desc(uint32_t saddr) {
    return (uint64_t)((saddr & 0x3FFFFu) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) |
           ((uint64_t)1 << 62);
}
__device__ __forceinline__ uint32_t fb16_hmul2(uint32_t a, uint32_t b) {
    uint32_t d;
    asm("mul.rn.bf16x2 %0, %1, %2;\n" : "=r"(d) : "r"(a), "r"(b));
    return d;
}
// biased exponent byte j of x -> bf16x2 2^(byte-127) in both halves
__device__ __forceinline__ uint32_t fb16_scale2(uint32_t x, int j) {
    return __byte_perm(x, 0, 0x4040 | j | (j << 8)) * 128u;
}

__device__ __forceinline__ void fb16_ldsm_x4(uint32_t (&r)[4], uint32_t saddr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(saddr));
}
__device__ __forceinline__ void fb16_mma(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// moe_act_apply with the division as a fast reciprocal (same formulas; relative error ~1e-7)
template <int ACT>
__device__ __forceinline__ float fb16_act(float g, float u, float alpha, float limit) {
    if (ACT == MOE_ACT_SWIGLU_OAI) {
        g = fminf(g, limit);
        u = fminf(fmaxf(u, -limit), limit);
        return __fdividef(g, 1.0f + __expf(-alpha * g)) * (u + 1.0f);
    } else if (ACT == MOE_ACT_SILU) {
        return __fdividef(g, 1.0f + __expf(-g)) * u;
    } else {
        return moe_act_apply(MOE_ACT_GELU, g, u, alpha, limit);
    }
}

// ---- generated by src/test/cuda/gen_wgmma.py (wgmma m64nNk16, A from registers) ----
template <int N> __device__ __forceinline__ void fi_wgmma_rs(float* d, const uint32_t* a, uint64_t desc);
template <> __device__ __forceinline__ void fi_wgmma_rs<8>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%0, %1, %2, %3}, {%4, %5, %6, %7}, %8, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<16>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<24>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n24k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}, {%12, %13, %14, %15}, %16, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<32>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, {%16, %17, %18, %19}, %20, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<48>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23}, {%24, %25, %26, %27}, %28, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<64>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<96>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}, {%48, %49, %50, %51}, %52, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<128>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<160>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79}, {%80, %81, %82, %83}, %84, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<192>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}, {%96, %97, %98, %99}, %100, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<224>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n224k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111}, {%112, %113, %114, %115}, %116, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
template <> __device__ __forceinline__ void fi_wgmma_rs<256>(float* d, const uint32_t* a, uint64_t desc) {
    asm volatile("wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, {%128, %129, %130, %131}, %132, 1, 1, 1, 0;\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
// ---- end of generated code ----

// ---------------------------------------------------------------------------------------------
// the GEMM
// ---------------------------------------------------------------------------------------------
struct Fb16Ctx {
    uint8_t *sA, *sW, *sS;
    uint32_t bars;  // shared address of full[ST] then empty[ST]
    int niter, nblk;
};

struct Fb16State {
    int s, ph, slab, it, prev_s, nk, b;
};

// One 64-wide K block: decode the 4 k16 steps of every fragment into a (16 registers per
// fragment), then one commit group of 4*FR wgmma; wait until the previous block's group is done
// (so a block decodes while the previous one multiplies) and release the previous stage.
template <class CF, int NE>
__device__ __forceinline__ void fb16_block(float (&acc)[CF::NACC][CF::FR][CF::M / 2], uint32_t (&a)[CF::FR][16],
                                           const Fb16Ctx& cx, Fb16State& st, int wg, int wl, int lane) {
    const int g = lane >> 2;
    if (st.slab == 0) {
        fb16_mbar_wait(cx.bars + 8 * st.s, st.ph);
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    const int mg = wg / CF::KSPLIT, kg = wg % CF::KSPLIT;
    const bool own = CF::KSPLIT == 1 || st.b % CF::KSPLIT == kg;
    st.b++;
#pragma unroll
    for (int f = 0; f < CF::FR; f++) {
        if (!own) break;
        const int blk = (mg * CF::FR + f) * CF::KB + st.slab;
        const uint4 wq =
            *reinterpret_cast<const uint4*>(cx.sW + st.s * CF::W_BYTES + blk * 2048 + (wl * 32 + lane) * 16);
        const uint32_t x =
            *reinterpret_cast<const uint32_t*>(cx.sS + st.s * CF::S_BYTES + blk * 128 + (wl * 8 + g) * 4);
        uint32_t sc[4];
#pragma unroll
        for (int j = 0; j < 4; j++) sc[j] = fb16_scale2(x, j);
#pragma unroll
        for (int ks = 0; ks < 4; ks++) {
            const uint32_t w = ks == 0 ? wq.x : ks == 1 ? wq.y : ks == 2 ? wq.z : wq.w;
            const uint32_t p0 = w & (FB16_MAG_MASK | FB16_SGN_MASK);
            const uint32_t p1 = (w * 8u) & (FB16_MAG_MASK | FB16_SGN_MASK);
            const uint32_t p2 = ((w * 64u) & FB16_MAG_MASK) | ((w * 2u) & FB16_SGN_MASK);
            const uint32_t p3 = ((w >> 3) & FB16_MAG_MASK) | ((w * 4u) & FB16_SGN_MASK);
            const uint32_t slo = sc[ks >> 1], shi = sc[2 + (ks >> 1)];
            a[f][4 * ks + 0] = fb16_hmul2(p0, slo);
            a[f][4 * ks + 1] = fb16_hmul2(p1, shi);
            a[f][4 * ks + 2] = fb16_hmul2(p2, slo);
            a[f][4 * ks + 3] = fb16_hmul2(p3, shi);
        }
    }
    const uint32_t a_base = fb16_saddr(cx.sA + st.s * CF::A_BYTES + st.slab * CF::M * 128);
    if (CF::SYNC) {
        // B fragments of token group j and k16 steps (2p, 2p+1): one ldmatrix.x4 (rows = tokens,
        // 16-byte chunks 4p..4p+3 of the 128-byte swizzled row)
        const int r = lane & 7, q = lane >> 3;
#pragma unroll
        for (int p = 0; p < 2; p++)
#pragma unroll
            for (int j = 0; j < NE / 8; j++) {
                if (!own) break;
                uint32_t b[4];
                const int n = 8 * j + r;
                fb16_ldsm_x4(b, a_base + n * 128 + (((4 * p + q) ^ r) << 4));
#pragma unroll
                for (int f = 0; f < CF::FR; f++) {
                    if (!(CF::DBG & 1)) {
                        fb16_mma(&acc[(2 * p) % CF::NACC][f][4 * j], &a[f][8 * p], b[0], b[1]);
                        fb16_mma(&acc[(2 * p + 1) % CF::NACC][f][4 * j], &a[f][8 * p + 4], b[2], b[3]);
                    }
                }
            }
        if (st.slab == st.nk - 1 && lane == 0) fb16_mbar_arrive(cx.bars + 8 * (CF::ST + st.s));  // stage read
    } else {
        fb16_wg_fence();
#pragma unroll
        for (int ks = 0; ks < 4; ks++) {
            const uint64_t desc = fb16_desc(a_base + ks * 32);
#pragma unroll
            for (int f = 0; f < CF::FR; f++)
                if (!(CF::DBG & 1)) fi_wgmma_rs<NE>(acc[ks % CF::NACC][f], &a[f][4 * ks], desc);
        }
        fb16_wg_commit();
        fb16_wg_wait<1>();
        if (st.slab == 0 && st.it > 0 && lane == 0)  // every group of the previous stage completed
            fb16_mbar_arrive(cx.bars + 8 * (CF::ST + st.prev_s));
    }
    if (++st.slab == st.nk) {
        st.slab = 0;
        st.prev_s = st.s;
        st.it++;
        st.nk = min(CF::KB, cx.nblk - st.it * CF::KB);
        if (++st.s == CF::ST) {
            st.s = 0;
            st.ph ^= 1;
        }
    }
}

// consumer main loop with wgmma N = NE; acc[f][0 .. NE/2) are accumulated. Blocks alternate
// between two A register sets, so a block's decode never writes registers an in-flight wgmma reads.
template <class CF, int NE>
__device__ __forceinline__ void fb16_mainloop(float (&acc)[CF::NACC][CF::FR][CF::M / 2], const Fb16Ctx& cx, int wg, int wl,
                                              int lane) {
    Fb16State st{0, 0, 0, 0, 0, min(CF::KB, cx.nblk), 0};
    uint32_t a0[CF::FR][16], a1[CF::FR][16];
    int b = 0;
    for (; b + 1 < cx.nblk; b += 2) {
        fb16_block<CF, NE>(acc, a0, cx, st, wg, wl, lane);
        fb16_block<CF, NE>(acc, a1, cx, st, wg, wl, lane);
    }
    if (b < cx.nblk) fb16_block<CF, NE>(acc, a0, cx, st, wg, wl, lane);
    if (!CF::SYNC) fb16_wg_wait<0>();
}

template <class CF, int V>
struct Fb16Dispatch {
    static __device__ __forceinline__ void run(int v, float (&acc)[CF::NACC][CF::FR][CF::M / 2], const Fb16Ctx& cx, int wg,
                                               int wl, int lane) {
        if (v == V)
            fb16_mainloop<CF, V * CF::NSTEP>(acc, cx, wg, wl, lane);
        else
            Fb16Dispatch<CF, V - 1>::run(v, acc, cx, wg, wl, lane);
    }
};
template <class CF>
struct Fb16Dispatch<CF, 0> {
    static __device__ __forceinline__ void run(int, float (&)[CF::NACC][CF::FR][CF::M / 2], const Fb16Ctx&, int, int, int) {}
};

template <class CF, bool G1>
__device__ __forceinline__ void fb16_gemm(const __nv_bfloat16* A, int a_stride, int a_div, int a_by_pos, int K_real,
                                          const int* sorted_ids, const int* tile_expert, const int* num_tiles,
                                          const uint8_t* Bq, const uint8_t* Bs, const float* bias, int N_real,
                                          int N_pad, int K_pad, int splits, void* out, int out_stride,
                                          const float* topk_w, int act, float alpha, float limit,
                                          const float* lora_add) {
    constexpr int M = CF::M, ST = CF::ST, MT = CF::MT, KB = CF::KB;
    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;
    const int nm = N_pad / 64, ntn = (nm + MT - 1) / MT;
    const int nt = blockIdx.x % ntn, split = blockIdx.x / ntn;
    const int nkb = K_pad / 64;
    const int kb_begin = (int)((long)split * nkb / splits), kb_end = (int)((long)(split + 1) * nkb / splits);
    if (kb_end <= kb_begin) return;
    const int nblk = kb_end - kb_begin;
    const int niter = (nblk + KB - 1) / KB;
    const int expert = __ldg(tile_expert + tile);
    const long region = (long)nkb * 128 + 64;

    extern __shared__ __align__(16) uint8_t fb16_dyn_smem[];
    const uint32_t raw = fb16_saddr(fb16_dyn_smem);
    uint8_t* base = fb16_dyn_smem + ((1024u - (raw & 1023u)) & 1023u);
    Fb16Ctx cx;
    cx.sA = base;
    cx.sW = base + ST * CF::A_BYTES;
    cx.sS = cx.sW + ST * CF::W_BYTES;
    uint64_t* bars = reinterpret_cast<uint64_t*>(cx.sS + ST * CF::S_BYTES);
    cx.bars = fb16_saddr(bars);
    cx.niter = niter;
    cx.nblk = nblk;
    int* ids_s = reinterpret_cast<int*>(bars + 2 * ST);

    const int tid = threadIdx.x;
    if (tid == 0) {
        for (int s = 0; s < ST; s++) {
            fb16_mbar_init(cx.bars + 8 * s, CF::PW * 32 + 1);
            fb16_mbar_init(cx.bars + 8 * (ST + s), CF::C * 4);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    long long* roff_s = reinterpret_cast<long long*>(ids_s + M);  // A row offset (elements) or -1
    int mine = 0;
    if (tid < M) {
        const int id = __ldg(sorted_ids + (long)tile * M + tid);
        ids_s[tid] = id;
        mine = id >= 0;
        roff_s[tid] = id < 0 ? -1LL : (long long)(a_by_pos ? tile * M + tid : id / a_div) * a_stride;
    }
    const int valid = __syncthreads_count(mine);  // the real rows of a tile come first (fi_align)
    if (valid == 0) return;
    const int n_eff = min(M, (valid + CF::NSTEP - 1) / CF::NSTEP * CF::NSTEP);
    const int warp = tid >> 5, lane = tid & 31;

    if (warp >= 4 * CF::C) {
        // ------------------------------------ producer ------------------------------------
        if (CF::REG) asm volatile("setmaxnreg.dec.sync.aligned.u32 56;\n" ::: "memory");
        const int ptid = tid - 128 * CF::C;
        const int mt0 = nt * MT;
        const int mts = min(MT, nm - mt0);
        for (int it = 0; it < niter; it++) {
            const int s = it % ST;
            if (it >= ST) fb16_mbar_wait(cx.bars + 8 * (ST + s), ((it / ST) - 1) & 1);
            const int kb0 = kb_begin + it * KB, nk = min(KB, kb_end - kb0);
            const uint32_t full = cx.bars + 8 * s;
            if (ptid == 0) {
                fb16_mbar_expect_tx(full, (CF::DBG & 4) ? 0 : mts * nk * (2048 + 128));
                for (int m = 0; m < mts && !(CF::DBG & 4); m++) {
                    const long mrow = (long)expert * nm + mt0 + m;
                    fb16_bulk_g2s(fb16_saddr(cx.sW + s * CF::W_BYTES + m * KB * 2048),
                                  Bq + (mrow * nkb + kb0) * 2048, nk * 2048, full);
                    fb16_bulk_g2s(fb16_saddr(cx.sS + s * CF::S_BYTES + m * KB * 128), Bs + mrow * region + kb0 * 128,
                                  nk * 128, full);
                }
            }
            const uint32_t a_st = fb16_saddr(cx.sA + s * CF::A_BYTES);
            const int ch = ptid & 7;
            for (int n = ptid >> 3; n < n_eff && !(CF::DBG & 2); n += CF::PW * 4) {
                const long long ro = roff_s[n];
                const uint32_t dst = a_st + n * 128 + ((ch ^ (n & 7)) << 4);
                for (int sl = 0; sl < nk; sl++) {
                    const int kcol = (kb0 + sl) * 64 + ch * 8;
                    const int bytes = ro < 0 ? 0 : min(16, max(0, (K_real - kcol) * 2));
                    const void* src = bytes ? (const void*)(A + ro + kcol) : (const void*)A;
                    fb16_cp16(dst + sl * M * 128, src, bytes);
                }
            }
            fb16_cp_arrive(full);
        }
        return;
    }
    // ------------------------------------ consumers ------------------------------------
    if (CF::REG) asm volatile("setmaxnreg.inc.sync.aligned.u32 224;\n" ::: "memory");
    const int wg = warp >> 2, wl = warp & 3, g = lane >> 2, t = lane & 3;
    float accs[CF::NACC][CF::FR][M / 2];
#pragma unroll
    for (int q = 0; q < CF::NACC; q++)
#pragma unroll
        for (int f = 0; f < CF::FR; f++)
#pragma unroll
            for (int i = 0; i < M / 2; i++) accs[q][f][i] = 0.f;
    Fb16Dispatch<CF, M / CF::NSTEP>::run(n_eff / CF::NSTEP, accs, cx, wg, wl, lane);
    float (&acc)[CF::FR][M / 2] = accs[0];
#pragma unroll
    for (int q = 1; q < CF::NACC; q++)
#pragma unroll
        for (int f = 0; f < CF::FR; f++)
#pragma unroll
            for (int i = 0; i < M / 2; i++) acc[f][i] += accs[q][f][i];
    const int mg = wg / CF::KSPLIT, kg = wg % CF::KSPLIT;
    if (CF::KSPLIT > 1) {  // partial sums of groups kg > 0 meet group kg = 0 through shared memory
        float* red = reinterpret_cast<float*>(cx.sA);
        const int tig = tid & 127;
        asm volatile("bar.sync 1, %0;\n" ::"r"(128 * CF::C) : "memory");
        if (kg > 0) {
            float* r = red + (size_t)((kg - 1) * (CF::C / CF::KSPLIT) + mg) * CF::FR * (M / 2) * 128;
#pragma unroll
            for (int f = 0; f < CF::FR; f++)
#pragma unroll
                for (int i = 0; i < M / 2; i++) r[(f * (M / 2) + i) * 128 + tig] = acc[f][i];
        }
        asm volatile("bar.sync 1, %0;\n" ::"r"(128 * CF::C) : "memory");
        if (kg > 0) return;
#pragma unroll
        for (int q = 1; q < CF::KSPLIT; q++) {
            const float* r = red + (size_t)((q - 1) * (CF::C / CF::KSPLIT) + mg) * CF::FR * (M / 2) * 128;
#pragma unroll
            for (int f = 0; f < CF::FR; f++)
#pragma unroll
                for (int i = 0; i < M / 2; i++) acc[f][i] += r[(f * (M / 2) + i) * 128 + tig];
        }
    }

    // ------------------------------------ epilogue ------------------------------------
#pragma unroll
    for (int f = 0; f < CF::FR; f++) {
        const int mt = nt * MT + mg * CF::FR + f;
        if (mt >= nm) continue;
        const int rr = wl * 16 + 2 * g;  // weight rows mt*64 + rr (fragment row g) and + 1 (row g+8)
        const int o0 = mt * 64 + rr;
        const uint8_t* xr = Bs + ((long)expert * nm + mt) * region + (long)nkb * 128;
        const float f0 = __int_as_float((127 + (int)xr[rr]) << 23), f1 = __int_as_float((127 + (int)xr[rr + 1]) << 23);
        if (G1) {
            const int j = o0 >> 1;
            const float bg = bias ? bias[(long)expert * N_pad + o0] : 0.f;
            const float bu = bias ? bias[(long)expert * N_pad + o0 + 1] : 0.f;
            __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(out);
            auto emit = [&](auto act_tag) {
                constexpr int ACT = decltype(act_tag)::value;
#pragma unroll
                for (int i = 0; i < M / 8; i++)
#pragma unroll
                    for (int e2 = 0; e2 < 2; e2++) {
                        const int n = 8 * i + 2 * t + e2;
                        if (n < valid && ids_s[n] >= 0) {
                            const long pos = (long)tile * M + n;
                            float gv = acc[f][4 * i + e2] * f0 + bg, uv = acc[f][4 * i + 2 + e2] * f1 + bu;
                            if (lora_add) {
                                gv += lora_add[pos * N_pad + o0];
                                uv += lora_add[pos * N_pad + o0 + 1];
                            }
                            o[pos * out_stride + j] = __float2bfloat16_rn(fb16_act<ACT>(gv, uv, alpha, limit));
                        }
                    }
            };
            if (act == MOE_ACT_SWIGLU_OAI)
                emit(std::integral_constant<int, MOE_ACT_SWIGLU_OAI>());
            else if (act == MOE_ACT_SILU)
                emit(std::integral_constant<int, MOE_ACT_SILU>());
            else
                emit(std::integral_constant<int, MOE_ACT_GELU>());
        } else {
            if (o0 >= N_real) continue;
            const bool first = split == 0;
            const float b0 = (bias && first) ? bias[(long)expert * N_pad + o0] : 0.f;
            const float b1 = (bias && first) ? bias[(long)expert * N_pad + o0 + 1] : 0.f;
            float* o = reinterpret_cast<float*>(out);
#pragma unroll
            for (int i = 0; i < M / 8; i++)
#pragma unroll
                for (int e2 = 0; e2 < 2; e2++) {
                    const int n = 8 * i + 2 * t + e2;
                    const int id = n < valid ? ids_s[n] : -1;
                    if (id >= 0) {
                        const long pos = (long)tile * M + n;
                        float v0 = acc[f][4 * i + e2] * f0 + b0, v1 = acc[f][4 * i + 2 + e2] * f1 + b1;
                        if (lora_add && first) {
                            v0 += lora_add[pos * N_pad + o0];
                            v1 += lora_add[pos * N_pad + o0 + 1];
                        }
                        const float wt = topk_w ? topk_w[id] : 1.f;
                        float* dst = o + (long)(id / a_div) * out_stride + o0;
                        if (o0 + 1 < N_real)
                            atomicAdd(reinterpret_cast<float2*>(dst), make_float2(wt * v0, wt * v1));
                        else
                            atomicAdd(dst, wt * v0);
                    }
                }
        }
    }
}
#endif  // FB16_WGMMA

// ---------------------------------------------------------------------------------------------
// entry points (ABI.md parameter list) and their _config companions
// ---------------------------------------------------------------------------------------------
#define FB16_PARAMS                                                                                                 \
    const void *A, const uint8_t *A_scales, int a_stride, int a_div, int a_by_pos, int K_real,                     \
        const int *sorted_ids, const int *tile_expert, const int *num_tiles, const uint8_t *Bq, const uint8_t *Bs, \
        const float *bias, int N_real, int N_pad, int K_pad, int splits, void *out, int out_stride,              \
        const float *topk_w, int act, float alpha, float limit, const float *lora_add
#define FB16_ARGS                                                                                                  \
    reinterpret_cast<const __nv_bfloat16*>(A), a_stride, a_div, a_by_pos, K_real, sorted_ids, tile_expert,        \
        num_tiles, Bq, Bs, bias, N_real, N_pad, K_pad, splits, out, out_stride, topk_w, act, alpha, limit, lora_add

#if FB16_WGMMA
#define FB16_BODY(CF, G1) fb16_gemm<CF, G1>(FB16_ARGS);
#else
#define FB16_BODY(CF, G1) __trap();
#endif

#define FB16_KERNELS(MM, CF)                                                                                  \
    extern "C" __global__ void __launch_bounds__(CF::THREADS, CF::MINB) fi_bf16_gemm1_m##MM(FB16_PARAMS) { \
        FB16_BODY(CF, true)                                                                                   \
    }                                                                                                         \
    extern "C" __global__ void __launch_bounds__(CF::THREADS, CF::MINB) fi_bf16_gemm2_m##MM(FB16_PARAMS) { \
        FB16_BODY(CF, false)                                                                                  \
    }                                                                                                         \
    extern "C" __global__ void fi_bf16_gemm1_m##MM##_config(int* o) {                                        \
        o[0] = CF::SMEM; o[1] = CF::THREADS; o[2] = CF::M; o[3] = CF::BN; o[4] = 0; o[5] = 1;               \
    }                                                                                                         \
    extern "C" __global__ void fi_bf16_gemm2_m##MM##_config(int* o) {                                        \
        o[0] = CF::SMEM; o[1] = CF::THREADS; o[2] = CF::M; o[3] = CF::BN; o[4] = 0; o[5] = 1;               \
    }

FB16_KERNELS(8, Fb16CfgM8)
FB16_KERNELS(32, Fb16CfgM32)
FB16_KERNELS(64, Fb16CfgM64)
FB16_KERNELS(128, Fb16CfgM128)
