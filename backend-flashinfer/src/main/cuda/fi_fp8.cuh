// MXFP8-activation FP8 GEMMs and the MXFP8 activation quantizers. Contract: ABI.md.
//
//  fi_quant_mxfp8        exact OCP MX bytes (= io.moeoracle.api.quant.Mxfp8, ScaleRule.OCP_FLOOR)
//  fi_quant_mxfp8f       the same, then folded to one exponent per 128 K (input of fi_fp8w_*)
//  fi_fp8_repack         ABI weight layout -> this family's layout (E2M1 nibbles placed for a
//                        3-instruction E2M1 -> E4M3 widening, grouped by 128 K)
//  fi_fp8_gemm{1,2}_m<M> mma.sync m16n8k32 e4m3 (sm_89+), exact per-32 scaling; M = 8/16/32 keep the
//                        weights as the A operand (swap AB, K split over warps, decode), M = 64 stages
//                        the activations in shared memory and splits N over 8 warps (prefill)
//  fi_fp8w_gemm{1,2}_m128 wgmma e4m3 (sm_90a only), producer warpgroup + 2 consumer warpgroups,
//                        persistent; partial sums promoted to FP32 once per 128 K (see ABI.md)
#pragma once
#include <cuda_fp8.h>

#include "fi_common.cuh"

// ---------------------------------------------------------------------------------------------
// E4M3 / E8M0 helpers
// ---------------------------------------------------------------------------------------------

// Round a (scaled) float to E4M3, nearest-even, saturating at +-448, sign kept on zero: the exact
// port of Mxfp8.encodeElement for finite inputs.
__device__ __forceinline__ uint32_t fi_e4m3_sw(float v) {
    const uint32_t sign = (__float_as_uint(v) >> 24) & 0x80u;
    const float x = fabsf(v);
    uint32_t code;
    if (!(x < 448.f)) {
        code = 0x7Eu;
    } else if (x < 0.015625f) {  // 2^-6: subnormals, steps of 2^-9
        code = (uint32_t)__float2int_rn(x * 512.f);
    } else {
        const int e = (int)((__float_as_uint(x) >> 23) & 0xFF) - 127;  // -6..8
        const float r = rintf(x * __int_as_float((130 - e) << 23));     // x * 2^(3-e): 8..16
        code = (uint32_t)(((e + 7) << 3) + (int)r - 8);
        code = min(code, 0x7Eu);
    }
    return sign | code;
}

// Two floats -> two E4M3 codes (low byte = a) with the hardware conversion (RN, satfinite).
__device__ __forceinline__ uint32_t fi_e4m3x2_hw(float a, float b) {
    return (uint32_t)__nv_cvt_float2_to_fp8x2(make_float2(a, b), __NV_SATFINITE, __NV_E4M3);
}

// E4M3 code -> float (NaN code not expected here)
__device__ __forceinline__ float fi_e4m3_dec(uint32_t c) {
    const uint32_t e = (c >> 3) & 15u, m = c & 7u;
    float v = e ? __uint_as_float(((e + 120u) << 23) | (m << 20)) : (float)m * 0.001953125f;
    return (c & 0x80u) ? -v : v;
}

// E8M0 code -> 2^(code-127) as float; 0xFF -> NaN; 0 -> 2^-127 (a float subnormal)
__device__ __forceinline__ float fi_e8m0(uint32_t c) {
    c &= 0xFFu;
    return c == 0xFFu ? __uint_as_float(0x7FC00000u) : (c ? __uint_as_float(c << 23) : __uint_as_float(0x00400000u));  // 2^-127 = 2^22 * 2^-149
}

// 2^e for any integer e in [-149, 127] (0 below)
__device__ __forceinline__ float fi_pow2(int e) {
    if (e >= -126) return __uint_as_float((uint32_t)(e + 127) << 23);
    if (e >= -149) return __uint_as_float(1u << (e + 149));
    return 0.f;
}

// ---------------------------------------------------------------------------------------------
// activation quantizer. One CTA of 128 threads per row; a thread takes 8 values, 4 threads a
// 32-block, a warp 256 values (so a 128-K fold group never straddles warps or rows).
// FOLD = 0: exact MXFP8. FOLD = 4: every block of a 128-K group is re-expressed on the group's
// largest scale (elements of smaller-scale blocks shifted down exactly, rounded to nearest even only
// where they fall into E4M3 subnormals); each block's scale byte then holds that group scale.
// ---------------------------------------------------------------------------------------------
#ifndef FI_QUANT_HW
#define FI_QUANT_HW 1
#endif

