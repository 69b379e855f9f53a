// Portability layer of the aiter kernels: the same source (aiter_moe.hip) compiles
//   - as HIP for AMD Instinct (clang -x hip --offload-arch=gfx942|gfx950, no ROCm headers or device
//     libraries: everything below is a compiler builtin), one wave = 64 lanes, MFMA;
//   - as CUDA (nvcc -x cu -DMOE_TARGET_CUDA, sm_80+), one warp = 32 lanes, mma.sync,
// so the indexing, routing, alignment, dequantization, activation and reduction logic can be run on
// an NVIDIA GPU. What differs per target lives here: lane/block ids, barriers, atomics, and the
// 32x32 tile multiply (MOE_ACC_N accumulators per lane; element j of lane l is C[MOE_ACC_ROW(j,l)]
// [MOE_ACC_COL(j,l)]). The tile multiply reads its operands from shared memory laid out as
// A[32][MOE_LDA] (rows m, k contiguous) and B[32][MOE_LDA] (rows n, k contiguous): C = A * B^T.
#pragma once

#define MOE_BM 32   // rows (token assignments) per tile
#define MOE_BN 32   // output columns per tile
#define MOE_BK 32   // reduction step = one MXFP4 scale block
#define MOE_LDA 40  // shared row stride in elements (bf16) / bytes (fp8): keeps 8-byte alignment

typedef unsigned short u16;
typedef unsigned char u8;

#if defined(MOE_TARGET_CPU)
// -------------------------------------------------- CPU emulation (src/test/cpp/emu_check.cpp) --
// One std::thread per lane, blocks run one after another; shared memory = function statics; the
// warp's mma.sync is emulated collectively (moe_emu_mma16816). Only for checking the logic here.
#include "emu_runtime.h"
#define __global__
#define __device__
#define __shared__ static
#define MOE_TID() (moe_emu_tid)
#define MOE_BIDX() (moe_emu_bidx)
#define MOE_BIDY() (moe_emu_bidy)
#define MOE_SYNC() moe_emu_sync()
#define MOE_ATOMIC_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define MOE_EXPF(x) expf(x)
#define MOE_RINTF(x) rintf(x)
#define MOE_FMAF(x, y, z) fmaf((x), (y), (z))
#if defined(MOE_EMU_WAVE64)
// the HIP code path (wave64, the MFMA tile multiplies) with MFMA emulated from its documented layout
#define MOE_WAVE 64
#define MOE_ACC_N 16
#define MOE_ACC_ROW(j, lane) (8 * ((j) / 4) + 4 * ((lane) / 32) + ((j) % 4))
#define MOE_ACC_COL(j, lane) ((lane) % 32)
#define MOE_TARGET_NAME "cpu-emulation-wave64"
#else
#define MOE_WAVE 32
#define MOE_ACC_N 32
#define MOE_ACC_ROW(j, lane) (((j) / 16) * 16 + ((lane) >> 2) + 8 * (((j) % 4) / 2))
#define MOE_ACC_COL(j, lane) ((((j) / 4) % 4) * 8 + 2 * ((lane) & 3) + ((j) % 2))
#define MOE_TARGET_NAME "cpu-emulation"
#endif
#elif defined(MOE_TARGET_CUDA)
// ------------------------------------------------------------------------------- CUDA (NVIDIA) --
#define MOE_WAVE 32
#define MOE_ACC_N 32
#define MOE_TID() ((int)threadIdx.x)
#define MOE_BIDX() ((int)blockIdx.x)
#define MOE_BIDY() ((int)blockIdx.y)
#define MOE_SYNC() __syncthreads()
#define MOE_ATOMIC_ADD(p, v) atomicAdd((p), (v))
#define MOE_EXPF(x) __expf(x)
#define MOE_RINTF(x) rintf(x)
#define MOE_FMAF(x, y, z) __fmaf_rn((x), (y), (z))
// mma.sync m16n8k16 fragments: two 16-row halves x four 8-column groups, 4 floats each
#define MOE_ACC_ROW(j, lane) (((j) / 16) * 16 + ((lane) >> 2) + 8 * (((j) % 4) / 2))
#define MOE_ACC_COL(j, lane) ((((j) / 4) % 4) * 8 + 2 * ((lane) & 3) + ((j) % 2))
#define MOE_TARGET_NAME "cuda"
#else
// --------------------------------------------------------------------------------- HIP (AMD) ---
#if !defined(__HIP__)
#error "aiter_moe.hip compiles as HIP (clang -x hip) or as CUDA with -DMOE_TARGET_CUDA"
#endif
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define MOE_WAVE 64
#define MOE_ACC_N 16
#define MOE_TID() ((int)__builtin_amdgcn_workitem_id_x())
#define MOE_BIDX() ((int)__builtin_amdgcn_workgroup_id_x())
#define MOE_BIDY() ((int)__builtin_amdgcn_workgroup_id_y())
#define MOE_SYNC() do { __builtin_amdgcn_fence(__ATOMIC_RELEASE, "workgroup"); __builtin_amdgcn_s_barrier(); \
                        __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "workgroup"); } while (0)
