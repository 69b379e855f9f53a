// MXFP8 x MXFP4 grouped GEMMs on Hopper FP8 wgmma (SASS QGMMA), sm_90a only. Included by fi_fp8.cuh.
// Contract: ABI.md ("fi_fp8w").
//
// CTA = 384 threads, persistent over (M tile, N tile) items of 128 x 128:
//  - warpgroup 0 (producer): cp.async of the tile's 128 activation rows (E4M3, 128 K per stage) into
//    the 128B-swizzled layout wgmma reads, and of the repacked MXFP4 weight rows into a staging ring;
//    then widens the weights E2M1 -> E4M3 (prmt lookups, one table per block) into the swizzled B
//    stage, folding each 32-block's E8M0 scale into the table (exact: an E2M1 value times 2^d is an
//    E4M3 value for d in [-8, 6]); the 128-K group keeps one exponent per tile (or per row when the
//    tile's codes span more than 14 binades).
//  - warpgroups 1, 2 (consumers, 64 rows each): per 128-K stage, four m64n128k32 wgmma into a
//    scratch fragment (scale-d 0 first), wait, then acc += scratch * 2^(group exponents of the
//    activation row and the weight tile/row) in FP32. The activations come folded the same way by
//    fi_quant_mxfp8f (one exponent per row per 128 K), so the promotion is one FFMA per element.
//    The two consumers drift apart by themselves, so one's promotion overlaps the other's wgmma.
#pragma once

#define FW_BM 128
#define FW_BN 128
// Shared memory of one CTA for a copy lookahead of D groups: D + 2 activation stages (a stage is
// acquired when its copies are issued, D groups before its widening), 2 widened-weight stages
// (written just before use: issuing group j + D already waited for the release of group j - 2),
// D + 1 staging slots of packed weights.
template <int D>
struct FwLayout {
    static constexpr int SA = D + 2, SB = 2, R = D + 1;
    static constexpr int A = 0;
    static constexpr int B = A + SA * 16384;
    static constexpr int STG = B + SB * 16384;
    static constexpr int STW = STG + R * 8192;
    static constexpr int SCA = STW + R * 128 * 8;
    static constexpr int SCW = SCA + SA * 128 * 4;
    static constexpr int FLG = SCW + SA * 128 * 4;
    static constexpr int LUT = FLG + SA * 16;
    static constexpr int BAR = LUT + 24 * 8;
    static constexpr int USED = BAR + 2 * SA * 8;
    static constexpr int SMEM = USED + 1024;  // + alignment of the swizzled tiles to 1024 bytes
};
#ifndef FW_D
#define FW_D 5  // H100, gpt-oss-120b forward: T=4096 3594 us at 5, 3832 at 2 (same call)
#endif

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FI_HAS_WGMMA 1
#endif