template <int FOLD, bool HW>
__device__ __forceinline__ void fi_quant_body(const void* __restrict__ in, int in_bf16, int in_stride,
                                              const int* __restrict__ rows_dev, int rows_mul, int rows_max,
                                              int K_real, int K_pad, uint8_t* __restrict__ q, uint8_t* __restrict__ s) {
    const int rows = rows_dev ? min(__ldg(rows_dev) * rows_mul, rows_max) : rows_max;
    const int r = blockIdx.x;
    if (r >= rows) return;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    const float* rf = reinterpret_cast<const float*>(in) + (size_t)r * in_stride;
    const __nv_bfloat16* rb = reinterpret_cast<const __nv_bfloat16*>(in) + (size_t)r * in_stride;
    const bool vec = in_bf16 ? ((in_stride & 7) == 0 && ((uintptr_t)in & 15) == 0)
                             : ((in_stride & 3) == 0 && ((uintptr_t)in & 15) == 0);
    for (int base = warp * 256; base < K_pad; base += nw * 256) {
        const int k0 = base + lane * 8;
        const bool inside = k0 < K_pad;
        float v[8];
        if (inside && vec && k0 + 8 <= K_real) {
            if (in_bf16) {
                uint4 u = *reinterpret_cast<const uint4*>(rb + k0);
                const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    v[2 * i] = __uint_as_float(w[i] << 16);
                    v[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
                }
            } else {
                float4 a = *reinterpret_cast<const float4*>(rf + k0), b = *reinterpret_cast<const float4*>(rf + k0 + 4);
                v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
            }
        } else {
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int k = k0 + i;
                v[i] = (inside && k < K_real) ? (in_bf16 ? __bfloat162float(rb[k]) : rf[k]) : 0.f;
            }
        }
        float amax = 0.f;
        bool bad = false;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const float a = fabsf(v[i]);
            bad |= !(a <= 3.402823466e38f);  // NaN or infinity
            amax = fmaxf(amax, a);
        }
#pragma unroll
        for (int off = 1; off < 4; off <<= 1) {
            amax = fmaxf(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, off));
            bad |= __shfl_xor_sync(0xFFFFFFFFu, (int)bad, off) != 0;
        }
        const bool pad_block = (k0 & ~31) >= K_real;  // block wholly in the padding
        int code;  // this block's E8M0 code
        if (bad) {
            code = 0xFF;
        } else if (amax == 0.f) {
            code = pad_block ? 127 : 0;
        } else {
            const uint32_t bits = __float_as_uint(amax);
            int E = (int)(bits >> 23) - 127;
            if ((bits >> 23) == 0) E = (31 - __clz((int)bits)) - 149;  // float subnormal
            code = min(max(E - 8, -127), 127) + 127;
        }
        uint32_t c[8];
        if (code == 0xFF) {
#pragma unroll
            for (int i = 0; i < 8; i++) c[i] = 0u;
        } else {
            const float inv = __uint_as_float((uint32_t)(254 - code) << 23);  // 2^-X, X = code - 127 in [-127, 119]
            if (HW) {
#pragma unroll
                for (int i = 0; i < 8; i += 2) {
                    const uint32_t p = fi_e4m3x2_hw(v[i] * inv, v[i + 1] * inv);
                    c[i] = p & 0xFFu;
                    c[i + 1] = p >> 8;
                }
            } else {
#pragma unroll
                for (int i = 0; i < 8; i++) c[i] = fi_e4m3_sw(v[i] * inv);
            }
        }
        int out_code = code;
        if (FOLD) {
            // group scale: the largest code of the group's blocks that are not wholly padding
            int key = code == 0xFF ? 1000 : (pad_block || !inside ? -1 : code);
#pragma unroll
            for (int off = 4; off < 4 * FOLD; off <<= 1) key = max(key, __shfl_xor_sync(0xFFFFFFFFu, key, off));
            const int gcode = key >= 1000 ? 0xFF : (key < 0 ? 127 : key);
            if (!pad_block) {
                out_code = gcode;
                if (gcode != 0xFF && code < gcode) {
                    const float sh = fi_pow2(code - gcode);
#pragma unroll
                    for (int i = 0; i < 8; i++) c[i] = fi_e4m3_sw(fi_e4m3_dec(c[i]) * sh);
                }
            }
        }
        if (inside) {
            uint2 o;
            o.x = c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24);
            o.y = c[4] | (c[5] << 8) | (c[6] << 16) | (c[7] << 24);
            *reinterpret_cast<uint2*>(q + (size_t)r * K_pad + k0) = o;
            if ((lane & 3) == 0) s[(size_t)r * (K_pad >> 5) + (k0 >> 5)] = (uint8_t)out_code;
        }
    }
}

// launch: grid (rows_max), block 128
extern "C" __global__ void __launch_bounds__(128) fi_quant_mxfp8(const void* in, int in_bf16, int in_stride,
                                                                 const int* rows_dev, int rows_mul, int rows_max,
                                                                 int K_real, int K_pad, uint8_t* q, uint8_t* s) {
    fi_quant_body<0, FI_QUANT_HW != 0>(in, in_bf16, in_stride, rows_dev, rows_mul, rows_max, K_real, K_pad, q, s);
}

// launch: grid (rows_max), block 128. Input of the fi_fp8w_* GEMMs.
extern "C" __global__ void __launch_bounds__(128) fi_quant_mxfp8f(const void* in, int in_bf16, int in_stride,
                                                                  const int* rows_dev, int rows_mul, int rows_max,
                                                                  int K_real, int K_pad, uint8_t* q, uint8_t* s) {
    fi_quant_body<4, FI_QUANT_HW != 0>(in, in_bf16, in_stride, rows_dev, rows_mul, rows_max, K_real, K_pad, q, s);
}