#define MOE_ATOMIC_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define MOE_EXPF(x) __builtin_expf(x)
#define MOE_RINTF(x) __builtin_rintf(x)
#define MOE_FMAF(x, y, z) __builtin_fmaf((x), (y), (z))
// v_mfma_f32_32x32x8 / 32x32x16 output: lane l owns column l%32, rows 8*(j/4) + 4*(l/32) + j%4
#define MOE_ACC_ROW(j, lane) (8 * ((j) / 4) + 4 * ((lane) / 32) + ((j) % 4))
#define MOE_ACC_COL(j, lane) ((lane) % 32)
#define MOE_TARGET_NAME "hip"
typedef short moe_v4s __attribute__((ext_vector_type(4)));
typedef float moe_v16f __attribute__((ext_vector_type(16)));
#endif

// FP8 E4M3 flavour: OCP (bias 7, max 448, -0 exists, NaN 0x7F) everywhere except gfx942, whose
// MFMA reads the FNUZ variant (bias 8, max 240, 0x80 is the only NaN, no -0).
#if defined(__gfx942__) || defined(__gfx940__) || defined(__gfx941__)
#define MOE_FP8_FNUZ 1
#define MOE_FP8_BIAS 8
#define MOE_FP8_MAX 240.0f
#define MOE_FP8_MAXCODE 0x7F
#define MOE_FP8_NAN 0x80
#else
#define MOE_FP8_FNUZ 0
#define MOE_FP8_BIAS 7
#define MOE_FP8_MAX 448.0f
#define MOE_FP8_MAXCODE 0x7E
#define MOE_FP8_NAN 0x7F
#endif