#ifdef FI_HAS_WGMMA
__device__ __forceinline__ void fw_mbar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void fw_mbar_wait(uint32_t bar, uint32_t parity) {
    asm volatile(
        "{\n"
        ".reg .pred P1;\n"
        "LAB_WAIT:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 P1, [%0], %1;\n"
        "@P1 bra DONE;\n"
        "bra LAB_WAIT;\n"
        "DONE:\n"
        "}\n" ::"r"(bar),
        "r"(parity)
        : "memory");
}
__device__ __forceinline__ void fw_mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void fw_cp_mbar_arrive(uint32_t bar) {
    asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void fw_fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ uint64_t fw_desc(uint32_t saddr) {
    // K-major, 128B swizzle: start >> 4, LBO 1 (unused), SBO 1024 B (8 rows of 128 B), layout 1
    return (uint64_t)((saddr & 0x3FFFFu) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}
__device__ __forceinline__ void fw_st_shared_v4(uint32_t addr, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"r"(addr), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
}
__device__ __forceinline__ uint4 fw_ld_shared_v4(uint32_t addr) {
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(addr) : "memory");
    return v;
}

#define FW_ACC64(x)                                                                                        \
    "+f"(x[0]), "+f"(x[1]), "+f"(x[2]), "+f"(x[3]), "+f"(x[4]), "+f"(x[5]), "+f"(x[6]), "+f"(x[7]), "+f"(x[8]), \
        "+f"(x[9]), "+f"(x[10]), "+f"(x[11]), "+f"(x[12]), "+f"(x[13]), "+f"(x[14]), "+f"(x[15]), "+f"(x[16]), \
        "+f"(x[17]), "+f"(x[18]), "+f"(x[19]), "+f"(x[20]), "+f"(x[21]), "+f"(x[22]), "+f"(x[23]), "+f"(x[24]), \
        "+f"(x[25]), "+f"(x[26]), "+f"(x[27]), "+f"(x[28]), "+f"(x[29]), "+f"(x[30]), "+f"(x[31]), "+f"(x[32]), \
        "+f"(x[33]), "+f"(x[34]), "+f"(x[35]), "+f"(x[36]), "+f"(x[37]), "+f"(x[38]), "+f"(x[39]), "+f"(x[40]), \
        "+f"(x[41]), "+f"(x[42]), "+f"(x[43]), "+f"(x[44]), "+f"(x[45]), "+f"(x[46]), "+f"(x[47]), "+f"(x[48]), \
        "+f"(x[49]), "+f"(x[50]), "+f"(x[51]), "+f"(x[52]), "+f"(x[53]), "+f"(x[54]), "+f"(x[55]), "+f"(x[56]), \
        "+f"(x[57]), "+f"(x[58]), "+f"(x[59]), "+f"(x[60]), "+f"(x[61]), "+f"(x[62]), "+f"(x[63])

// d (+)= A[64 x 32] * B[128 x 32]^T, both e4m3 from shared memory; scale_d 0 overwrites d
__device__ __forceinline__ void fw_wgmma(float (&d)[64], uint64_t da, uint64_t db, int scale_d) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1;\n"
        "}\n"
        : FW_ACC64(d)
        : "l"(da), "l"(db), "r"(scale_d));
}
__device__ __forceinline__ void fw_wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void fw_wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void fw_wgmma_wait0() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
__device__ __forceinline__ void fw_fence_regs(float (&d)[64]) {
#pragma unroll
    for (int i = 0; i < 64; i++) asm volatile("" : "+f"(d[i])::"memory");
}