// ---------------------------------------------------------------------------------------------
// weight repack (prepare, once): ABI layout (Bq [El][N_pad][K_pad/2], Bs [El][N_pad][K_pad/32])
// -> Wq [El][G][N_pad][64] (G = ceil(K_pad/128)) and, per (expert, group), a record of N_pad + NT
// u32 (NT = ceil(N_pad/128)): Ws [N_pad] then Wt [NT] (fi_fp8_ws_stride).
// Wq: one row's 128 K of group g is 16 words; word (t*4 + b) holds k = 128g + 32b + 8t .. +7 (block
// b, quarter t). In a word, nibble i (i = 0..7) has the magnitude (3 bits) of value i in its low bits
// and in bit 3 the sign of value (i-1)/2 (odd i) or of value 4 + i/2 (even i): then
//   E4M3(values 0..3) = prmt(T, x & 0x77777777) | (x & 0x80808080)
//   E4M3(values 4..7) = prmt(T, (x & 0x77777777) >> 16) | ((x << 4) & 0x80808080)
// with T the 8 E4M3 codes of the magnitudes {0, .5, 1, 1.5, 2, 3, 4, 6} (times a power of two).
// Ws: the 4 E8M0 codes of the group's blocks (byte b = block b); 0 for a block whose 32 values are
// all zero (padding included), so that a scale never matters where nothing is multiplied.
// Wt: per 128-row tile and group, byte 0 = the largest code of the tile's 128 x 4 blocks, bit 8 set
// when some non-zero block lies more than 14 binades below it (then the wgmma producer folds each
// row on its own maximum instead).
// lossy (nullable, 2 ints, accumulated): [0] tile-groups with bit 8 set, [1] row-groups whose blocks
// span more than 14 binades (there the wgmma path rounds the smallest blocks' values).
// launch: grid (NT, G, El), block 128
// ---------------------------------------------------------------------------------------------
// u32 per (expert, group) of the scale records: Ws [N_pad] then Wt [ceil(N_pad/128)]
__host__ __device__ __forceinline__ int fi_fp8_ws_stride(int N_pad) { return N_pad + (N_pad + 127) / 128; }

extern "C" __global__ void __launch_bounds__(128) fi_fp8_repack(const uint8_t* __restrict__ Bq,
                                                                const uint8_t* __restrict__ Bs, int El, int N_pad,
                                                                int K_pad, uint8_t* __restrict__ Wq,
                                                                uint32_t* __restrict__ Ws, int* lossy) {
    const int t128 = blockIdx.x, g = blockIdx.y, e = blockIdx.z;
    const int G = (K_pad + 127) >> 7, NT = (N_pad + 127) >> 7;
    const int n = t128 * 128 + threadIdx.x;
    const bool row_ok = n < N_pad;
    __shared__ int smax[4], sflag[4];
    uint32_t codes = 0;
    int rmax = 0, rmin = 1000;
    if (row_ok) {
        const uint8_t* src = Bq + ((size_t)e * N_pad + n) * (K_pad >> 1);
        const uint8_t* ssrc = Bs + ((size_t)e * N_pad + n) * (K_pad >> 5);
        uint32_t words[16];
#pragma unroll
        for (int b = 0; b < 4; b++) {
            const int kb = g * 4 + b;  // 32-block index
            uint32_t raw[4] = {0u, 0u, 0u, 0u};
            if (kb * 32 < K_pad) {
                const uint32_t* p = reinterpret_cast<const uint32_t*>(src + kb * 16);
#pragma unroll
                for (int t = 0; t < 4; t++) raw[t] = p[t];
            }
            bool nz = false;
#pragma unroll
            for (int t = 0; t < 4; t++) nz |= (raw[t] & 0x77777777u) != 0u;
            uint32_t c = (nz && kb * 32 < K_pad) ? ssrc[kb] : 0u;
            codes |= c << (8 * b);
            if (c) {
                rmax = max(rmax, (int)c);
                rmin = min(rmin, (int)c);
            }
#pragma unroll
            for (int t = 0; t < 4; t++) {
                // raw[t]: byte j = values 2j (low nibble), 2j+1 (high nibble), j = 0..3
                uint32_t x = 0;
#pragma unroll
                for (int i = 0; i < 8; i++) {
                    const uint32_t nib = (raw[t] >> (4 * i)) & 15u;  // value i
                    x |= (nib & 7u) << (4 * i);
                    const int sbit = i < 4 ? 4 * (2 * i + 1) + 3 : 4 * (2 * (i - 4)) + 3;
                    x |= ((nib >> 3) & 1u) << sbit;
                }
                words[t * 4 + b] = x;
            }
        }
        uint4* dst = reinterpret_cast<uint4*>(Wq + (((size_t)e * G + g) * N_pad + n) * 64);
#pragma unroll
        for (int i = 0; i < 4; i++) dst[i] = make_uint4(words[4 * i], words[4 * i + 1], words[4 * i + 2], words[4 * i + 3]);
        Ws[((size_t)e * G + g) * (N_pad + NT) + n] = codes;
        if (lossy && rmin < 1000 && rmax - rmin > 14) atomicAdd(lossy + 1, 1);
    }
    // tile maximum, then whether any non-zero block lies more than 14 binades below it
    int m = rmax;
#pragma unroll
    for (int off = 16; off; off >>= 1) m = max(m, __shfl_xor_sync(0xFFFFFFFFu, m, off));
    if ((threadIdx.x & 31) == 0) smax[threadIdx.x >> 5] = m;
    __syncthreads();
    const int tmax = max(max(smax[0], smax[1]), max(smax[2], smax[3]));
    int f = (rmin < 1000 && rmin < tmax - 14) ? 1 : 0;
#pragma unroll
    for (int off = 16; off; off >>= 1) f |= __shfl_xor_sync(0xFFFFFFFFu, f, off);
    if ((threadIdx.x & 31) == 0) sflag[threadIdx.x >> 5] = f;
    __syncthreads();
    if (threadIdx.x == 0) {
        const int flag = sflag[0] | sflag[1] | sflag[2] | sflag[3];
        Ws[((size_t)e * G + g) * (N_pad + NT) + N_pad + t128] = (uint32_t)tmax | ((uint32_t)flag << 8);
        if (lossy && flag) atomicAdd(lossy, 1);
    }
}