static __device__ inline unsigned moe_f2u(float f) { union { float f; unsigned u; } c; c.f = f; return c.u; }
static __device__ inline float moe_u2f(unsigned u) { union { float f; unsigned u; } c; c.u = u; return c.f; }
static __device__ inline float moe_bf16_to_f(u16 b) { return moe_u2f(((unsigned)b) << 16); }
static __device__ inline u16 moe_f_to_bf16(float f) {  // round to nearest even; NaN stays NaN
  unsigned u = moe_f2u(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u16)((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (u16)(u >> 16);
}
static __device__ inline bool moe_isnan(float f) { return (moe_f2u(f) & 0x7FFFFFFFu) > 0x7F800000u; }
/** 2^(code-127), NaN for 0xFF (OCP E8M0) */
static __device__ inline float moe_e8m0(unsigned code) {
  if (code == 0xFFu) return moe_u2f(0x7FC00000u);
  if (code == 0u) return moe_u2f(0x00400000u);
  return moe_u2f(code << 23);
}
/** E2M1 code (4 bits) to float */
static __device__ inline float moe_e2m1(unsigned c) {
  const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  float v = mag[c & 7u];
  return (c & 8u) ? -v : v;
}
/** E2M1 code to the E4M3 code of the same value (exact: every E2M1 value is an E4M3 value) */
static __device__ inline u8 moe_e2m1_to_e4m3(unsigned c) {
#if MOE_FP8_FNUZ
  const u8 mag[8] = {0x00, 0x38, 0x40, 0x44, 0x48, 0x4C, 0x50, 0x54};
  u8 m = mag[c & 7u];
  return (u8)(((c & 8u) && m != 0) ? (m | 0x80) : m);  // no -0 in FNUZ (0x80 is NaN)
#else
  const u8 mag[8] = {0x00, 0x30, 0x38, 0x3C, 0x40, 0x44, 0x48, 0x4C};
  return (u8)(mag[c & 7u] | ((c & 8u) ? 0x80 : 0));
#endif
}
/** round y >= 0 (< 2^23) to an integer, nearest; an exact half goes up for dir > 0, down for dir < 0,
 *  to even for dir == 0 */
static __device__ inline int moe_round_half(float y, int dir) {
  int f = (int)y;                        // floor, y >= 0
  if (dir != 0 && y - (float)f == 0.5f)  // exact
    return dir > 0 ? f + 1 : f;
  return (int)MOE_RINTF(y);
}
/** float to E4M3, round to nearest, saturating at the format's maximum (as api's Mxfp8.encodeElement).
 *  A value exactly halfway between two codes goes to the larger magnitude for dir > 0, the smaller
 *  for dir < 0, the even code for dir == 0 (ties to even). */
static __device__ inline u8 moe_f_to_e4m3_dir(float v, int dir) {
  if (moe_isnan(v)) return (u8)MOE_FP8_NAN;
  unsigned sign = (moe_f2u(v) >> 24) & 0x80u;
  float x = moe_u2f(moe_f2u(v) & 0x7FFFFFFFu);
  if (x >= MOE_FP8_MAX) return (u8)(sign | MOE_FP8_MAXCODE);
  int code;
  const int minNormalExp = 1 - MOE_FP8_BIAS;  // OCP 2^-6, FNUZ 2^-7
  int e = (int)((moe_f2u(x) >> 23) & 0xFF) - 127;
  if (e < minNormalExp) {
    // subnormal steps of 2^(minNormalExp - 3)
    code = moe_round_half(x * moe_u2f((unsigned)(127 + 3 - minNormalExp) << 23), dir);
  } else {
    int r = moe_round_half(x * moe_u2f((unsigned)(127 + 3 - e) << 23), dir);  // 8..16
    code = ((e + MOE_FP8_BIAS) << 3) + (r - 8);
  }
  if (code > MOE_FP8_MAXCODE) code = MOE_FP8_MAXCODE;
#if MOE_FP8_FNUZ
  if (code == 0) sign = 0;
#endif
  return (u8)(sign | (unsigned)code);
}
/** float to E4M3, round to nearest even, saturating at the format's maximum (as api's Mxfp8.encodeElement) */
static __device__ inline u8 moe_f_to_e4m3(float v) { return moe_f_to_e4m3_dir(v, 0); }
/**
 * E4M3 code of the exact quotient v / scale (scale > 0, finite), rounded once, as the reference does
 * in float64. The FP32 quotient q alone is not enough: it is rounded already, and it often lands
 * exactly on a midpoint between two E4M3 codes when the exact quotient does not — for v a BF16 value
 * and scale = amax/448 rounded to FP32, 448 v / amax is a short fraction (e.g. 84 = 448 * 3/16, the
 * midpoint of 80 and 88), so ties-to-even on q picks a code one step from the exact quotient's in
 * about one element of a thousand. The FMA remainder v - q*scale (exact sign) says on which side of
 * q the exact quotient lies, and that side decides such a tie.
 */
static __device__ inline u8 moe_div_to_e4m3(float v, float scale) {
  float q = v / scale;
  float r = MOE_FMAF(-q, scale, v);
  int dir = (r == 0.0f || q == 0.0f) ? 0 : (((r > 0.0f) == (q > 0.0f)) ? 1 : -1);
  return moe_f_to_e4m3_dir(q, dir);
}
/** E4M3 code to float (used by the CUDA build's FP8 tile multiply, which widens to BF16) */
static __device__ inline float moe_e4m3_to_f(u8 b) {
  unsigned e = (b >> 3) & 15u, m = b & 7u;
#if MOE_FP8_FNUZ
  if (b == 0x80) return moe_u2f(0x7FC00000u);
#else
  if ((b & 0x7F) == 0x7F) return moe_u2f(0x7FC00000u);
#endif
  float mag = e == 0 ? (float)m * moe_u2f((unsigned)(127 + 1 - MOE_FP8_BIAS - 3) << 23)
                     : (1.0f + (float)m * 0.125f) * moe_u2f((unsigned)(127 + (int)e - MOE_FP8_BIAS) << 23);
  return (b & 0x80) ? -mag : mag;
}

// ------------------------------------------------------------------ the 32x32 tile multiplies --
// acc[MOE_ACC_N] += A[32][BK] * B[32][BK]^T over one MOE_BK step, one wave.
#if defined(MOE_TARGET_CUDA) || (defined(MOE_TARGET_CPU) && !defined(MOE_EMU_WAVE64))
static __device__ inline unsigned moe_pack2(u16 lo, u16 hi) { return (unsigned)lo | ((unsigned)hi << 16); }
static __device__ inline void moe_mma16816(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3,
                                           unsigned b0, unsigned b1) {
#if defined(MOE_TARGET_CPU)
  moe_emu_mma16816(c, a0, a1, a2, a3, b0, b1);
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
               "{%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#endif
}
// BF16 operands: m16n8k16 fragments read straight from shared memory
static __device__ inline void moe_tile_mma_bf16(float* acc, const u16 (*sA)[MOE_LDA], const u16 (*sB)[MOE_LDA], int lane) {
  const int g = lane >> 2, t = lane & 3;
  for (int kk = 0; kk < MOE_BK; kk += 16) {
    for (int mi = 0; mi < 2; mi++) {
      const u16* r0 = sA[mi * 16 + g];
      const u16* r1 = sA[mi * 16 + g + 8];
      unsigned a0 = moe_pack2(r0[kk + 2 * t], r0[kk + 2 * t + 1]);
      unsigned a1 = moe_pack2(r1[kk + 2 * t], r1[kk + 2 * t + 1]);
      unsigned a2 = moe_pack2(r0[kk + 2 * t + 8], r0[kk + 2 * t + 9]);
      unsigned a3 = moe_pack2(r1[kk + 2 * t + 8], r1[kk + 2 * t + 9]);
      for (int ni = 0; ni < 4; ni++) {
        const u16* bn = sB[ni * 8 + g];
        unsigned b0 = moe_pack2(bn[kk + 2 * t], bn[kk + 2 * t + 1]);
        unsigned b1 = moe_pack2(bn[kk + 2 * t + 8], bn[kk + 2 * t + 9]);
        moe_mma16816(acc + mi * 16 + ni * 4, a0, a1, a2, a3, b0, b1);
      }
    }
  }
}
static __device__ inline u16 moe_fp8_bf16(u8 b) { return (u16)(moe_f2u(moe_e4m3_to_f(b)) >> 16); }  // exact
// FP8 operands: widened to BF16 (exact) and multiplied on BF16 mma.sync; FP32 accumulate as on MFMA
static __device__ inline void moe_tile_mma_fp8(float* acc, const u8 (*sA)[MOE_LDA], const u8 (*sB)[MOE_LDA], int lane) {
  const int g = lane >> 2, t = lane & 3;
  for (int kk = 0; kk < MOE_BK; kk += 16) {
    for (int mi = 0; mi < 2; mi++) {
      const u8* r0 = sA[mi * 16 + g];
      const u8* r1 = sA[mi * 16 + g + 8];
      unsigned a0 = moe_pack2(moe_fp8_bf16(r0[kk + 2 * t]), moe_fp8_bf16(r0[kk + 2 * t + 1]));
      unsigned a1 = moe_pack2(moe_fp8_bf16(r1[kk + 2 * t]), moe_fp8_bf16(r1[kk + 2 * t + 1]));
      unsigned a2 = moe_pack2(moe_fp8_bf16(r0[kk + 2 * t + 8]), moe_fp8_bf16(r0[kk + 2 * t + 9]));
      unsigned a3 = moe_pack2(moe_fp8_bf16(r1[kk + 2 * t + 8]), moe_fp8_bf16(r1[kk + 2 * t + 9]));
      for (int ni = 0; ni < 4; ni++) {
        const u8* bn = sB[ni * 8 + g];
        unsigned b0 = moe_pack2(moe_fp8_bf16(bn[kk + 2 * t]), moe_fp8_bf16(bn[kk + 2 * t + 1]));
        unsigned b1 = moe_pack2(moe_fp8_bf16(bn[kk + 2 * t + 8]), moe_fp8_bf16(bn[kk + 2 * t + 9]));
        moe_mma16816(acc + mi * 16 + ni * 4, a0, a1, a2, a3, b0, b1);
      }
    }
  }
}
#else
// BF16: v_mfma_f32_32x32x8_bf16 (the _1k form, gfx90a+): lane l supplies row l%32, k = 4*(l/32)+0..3
static __device__ inline void moe_tile_mma_bf16(float* acc, const u16 (*sA)[MOE_LDA], const u16 (*sB)[MOE_LDA], int lane) {
  moe_v16f c;
  for (int j = 0; j < 16; j++) c[j] = acc[j];
  const int r = lane % 32, k4 = 4 * (lane / 32);
  for (int kk = 0; kk < MOE_BK; kk += 8) {
    moe_v4s a, b;
    for (int i = 0; i < 4; i++) {
      a[i] = (short)sA[r][kk + k4 + i];
      b[i] = (short)sB[r][kk + k4 + i];
    }
    c = __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(a, b, c, 0, 0, 0);
  }
  for (int j = 0; j < 16; j++) acc[j] = c[j];
}
static __device__ inline long moe_load8(const u8* p) {
  unsigned long long v = 0;
  for (int i = 0; i < 8; i++) v |= (unsigned long long)p[i] << (8 * i);
  return (long)v;
}
// FP8: v_mfma_f32_32x32x16_fp8_fp8 (gfx942: FNUZ, gfx950: OCP): lane l supplies row l%32, k = 8*(l/32)+0..7
static __device__ inline void moe_tile_mma_fp8(float* acc, const u8 (*sA)[MOE_LDA], const u8 (*sB)[MOE_LDA], int lane) {
  moe_v16f c;
  for (int j = 0; j < 16; j++) c[j] = acc[j];
  const int r = lane % 32, k8 = 8 * (lane / 32);
  for (int kk = 0; kk < MOE_BK; kk += 16) {
    c = __builtin_amdgcn_mfma_f32_32x32x16_fp8_fp8(moe_load8(&sA[r][kk + k8]), moe_load8(&sB[r][kk + k8]), c, 0, 0, 0);
  }
  for (int j = 0; j < 16; j++) acc[j] = c[j];
}
#endif