template <bool GEMM2, int D>
__device__ __forceinline__ void fi_fp8w_body(FI_FP8_PARAMS) {
    using L = FwLayout<D>;
    extern __shared__ uint8_t fw_smem_raw[];
    const uint32_t raw_u32 = fi_smem_u32(fw_smem_raw);
    const uint32_t sbase = (raw_u32 + 1023u) & ~1023u;
    uint8_t* const sgen = fw_smem_raw + (sbase - raw_u32);  // generic pointer to the aligned base
    const int tid = threadIdx.x, lt = tid & 127;
    const int wg = __shfl_sync(0xFFFFFFFFu, tid >> 7, 0);  // warp-uniform for ptxas
    const int n_mt = __ldg(num_tiles);
    const int nN = (N_pad + FW_BN - 1) / FW_BN;
    const int items = n_mt * nN;
    const int G = (K_pad + 127) >> 7;
    if ((int)blockIdx.x >= items) return;
    const uint32_t bar_full = sbase + L::BAR, bar_empty = bar_full + L::SA * 8;
    uint8_t* const lut = sgen + L::LUT;  // [24][8] E4M3 codes of {0,.5,1,1.5,2,3,4,6} * 2^(i-17); row 0 zero
    if (tid < 24 * 8) {
        const int i = tid >> 3, m = tid & 7;
        // E2M1 magnitude m: 0, .5, 1, 1.5, 2, 3, 4, 6
        const float mag = m < 2 ? 0.5f * m : (1.f + 0.5f * (m & 1)) * fi_pow2((m >> 1) - 1);
        lut[tid] = i == 0 ? (uint8_t)0 : (uint8_t)fi_e4m3_sw(mag * fi_pow2(i - 17));
    }
    if (tid == 0) {
        for (int s = 0; s < L::SA; s++) {
            fw_mbar_init(bar_full + s * 8, 256);
            fw_mbar_init(bar_empty + s * 8, 256);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
    const uint8_t* A8 = reinterpret_cast<const uint8_t*>(A);
    const int sstride = a_stride >> 5;
    const int wss = fi_fp8_ws_stride(N_pad);
    const int my_items = (items - (int)blockIdx.x + (int)gridDim.x - 1) / (int)gridDim.x;
    const int total = my_items * G;

    if (wg == 0) {
        // the pool must balance: 384 x 168 at launch = 128 x 56 + 256 x 224 (else .inc blocks forever)
        asm volatile("setmaxnreg.dec.sync.aligned.u32 56;\n");
        // ------------------------------------ producer ------------------------------------
        const uint32_t* Wsr = reinterpret_cast<const uint32_t*>(Bs);
        // issue cursor
        int i_item = blockIdx.x, i_g = 0, i_e = 0, i_nt = 0, i_tile = 0;
        int arow[8];      // A rows (lt >> 3) + 16 i of the issue tile (-1: padding)
        int srow = -1;    // A row lt (scale words)
        auto setup = [&]() {
            i_tile = i_item / nN;
            i_nt = i_item % nN;
            i_e = __ldg(tile_expert + i_tile);
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int r = (lt >> 3) + 16 * i;
                const int id = __ldg(sorted_ids + i_tile * FW_BM + r);
                arow[i] = id < 0 ? -1 : (a_by_pos ? i_tile * FW_BM + r : id / a_div);
            }
            const int id = __ldg(sorted_ids + i_tile * FW_BM + lt);
            srow = id < 0 ? -1 : (a_by_pos ? i_tile * FW_BM + lt : id / a_div);
        };
        auto issue = [&](int j) {
            const int s = j % L::SA, rs = j % L::R;
            if (j >= L::SA) fw_mbar_wait(bar_empty + s * 8, ((j / L::SA) - 1) & 1);
            const int k0 = 128 * i_g;
            const uint32_t a_st = sbase + L::A + s * 16384;
            const int c = lt & 7;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int r = (lt >> 3) + 16 * i;
                const bool ok = arow[i] >= 0 && k0 + 16 * c < K_pad;
                fi_cp_async16(a_st + r * 128 + ((c ^ (r & 7)) << 4),
                              ok ? A8 + (size_t)arow[i] * a_stride + k0 + 16 * c : A8, ok ? 16 : 0);
            }
            {  // the 4-aligned word holding this row's group scale code (byte (addr & 3))
                const size_t addr = srow >= 0 ? (size_t)srow * sstride + 4 * i_g : 0;
                fi_cp_async4(sbase + L::SCA + (s * 128 + lt) * 4, A_scales + (addr & ~(size_t)3), srow >= 0 ? 4 : 0);
            }
            const int n = i_nt * FW_BN + lt;
            const bool nok = n < N_pad;
            const uint8_t* src = Bq + (((size_t)i_e * G + i_g) * N_pad + (nok ? n : 0)) * 64;
            const uint32_t stg = sbase + L::STG + rs * 8192 + lt * 64;
#pragma unroll
            for (int i = 0; i < 4; i++) fi_cp_async16(stg + ((i ^ ((lt >> 1) & 3)) << 4), src + 16 * i, nok ? 16 : 0);
            const uint32_t* rec = Wsr + ((size_t)i_e * G + i_g) * wss;
            const uint32_t stw = sbase + L::STW + (rs * 128 + lt) * 8;
            fi_cp_async4(stw, rec + (nok ? n : 0), nok ? 4 : 0);
            fi_cp_async4(stw + 4, rec + N_pad + i_nt, 4);
            fw_cp_mbar_arrive(bar_full + s * 8);
            fi_cp_commit();
            if (++i_g == G) {
                i_g = 0;
                i_item += gridDim.x;
                if (i_item < items) setup();
            }
        };
        setup();
#pragma unroll 1
        for (int j = 0; j < D; j++) {
            if (j < total) issue(j);
            else fi_cp_commit();
        }
#pragma unroll 1
        for (int jc = 0; jc < total; jc++) {
            if (jc + D < total) {
                issue(jc + D);  // waits for the release of group jc - 2: the widened stage jc % 2 is free
            } else {
                fi_cp_commit();
                if (jc >= 2) fw_mbar_wait(bar_empty + ((jc - 2) % L::SA) * 8, ((jc - 2) / L::SA) & 1);
            }
            fi_cp_wait<D>();
            const int s = jc % L::SA, rs = jc % L::R;
            const uint32_t stg = sbase + L::STG + rs * 8192 + lt * 64;
            const uint2 sw = *reinterpret_cast<const uint2*>(sgen + L::STW + (rs * 128 + lt) * 8);
            const uint32_t codes = sw.x, tinfo = sw.y;
            const bool uniform = ((tinfo >> 8) & 1u) == 0u;
            int gref = (int)(tinfo & 0xFFu);
            if (!uniform) {
                gref = max(max((int)(codes & 0xFF), (int)((codes >> 8) & 0xFF)),
                           max((int)((codes >> 16) & 0xFF), (int)(codes >> 24)));
            }
            uint32_t tlo[4], thi[4];
#pragma unroll
            for (int b = 0; b < 4; b++) {
                const int cb = (int)((codes >> (8 * b)) & 0xFFu);
                const int idx = cb ? min(max(cb - gref + 6 + 17, 0), 23) : 0;
                const uint2 t = *reinterpret_cast<const uint2*>(lut + idx * 8);
                tlo[b] = t.x;
                thi[b] = t.y;
            }
            const uint32_t b_row = sbase + L::B + (jc % L::SB) * 16384 + lt * 128;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                // quarters 2h, 2h+1 (staging pieces), words b = 0..3 each -> chunks 2b + h
                const uint4 p0 = fw_ld_shared_v4(stg + (((2 * h) ^ ((lt >> 1) & 3)) << 4));
                const uint4 p1 = fw_ld_shared_v4(stg + (((2 * h + 1) ^ ((lt >> 1) & 3)) << 4));
                const uint32_t x0[4] = {p0.x, p0.y, p0.z, p0.w}, x1[4] = {p1.x, p1.y, p1.z, p1.w};
#pragma unroll
                for (int b = 0; b < 4; b++) {
                    uint32_t o0, o1, o2, o3;
                    fi_widen(x0[b], tlo[b], thi[b], o0, o1);
                    fi_widen(x1[b], tlo[b], thi[b], o2, o3);
                    const int chunk = 2 * b + h;
                    fw_st_shared_v4(b_row + ((chunk ^ (lt & 7)) << 4), o0, o1, o2, o3);
                }
            }
            reinterpret_cast<float*>(sgen + L::SCW)[s * 128 + lt] = fi_pow2(gref - 133);
            if (lt == 0) reinterpret_cast<int*>(sgen + L::FLG)[s * 4] = uniform ? 1 : 0;
            fw_fence_proxy_async();
            fw_mbar_arrive(bar_full + s * 8);
        }
        fi_cp_wait<0>();
    } else {
        asm volatile("setmaxnreg.inc.sync.aligned.u32 224;\n");
        // ------------------------------------ consumers ------------------------------------
        const int cw = wg - 1, w = lt >> 5, lane = lt & 31, g8 = lane >> 2, t4 = lane & 3;
        const int r0 = cw * 64 + w * 16 + g8;  // tile rows r0, r0 + 8
        float acc[64], tmp[64];
        int j = 0;
#pragma unroll 1
        for (int item = blockIdx.x; item < items; item += gridDim.x) {
            const int tile = item / nN, nt = item % nN;
            const int pos0 = tile * FW_BM + r0, pos1 = pos0 + 8;
            const int id0 = __ldg(sorted_ids + pos0), id1 = __ldg(sorted_ids + pos1);
            const int ar0 = id0 < 0 ? -1 : (a_by_pos ? pos0 : id0 / a_div);
            const int ar1 = id1 < 0 ? -1 : (a_by_pos ? pos1 : id1 / a_div);
            const uint32_t sh0 = ar0 >= 0 ? (uint32_t)(((size_t)ar0 * sstride) & 3) * 8 : 0u;
            const uint32_t sh1 = ar1 >= 0 ? (uint32_t)(((size_t)ar1 * sstride) & 3) * 8 : 0u;
            const int active = __shfl_sync(0xFFFFFFFFu, (int)(__ldg(sorted_ids + tile * FW_BM + cw * 64) >= 0), 0);
#pragma unroll
            for (int i = 0; i < 64; i++) acc[i] = 0.f;
#pragma unroll 1
            for (int g = 0; g < G; g++, j++) {
                const int s = j % L::SA;
                fw_mbar_wait(bar_full + s * 8, (j / L::SA) & 1);
                if (active) {
                    fw_fence_proxy_async();
                    const uint64_t da = fw_desc(sbase + L::A + s * 16384 + cw * 8192);
                    const uint64_t db = fw_desc(sbase + L::B + (j % L::SB) * 16384);
                    // a half group (K_pad % 128 == 64) runs all four: its upper half is zero in
                    // both operands, and a conditional wgmma costs a compiler-inserted arrive
                    fw_wgmma_fence();
                    fw_wgmma(tmp, da, db, 0);
                    fw_wgmma(tmp, da + 2, db + 2, 1);
                    fw_wgmma(tmp, da + 4, db + 4, 1);
                    fw_wgmma(tmp, da + 6, db + 6, 1);
                    fw_wgmma_commit();
                    fw_wgmma_wait0();
                    fw_fence_regs(tmp);
                    const uint32_t* sa = reinterpret_cast<const uint32_t*>(sgen + L::SCA) + s * 128;
                    const float fa0 = fi_e8m0(sa[r0] >> sh0), fa1 = fi_e8m0(sa[r0 + 8] >> sh1);
                    const float* fw = reinterpret_cast<const float*>(sgen + L::SCW) + s * 128;
                    if (reinterpret_cast<const int*>(sgen + L::FLG)[s * 4]) {
                        const float f = fw[0], s0 = fa0 * f, s1 = fa1 * f;
#pragma unroll
                        for (int jn = 0; jn < 16; jn++) {
                            acc[jn * 4 + 0] = fmaf(tmp[jn * 4 + 0], s0, acc[jn * 4 + 0]);
                            acc[jn * 4 + 1] = fmaf(tmp[jn * 4 + 1], s0, acc[jn * 4 + 1]);
                            acc[jn * 4 + 2] = fmaf(tmp[jn * 4 + 2], s1, acc[jn * 4 + 2]);
                            acc[jn * 4 + 3] = fmaf(tmp[jn * 4 + 3], s1, acc[jn * 4 + 3]);
                        }
                    } else {
#pragma unroll
                        for (int jn = 0; jn < 16; jn++) {
                            const float2 f = *reinterpret_cast<const float2*>(fw + 8 * jn + 2 * t4);
                            acc[jn * 4 + 0] = fmaf(tmp[jn * 4 + 0], fa0 * f.x, acc[jn * 4 + 0]);
                            acc[jn * 4 + 1] = fmaf(tmp[jn * 4 + 1], fa0 * f.y, acc[jn * 4 + 1]);
                            acc[jn * 4 + 2] = fmaf(tmp[jn * 4 + 2], fa1 * f.x, acc[jn * 4 + 2]);
                            acc[jn * 4 + 3] = fmaf(tmp[jn * 4 + 3], fa1 * f.y, acc[jn * 4 + 3]);
                        }
                    }
                }
                fw_mbar_arrive(bar_empty + s * 8);
            }
            if (!active) continue;
            // ---- epilogue, straight from the fragment: rows r0 (h 0), r0 + 8 (h 1); columns
            // n0 + 8 jn + 2 t4 + {0, 1}
            const int n0 = nt * FW_BN;
            const int e = __ldg(tile_expert + tile);
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int id = h ? id1 : id0;
                if (id < 0) continue;
                const int pos = h ? pos1 : pos0;
                if constexpr (!GEMM2) {
                    float* inter = reinterpret_cast<float*>(out) + (size_t)pos * out_stride;
#pragma unroll
                    for (int jn = 0; jn < 16; jn++) {
                        const int n = n0 + 8 * jn + 2 * t4;
                        if (n >= N_pad) continue;
                        float gt = acc[jn * 4 + 2 * h], up = acc[jn * 4 + 2 * h + 1];
                        if (bias) {
                            const float2 bb = *reinterpret_cast<const float2*>(bias + (size_t)e * N_pad + n);
                            gt += bb.x;
                            up += bb.y;
                        }
                        if (lora_add) {
                            const float2 la = *reinterpret_cast<const float2*>(lora_add + (size_t)pos * N_pad + n);
                            gt += la.x;
                            up += la.y;
                        }
                        inter[n >> 1] = moe_act_apply(act, gt, up, alpha, limit);
                    }
                } else {
                    float* dst = reinterpret_cast<float*>(out) + (size_t)(id / a_div) * out_stride;
                    const float wt = topk_w ? __ldg(topk_w + id) : 1.0f;
#pragma unroll
                    for (int jn = 0; jn < 16; jn++) {
                        const int n = n0 + 8 * jn + 2 * t4;
                        if (n >= N_real) continue;
                        float v0 = acc[jn * 4 + 2 * h], v1 = acc[jn * 4 + 2 * h + 1];
                        if (bias) {
                            const float2 bb = *reinterpret_cast<const float2*>(bias + (size_t)e * N_pad + n);
                            v0 += bb.x;
                            v1 += bb.y;
                        }
                        if (lora_add) {
                            const float2 la = *reinterpret_cast<const float2*>(lora_add + (size_t)pos * N_pad + n);
                            v0 += la.x;
                            v1 += la.y;
                        }
                        if (n + 1 < N_real) atomicAdd(reinterpret_cast<float2*>(dst + n), make_float2(wt * v0, wt * v1));
                        else atomicAdd(dst + n, wt * v0);
                    }
                }
            }
        }
    }
}
#endif  // FI_HAS_WGMMA

// launch: grid (SMs * o[4]), block 384, dynamic shared memory o[0] (persistent; splits must be 1)
#ifdef FI_HAS_WGMMA
#define FW_BODY(G2, D) fi_fp8w_body<G2, D>(FI_FP8_ARGS);
#else
#define FW_BODY(G2, D) __trap();
#endif
#define FI_DEFINE_FP8W(NAME, G2, D)                                                                      \
    extern "C" __global__ void __launch_bounds__(384, 1) NAME(FI_FP8_PARAMS) { FW_BODY(G2, D) }        \
    extern "C" __global__ void NAME##_config(int* o) {                                                   \
        o[0] = FwLayout<D>::SMEM;                                                                        \
        o[1] = 384;                                                                                      \
        o[2] = FW_BM;                                                                                    \
        o[3] = FW_BN;                                                                                    \
        o[4] = 1;                                                                                        \
        o[5] = 1;                                                                                        \
    }
FI_DEFINE_FP8W(fi_fp8w_gemm1_m128, false, FW_D)
FI_DEFINE_FP8W(fi_fp8w_gemm2_m128, true, FW_D)