// E4M3 widening of one repacked word: values 0..3 -> lo, 4..7 -> hi
__device__ __forceinline__ uint32_t fi_prmt(uint32_t a, uint32_t b, uint32_t sel) {
    uint32_t d;
    asm("prmt.b32 %0, %1, %2, %3;\n" : "=r"(d) : "r"(a), "r"(b), "r"(sel));
    return d;
}
__device__ __forceinline__ void fi_widen(uint32_t x, uint32_t tlo, uint32_t thi, uint32_t& lo, uint32_t& hi) {
    const uint32_t m = x & 0x77777777u;
    lo = fi_prmt(tlo, thi, m) | (x & 0x80808080u);
    hi = fi_prmt(tlo, thi, m >> 16) | ((x << 4) & 0x80808080u);
}
// E4M3 codes of 0, .5, 1, 1.5, 2, 3, 4, 6
#define FI_E2M1_TLO 0x3C383000u
#define FI_E2M1_THI 0x4C484440u

// ---------------------------------------------------------------------------------------------
// mma.sync path (sm_89+): exact per-32 scaling.
// ---------------------------------------------------------------------------------------------
#define FI_FP8_PARAMS                                                                                   \
    const void *__restrict__ A, const uint8_t *__restrict__ A_scales, int a_stride, int a_div, int a_by_pos, \
        int K_real, const int *__restrict__ sorted_ids, const int *__restrict__ tile_expert,             \
        const int *__restrict__ num_tiles, const uint8_t *__restrict__ Bq, const uint8_t *__restrict__ Bs, \
        const float *__restrict__ bias, int N_real, int N_pad, int K_pad, int splits, void *__restrict__ out, \
        int out_stride, const float *__restrict__ topk_w, int act, float alpha, float limit,             \
        const float *__restrict__ lora_add
#define FI_FP8_ARGS                                                                                       \
    A, A_scales, a_stride, a_div, a_by_pos, K_real, sorted_ids, tile_expert, num_tiles, Bq, Bs, bias, N_real, \
        N_pad, K_pad, splits, out, out_stride, topk_w, act, alpha, limit, lora_add

__device__ __forceinline__ void fi_mma_e4m3(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%10,%10,%10};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.f));
#else
    __trap();
#endif
}

__device__ __forceinline__ uint4 fi_ldg_stream16(const void* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

// One 128-K group of SL slabs (16 weight rows each) against MT n8 blocks of tokens. Lane (gq, tq):
// w[sl][0] / w[sl][1]: weight rows 16sl + gq / + 8, quarter tq of blocks 0..3 (x, y, z, w); ws: the
// rows' 4 block codes; act(nb, b): 8 E4M3 bytes of token 8nb + gq at k = 32b + 8tq (MMA k 4tq..4tq+3
// and 16+4tq..: any permutation of k inside a block is fine as long as A and B share it);
// sa[nb][j]: the 4 block codes of token 8nb + 2tq + j. acc[sl][nb][i] as the m16n8 C fragment. Each
// k32 MMA starts from zero and is added with both block scales: the ABI's per-32 math.
template <int SL, int MT>
struct FiWeights {
    uint4 w[SL][2];
    uint32_t ws[SL][2];
};

template <int SL, int MT, typename ActF>
__device__ __forceinline__ void fi_group_mma(const FiWeights<SL, MT>& d, ActF act_of, const uint32_t (&sa)[MT][2],
                                             float (&acc)[SL][MT][4]) {
#pragma unroll
    for (int b = 0; b < 4; b++) {
        uint32_t a[SL][4];
        float fw[SL][2];
#pragma unroll
        for (int sl = 0; sl < SL; sl++) {
            const uint32_t x0 = b == 0 ? d.w[sl][0].x : b == 1 ? d.w[sl][0].y : b == 2 ? d.w[sl][0].z : d.w[sl][0].w;
            const uint32_t x1 = b == 0 ? d.w[sl][1].x : b == 1 ? d.w[sl][1].y : b == 2 ? d.w[sl][1].z : d.w[sl][1].w;
            fi_widen(x0, FI_E2M1_TLO, FI_E2M1_THI, a[sl][0], a[sl][2]);
            fi_widen(x1, FI_E2M1_TLO, FI_E2M1_THI, a[sl][1], a[sl][3]);
            fw[sl][0] = fi_e8m0(d.ws[sl][0] >> (8 * b));
            fw[sl][1] = fi_e8m0(d.ws[sl][1] >> (8 * b));
        }
#pragma unroll
        for (int nb = 0; nb < MT; nb++) {
            const float fa0 = fi_e8m0(sa[nb][0] >> (8 * b)), fa1 = fi_e8m0(sa[nb][1] >> (8 * b));
            const uint2 bx = act_of(nb, b);
#pragma unroll
            for (int sl = 0; sl < SL; sl++) {
                float t[4];
                fi_mma_e4m3(t, a[sl], bx.x, bx.y);
                acc[sl][nb][0] = fmaf(t[0], fw[sl][0] * fa0, acc[sl][nb][0]);
                acc[sl][nb][1] = fmaf(t[1], fw[sl][0] * fa1, acc[sl][nb][1]);
                acc[sl][nb][2] = fmaf(t[2], fw[sl][1] * fa0, acc[sl][nb][2]);
                acc[sl][nb][3] = fmaf(t[3], fw[sl][1] * fa1, acc[sl][nb][3]);
            }
        }
    }
}

template <int SL, int MT>
__device__ __forceinline__ void fi_load_weights(FiWeights<SL, MT>& d, const uint8_t* wp, const uint32_t* wsp, int N_pad,
                                                bool valid) {
#pragma unroll
    for (int sl = 0; sl < SL; sl++) {
        if (valid) {
            d.w[sl][0] = fi_ldg_stream16(wp + (16 * sl) * 64);
            d.w[sl][1] = fi_ldg_stream16(wp + (16 * sl + 8) * 64);
            d.ws[sl][0] = __ldg(wsp + 16 * sl);
            d.ws[sl][1] = __ldg(wsp + 16 * sl + 8);
        } else {
            d.w[sl][0] = d.w[sl][1] = make_uint4(0u, 0u, 0u, 0u);
            d.ws[sl][0] = d.ws[sl][1] = 0u;
        }
    }
}

// Epilogue over a [M][NT] FP32 tile in shared memory (sum of NW partial tiles red[w]), columns
// 0..ncols of N tile nt: GEMM1 act -> BF16 intermediate, GEMM2 routing weight + atomicAdd.
template <int M, int NT, int NW, bool GEMM2>
__device__ __forceinline__ void fi_mma_epilogue(const float* red, const int* s_ids, int tile, int e, int nt, int split,
                                                int ncols, int nthreads, const float* __restrict__ bias, int N_real,
                                                int N_pad, void* __restrict__ out, int out_stride,
                                                const float* __restrict__ topk_w, int a_div, int act, float alpha,
                                                float limit, const float* __restrict__ lora_add) {
    if constexpr (!GEMM2) {
        float* inter = reinterpret_cast<float*>(out);  // F32: quantized once, from FP32 (ABI.md)
        const float* bias_e = bias ? bias + (size_t)e * N_pad + nt * NT : nullptr;
        const int np = ncols / 2;
        for (int i = threadIdx.x; i < M * np; i += nthreads) {
            const int r = i / np, p = i % np;
            if (s_ids[r] < 0) continue;
            float gt = 0.f, up = 0.f;
#pragma unroll
            for (int w = 0; w < NW; w++) {
                const float2 v = *reinterpret_cast<const float2*>(red + ((size_t)w * M + r) * NT + 2 * p);
                gt += v.x;
                up += v.y;
            }
            if (bias_e) {
                gt += bias_e[2 * p];
                up += bias_e[2 * p + 1];
            }
            if (lora_add) {
                const float* la = lora_add + (size_t)(tile * M + r) * N_pad + nt * NT + 2 * p;
                gt += la[0];
                up += la[1];
            }
            inter[(size_t)(tile * M + r) * out_stride + nt * (NT / 2) + p] = moe_act_apply(act, gt, up, alpha, limit);
        }
    } else {
        float* accum = reinterpret_cast<float*>(out);
        const float* bias_e = (bias && split == 0) ? bias + (size_t)e * N_pad + nt * NT : nullptr;
        for (int i = threadIdx.x; i < M * ncols; i += nthreads) {
            const int r = i / ncols, c = i % ncols;
            const int id = s_ids[r];
            const int n = nt * NT + c;
            if (id < 0 || n >= N_real) continue;
            float v = 0.f;
#pragma unroll
            for (int w = 0; w < NW; w++) v += red[((size_t)w * M + r) * NT + c];
            if (bias_e) v += bias_e[c];
            if (lora_add && split == 0) v += lora_add[(size_t)(tile * M + r) * N_pad + n];
            const float wt = topk_w ? __ldg(topk_w + id) : 1.0f;
            atomicAdd(accum + (size_t)(id / a_div) * out_stride + n, wt * v);
        }
    }
}

// ---- decode: weights as the A operand, the <= 32 tokens of a tile as n8 blocks, K split over W
// warps (and over CTAs: splits). One CTA = 16*SL weight rows of one M tile. Operands go straight
// from global memory into registers, one group ahead; no shared memory in the main loop.
template <int SL, int MT, int W, bool GEMM2>
__device__ __forceinline__ void fi_fp8_gemv_body(FI_FP8_PARAMS) {
    constexpr int M = 8 * MT, NT = 16 * SL;
    __shared__ __align__(16) float red[W * M * NT];
    __shared__ int s_ids[M];
    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;
    const int e = __ldg(tile_expert + tile);
    const int nN = N_pad / NT;
    const int nt = blockIdx.x % nN, split = blockIdx.x / nN;
    const int G = (K_pad + 127) >> 7;
    const int g0 = (int)((long)split * G / splits), g1 = (int)((long)(split + 1) * G / splits);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const uint8_t* A8 = reinterpret_cast<const uint8_t*>(A);
    const int sstride = a_stride >> 5;

    if (threadIdx.x < M) s_ids[threadIdx.x] = __ldg(sorted_ids + tile * M + threadIdx.x);
    const int id0 = __ldg(sorted_ids + tile * M);  // slot 0 is always a real row
    auto arow_of = [&](int slot) -> long {
        const int id = __ldg(sorted_ids + tile * M + slot);
        if (a_by_pos) return (long)tile * M + (id < 0 ? 0 : slot);
        return (long)(id < 0 ? id0 : id) / a_div;
    };
    const uint8_t* ap[MT];
    const uint8_t* sp[MT][2];
#pragma unroll
    for (int nb = 0; nb < MT; nb++) {
        ap[nb] = A8 + arow_of(nb * 8 + gq) * a_stride + 8 * tq;
        sp[nb][0] = A_scales + arow_of(nb * 8 + 2 * tq) * sstride;
        sp[nb][1] = A_scales + arow_of(nb * 8 + 2 * tq + 1) * sstride;
    }
    const size_t gstride = (size_t)N_pad * 64;
    const uint8_t* wp = Bq + ((size_t)e * G * N_pad + nt * NT + gq) * 64 + tq * 16;
    const int wss = fi_fp8_ws_stride(N_pad);
    const uint32_t* wsp = reinterpret_cast<const uint32_t*>(Bs) + (size_t)e * G * wss + nt * NT + gq;

    struct Buf {
        FiWeights<SL, MT> wt;
        uint2 act[MT][4];
        uint32_t sa[MT][2];
    };
    auto load = [&](Buf& d, int g) {
        fi_load_weights<SL, MT>(d.wt, wp + g * gstride, wsp + (size_t)g * wss, N_pad, true);
#pragma unroll
        for (int nb = 0; nb < MT; nb++) {
#pragma unroll
            for (int b = 0; b < 4; b++) {
                const int k = 128 * g + 32 * b;
                d.act[nb][b] = k < K_pad ? __ldg(reinterpret_cast<const uint2*>(ap[nb] + k)) : make_uint2(0u, 0u);
            }
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const uint16_t* s16 = reinterpret_cast<const uint16_t*>(sp[nb][j] + 4 * g);
                const uint32_t lo = __ldg(s16);
                const uint32_t hi = (4 * g + 2 < sstride) ? (uint32_t)__ldg(s16 + 1) : 0u;
                d.sa[nb][j] = lo | (hi << 16);
            }
        }
    };
    auto compute = [&](const Buf& d, float (&acc)[SL][MT][4]) {
        fi_group_mma<SL, MT>(d.wt, [&](int nb, int b) { return d.act[nb][b]; }, d.sa, acc);
    };

    float acc[SL][MT][4];
#pragma unroll
    for (int sl = 0; sl < SL; sl++)
#pragma unroll
        for (int nb = 0; nb < MT; nb++)
#pragma unroll
            for (int i = 0; i < 4; i++) acc[sl][nb][i] = 0.f;

    Buf buf0, buf1;
    int g = g0 + warp;
    if (g < g1) load(buf0, g);
    for (; g < g1; g += 2 * W) {
        if (g + W < g1) load(buf1, g + W);
        compute(buf0, acc);
        if (g + W >= g1) break;
        if (g + 2 * W < g1) load(buf0, g + 2 * W);
        compute(buf1, acc);
    }

#pragma unroll
    for (int sl = 0; sl < SL; sl++)
#pragma unroll
        for (int nb = 0; nb < MT; nb++) {
            const int c0 = 16 * sl + gq, t0 = nb * 8 + 2 * tq;
            float* rw = red + (size_t)warp * M * NT;
            rw[t0 * NT + c0] = acc[sl][nb][0];
            rw[(t0 + 1) * NT + c0] = acc[sl][nb][1];
            rw[t0 * NT + c0 + 8] = acc[sl][nb][2];
            rw[(t0 + 1) * NT + c0 + 8] = acc[sl][nb][3];
        }
    __syncthreads();
    fi_mma_epilogue<M, NT, W, GEMM2>(red, s_ids, tile, e, nt, split, NT, 32 * W, bias, N_real, N_pad, out, out_stride,
                                     topk_w, a_div, act, alpha, limit, lora_add);
}

// ---- prefill (mma.sync): one CTA = 64 tokens x 256 weight rows, 8 warps side by side along N (32
// rows each, weights again the A operand); the tile's activation rows and their scale words go
// through a 3-stage cp.async ring in shared memory, the weights straight into registers one group
// ahead. K may be split over CTAs (splits) as for the decode kernels.
#define FI_TILE_M 64
#define FI_TILE_SL 2
#define FI_TILE_W 8
#define FI_TILE_NT (16 * FI_TILE_SL * FI_TILE_W)
#define FI_TILE_ST 3
#define FI_TILE_ABYTES (FI_TILE_M * 128 + FI_TILE_M * 8)
#define FI_TILE_SMEM (FI_TILE_M * FI_TILE_NT * 4 > FI_TILE_ST * FI_TILE_ABYTES ? FI_TILE_M * FI_TILE_NT * 4 \
                                                                                 : FI_TILE_ST * FI_TILE_ABYTES)

__device__ __forceinline__ uint32_t fi_smem_u32(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void fi_cp_async16(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void fi_cp_async4(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void fi_cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void fi_cp_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}
// cp.async of the two 4-aligned words holding bytes [addr, addr + 4) of a row of scale codes that
// ends at row_end (bytes past it read as zero); the codes are then __funnelshift_r(w0, w1, 8*(addr&3))
__device__ __forceinline__ void fi_cp_scale_words(uint32_t dst, const uint8_t* base, size_t addr, size_t row_end,
                                                  bool valid) {
    const size_t a0 = addr & ~(size_t)3;
    const long r0 = valid ? (long)row_end - (long)a0 : 0, r1 = r0 - 4;
    fi_cp_async4(dst, base + a0, (int)max(0L, min(4L, r0)));
    fi_cp_async4(dst + 4, base + a0 + (r1 > 0 ? 4 : 0), (int)max(0L, min(4L, r1)));
}

template <bool GEMM2>
__device__ __forceinline__ void fi_fp8_tile_body(FI_FP8_PARAMS) {
    constexpr int M = FI_TILE_M, SL = FI_TILE_SL, MT = M / 8, NT = FI_TILE_NT;
    extern __shared__ __align__(16) uint8_t fi_tile_smem[];
    __shared__ int s_ids[M];
    __shared__ int s_arow[M];
    const int tile = blockIdx.y;
    if (tile >= __ldg(num_tiles)) return;
    const int e = __ldg(tile_expert + tile);
    const int nN = (N_pad + NT - 1) / NT;
    const int nt = blockIdx.x % nN, split = blockIdx.x / nN;
    const int G = (K_pad + 127) >> 7;
    const int g0 = (int)((long)split * G / splits), g1 = (int)((long)(split + 1) * G / splits);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const uint8_t* A8 = reinterpret_cast<const uint8_t*>(A);
    const int sstride = a_stride >> 5;
    if (threadIdx.x < M) {
        const int id = __ldg(sorted_ids + tile * M + threadIdx.x);
        s_ids[threadIdx.x] = id;
        s_arow[threadIdx.x] = id < 0 ? -1 : (a_by_pos ? tile * M + (int)threadIdx.x : id / a_div);
    }
    __syncthreads();
    // stage: [64 rows][128 B] (16-byte chunk c of row r at c ^ ((r & 3) << 1): conflict-free 8-byte
    // fragment reads), then [64 rows][2 words] of scale codes
    auto issue = [&](int g) {
        uint8_t* st = fi_tile_smem + (g % FI_TILE_ST) * FI_TILE_ABYTES;
        const int k0 = 128 * g;
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int idx = threadIdx.x + i * 256;  // 512 chunks of 16 bytes
            const int r = idx >> 3, c = idx & 7;
            const int ar = s_arow[r];
            const bool ok = ar >= 0 && k0 + 16 * c < K_pad;
            fi_cp_async16(fi_smem_u32(st + r * 128 + ((c ^ ((r & 3) << 1)) << 4)),
                          ok ? A8 + (size_t)ar * a_stride + k0 + 16 * c : A8, ok ? 16 : 0);
        }
        if (threadIdx.x < M) {
            const int ar = s_arow[threadIdx.x];
            const size_t rs = ar >= 0 ? (size_t)ar * sstride : 0;
            fi_cp_scale_words(fi_smem_u32(st + M * 128 + threadIdx.x * 8), A_scales, rs + 4 * g, rs + sstride, ar >= 0);
        }
    };
    const int nrow0 = nt * NT + warp * 16 * SL + gq;
    const bool wvalid = nt * NT + warp * 16 * SL < N_pad;  // N_pad is a multiple of 64 = 2 warps
    const size_t gstride = (size_t)N_pad * 64;
    const uint8_t* wp = Bq + ((size_t)e * G * N_pad + (wvalid ? nrow0 : 0)) * 64 + tq * 16;
    const int wss = fi_fp8_ws_stride(N_pad);
    const uint32_t* wsp = reinterpret_cast<const uint32_t*>(Bs) + (size_t)e * G * wss + (wvalid ? nrow0 : 0);

    float acc[SL][MT][4];
#pragma unroll
    for (int sl = 0; sl < SL; sl++)
#pragma unroll
        for (int nb = 0; nb < MT; nb++)
#pragma unroll
            for (int i = 0; i < 4; i++) acc[sl][nb][i] = 0.f;

    FiWeights<SL, MT> cur, nxt;
    if (g0 < g1) issue(g0);
    fi_cp_commit();
    if (g0 + 1 < g1) issue(g0 + 1);
    fi_cp_commit();
    if (g0 < g1) fi_load_weights<SL, MT>(cur, wp + g0 * gstride, wsp + (size_t)g0 * wss, N_pad, wvalid);
    for (int g = g0; g < g1; g++) {
        if (g + 2 < g1) issue(g + 2);
        fi_cp_commit();
        fi_cp_wait<2>();
        __syncthreads();
        if (g + 1 < g1) fi_load_weights<SL, MT>(nxt, wp + (g + 1) * gstride, wsp + (size_t)(g + 1) * wss, N_pad, wvalid);
        const uint8_t* st = fi_tile_smem + (g % FI_TILE_ST) * FI_TILE_ABYTES;
        uint32_t sa[MT][2];
#pragma unroll
        for (int nb = 0; nb < MT; nb++)
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const int rr = nb * 8 + 2 * tq + j;
                const int ar = s_arow[rr];
                const uint2 wv = *reinterpret_cast<const uint2*>(st + M * 128 + rr * 8);
                const uint32_t sh = ar >= 0 ? (uint32_t)((((size_t)ar * sstride + 4 * g) & 3) * 8) : 0u;
                sa[nb][j] = __funnelshift_r(wv.x, wv.y, sh);
            }
        fi_group_mma<SL, MT>(
            cur,
            [&](int nb, int b) {
                const int r = nb * 8 + gq, c = 2 * b + (tq >> 1);
                return *reinterpret_cast<const uint2*>(st + r * 128 + ((c ^ ((r & 3) << 1)) << 4) + (tq & 1) * 8);
            },
            sa, acc);
        __syncthreads();  // this stage is refilled by issue(g + 3)
        cur = nxt;
    }
    fi_cp_wait<0>();
    __syncthreads();
    float* red = reinterpret_cast<float*>(fi_tile_smem);  // [M][NT]
#pragma unroll
    for (int sl = 0; sl < SL; sl++)
#pragma unroll
        for (int nb = 0; nb < MT; nb++) {
            const int c0 = warp * 16 * SL + 16 * sl + gq, t0 = nb * 8 + 2 * tq;
            red[t0 * NT + c0] = acc[sl][nb][0];
            red[(t0 + 1) * NT + c0] = acc[sl][nb][1];
            red[t0 * NT + c0 + 8] = acc[sl][nb][2];
            red[(t0 + 1) * NT + c0 + 8] = acc[sl][nb][3];
        }
    __syncthreads();
    fi_mma_epilogue<M, NT, 1, GEMM2>(red, s_ids, tile, e, nt, split, min(NT, N_pad - nt * NT), 32 * FI_TILE_W, bias,
                                     N_real, N_pad, out, out_stride, topk_w, a_div, act, alpha, limit, lora_add);
}

#define FI_DEFINE_GEMV(NAME, SL, MT, W, G2) FI_DEFINE_GEMV_B(NAME, SL, MT, W, G2, 1)
#define FI_DEFINE_GEMV_B(NAME, SL, MT, W, G2, MINB)                                                      \
    extern "C" __global__ void __launch_bounds__(32 * W, MINB) NAME(FI_FP8_PARAMS) {                    \
        fi_fp8_gemv_body<SL, MT, W, G2>(FI_FP8_ARGS);                                                   \
    }                                                                                                   \
    extern "C" __global__ void NAME##_config(int* o) {                                                  \
        o[0] = 0;                                                                                       \
        o[1] = 32 * W;                                                                                  \
        o[2] = 8 * MT;                                                                                  \
        o[3] = 16 * SL;                                                                                 \
        o[4] = 0;                                                                                       \
        o[5] = 1;                                                                                       \
    }
// m8: 3 CTAs per SM (a few spilled bytes) measured faster than 2 (H100: T=1 forward 54.5 vs 65.7 us)
FI_DEFINE_GEMV_B(fi_fp8_gemm1_m8, 4, 1, 4, false, 3)
FI_DEFINE_GEMV_B(fi_fp8_gemm2_m8, 4, 1, 4, true, 3)
FI_DEFINE_GEMV(fi_fp8_gemm1_m16, 4, 2, 4, false)
FI_DEFINE_GEMV(fi_fp8_gemm2_m16, 4, 2, 4, true)
FI_DEFINE_GEMV(fi_fp8_gemm1_m32, 2, 4, 4, false)
FI_DEFINE_GEMV(fi_fp8_gemm2_m32, 2, 4, 4, true)

#define FI_DEFINE_TILE(NAME, G2)                                                                        \
    extern "C" __global__ void __launch_bounds__(32 * FI_TILE_W) NAME(FI_FP8_PARAMS) {                  \
        fi_fp8_tile_body<G2>(FI_FP8_ARGS);                                                              \
    }                                                                                                   \
    extern "C" __global__ void NAME##_config(int* o) {                                                  \
        o[0] = FI_TILE_SMEM;                                                                            \
        o[1] = 32 * FI_TILE_W;                                                                          \
        o[2] = FI_TILE_M;                                                                               \
        o[3] = FI_TILE_NT;                                                                              \
        o[4] = 0;                                                                                       \
        o[5] = 1;                                                                                       \
    }
FI_DEFINE_TILE(fi_fp8_gemm1_m64, false)
FI_DEFINE_TILE(fi_fp8_gemm2_m64, true)

#include "fi_fp8w.cuh"
