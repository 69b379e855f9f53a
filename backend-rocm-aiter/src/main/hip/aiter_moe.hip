// The aiter MoE kernels: MXFP4 expert weights decoded in registers, BF16 (aiter) or FP8 (aiter-fp8)
// tile multiplies with FP32 accumulation, routing and alignment on the device. Written once for
// AMD Instinct (HIP, wave64, MFMA) and, through moe_port.h, compiled as CUDA to be checked on NVIDIA.
//
// One forward (AiterPlan.java launches these in this order, with these arguments):
//   moe_topk_softmax   logits -> top-k ids and softmax weights            (when routing is by logits)
//   moe_align          ids -> assignment slots grouped by local expert, padded to MOE_BM rows
//   moe_quant_rows     hidden -> E4M3 + one scale per token               (aiter-fp8 only)
//   moe_gemm1_{bf16,fp8}  act(x W13^T + b13) -> inter [padded rows, I] (FP32)
//   moe_quant_rows     inter -> E4M3 + one scale per row                  (aiter-fp8 only)
//   moe_gemm2_{bf16,fp8}  inter W2^T + b2 -> y [T*k, H] (FP32, one row per assignment slot)
//   moe_reduce         out[t] = sum_j w[t,j] y[t*k+j] over this rank's experts
#include "moe_port.h"

#define MOE_ALIGN_THREADS 256
#define MOE_MAX_LOCAL_EXPERTS 1024

// ranks a above b: larger value, ties to the lower id, NaN below every number (as TopKRouting)
static __device__ inline bool moe_ranks_above(float a, int ia, float b, int ib) {
  bool na = moe_isnan(a), nb = moe_isnan(b);
  if (na || nb) return (na && nb) ? ia < ib : nb;
  if (a != b) return a > b;
  return ia < ib;
}

// One thread per token. logits [T, E] (BF16 when logits_bf16 != 0, else F32); ids/weights [T, k].
extern "C" __global__ void moe_topk_softmax(const void* logits, int logits_bf16, int T, int E, int k,
                                            int* ids, float* weights) {
  int t = MOE_BIDX() * 64 + MOE_TID();
  if (t >= T) return;
  float prev = 0.0f;
  int prevId = -1;
  float first = 0.0f, sum = 0.0f;
  for (int j = 0; j < k; j++) {
    float best = 0.0f;
    int bestId = -1;
    for (int e = 0; e < E; e++) {
      long long at = (long long)t * E + e;
      float v = logits_bf16 ? moe_bf16_to_f(((const u16*)logits)[at]) : ((const float*)logits)[at];
      if (prevId >= 0 && !moe_ranks_above(prev, prevId, v, e)) continue;  // already taken
      if (bestId < 0 || moe_ranks_above(v, e, best, bestId)) { best = v; bestId = e; }
    }
    ids[(long long)t * k + j] = bestId;
    if (j == 0) first = best;
    float w = MOE_EXPF(best - first);
    weights[(long long)t * k + j] = w;
    sum += w;
    prev = best;
    prevId = bestId;
  }
  for (int j = 0; j < k; j++) weights[(long long)t * k + j] /= sum;
}

// One block of MOE_ALIGN_THREADS. slots = T*k assignments (slot s = t*k + j, expert ids[s]); for each
// local expert e (ids in [first, first+El)) its slots fill ceil(n_e/BM) blocks of MOE_BM rows:
// sorted[p] = slot or -1 (padding), block_expert[b] = e, *num_blocks = blocks used.
extern "C" __global__ void moe_align(const int* ids, int slots, int first, int El, int* sorted,
                                     int* block_expert, int* num_blocks) {
  __shared__ int cnt[MOE_MAX_LOCAL_EXPERTS];
  __shared__ int off[MOE_MAX_LOCAL_EXPERTS];
  __shared__ int total;
  const int tid = MOE_TID();
  for (int e = tid; e < El; e += MOE_ALIGN_THREADS) cnt[e] = 0;
  MOE_SYNC();
  for (int s = tid; s < slots; s += MOE_ALIGN_THREADS) {
    int e = ids[s] - first;
    if (e >= 0 && e < El) MOE_ATOMIC_ADD(&cnt[e], 1);
  }
  MOE_SYNC();
  if (tid == 0) {
    int blocks = 0;
    for (int e = 0; e < El; e++) {
      off[e] = blocks * MOE_BM;
      int nb = (cnt[e] + MOE_BM - 1) / MOE_BM;
      for (int b = 0; b < nb; b++) block_expert[blocks + b] = e;
      blocks += nb;
      cnt[e] = 0;
    }
    total = blocks;
    *num_blocks = blocks;
  }
  MOE_SYNC();
  for (int p = tid; p < total * MOE_BM; p += MOE_ALIGN_THREADS) sorted[p] = -1;
  MOE_SYNC();
  for (int s = tid; s < slots; s += MOE_ALIGN_THREADS) {
    int e = ids[s] - first;
    if (e >= 0 && e < El) sorted[off[e] + MOE_ATOMIC_ADD(&cnt[e], 1)] = s;
  }
}

// One block of 256 threads per row: E4M3 codes with one FP32 scale amax/FP8_MAX per row (a zero or
// NaN row keeps scale 1); each code is that of the exact quotient v/scale (moe_div_to_e4m3), as the
// float64 reference rounds it. in: [rows, L] F32 (in_f32 != 0) or BF16. When num_blocks is not null only
// rows below *num_blocks * MOE_BM are done (the padded intermediate).
extern "C" __global__ void moe_quant_rows(const void* in, int in_f32, int L, const int* num_blocks,
                                          u8* out, float* scales) {
  __shared__ float red[256];
  const int row = MOE_BIDX(), tid = MOE_TID();
  if (num_blocks != 0 && row >= *num_blocks * MOE_BM) return;
  const long long base = (long long)row * L;
  float amax = 0.0f;
  bool nan = false;
  for (int c = tid; c < L; c += 256) {
    float v = in_f32 ? ((const float*)in)[base + c] : moe_bf16_to_f(((const u16*)in)[base + c]);
    if (moe_isnan(v)) nan = true;
    float a = v < 0 ? -v : v;
    amax = a > amax ? a : amax;
  }
  red[tid] = nan ? moe_u2f(0x7FC00000u) : amax;
  MOE_SYNC();
  for (int w = 128; w > 0; w >>= 1) {
    if (tid < w) {
      float a = red[tid], b = red[tid + w];
      red[tid] = (moe_isnan(a) || moe_isnan(b)) ? moe_u2f(0x7FC00000u) : (a > b ? a : b);
    }
    MOE_SYNC();
  }
  float m = red[0];
  float scale = (moe_isnan(m) || m == 0.0f) ? 1.0f : m / MOE_FP8_MAX;
  if (tid == 0) scales[row] = scale;
  for (int c = tid; c < L; c += 256) {
    float v = in_f32 ? ((const float*)in)[base + c] : moe_bf16_to_f(((const u16*)in)[base + c]);
    out[base + c] = moe_div_to_e4m3(v, scale);  // the exact quotient's code, as the reference
  }
}

static __device__ inline float moe_sigmoid(float x) { return 1.0f / (1.0f + MOE_EXPF(-x)); }
// act_kind 0: SwiGLU-OAI (alpha, limit), 1: SiLU, 2: GELU (tanh form), each times `up`
static __device__ inline float moe_activate(int kind, float g, float u, float alpha, float limit) {
  if (kind == 0) {
    float gg = g < limit ? g : limit;
    float uu = u < -limit ? -limit : (u > limit ? limit : u);
    return gg * moe_sigmoid(alpha * gg) * (uu + 1.0f);
  }
  if (kind == 1) return g * moe_sigmoid(g) * u;
  float z = 0.7978845608028654f * (g + 0.044715f * g * g * g);
  float th = 1.0f - 2.0f / (MOE_EXPF(2.0f * z) + 1.0f);
  return 0.5f * g * (1.0f + th) * u;
}

// The grouped GEMM shared by both layers and both activation types. Grid (N/MOE_BN, max blocks),
// one wave per block; block y takes padded rows [y*BM, y*BM+BM) of expert block_expert[y].
//   GEMM1 (gemm1): A row of padded row p = token sorted[p]/k of x [T, K=H]; N = 2I (gate/up interleaved);
//                  out = inter [rows, I] F32: act(gate, up) of the biased accumulators.
//   GEMM2:         A row = p of inter [rows, K=I]; N = H; out = y [T*k, H] F32 at row sorted[p].
// W: MXFP4 [El, N, K/2] (low nibble first), Wsc: E8M0 [El, N, K/32]; bias [El, N] F32 or BF16, or null.
// BF16: A is F32 (a_f32) or BF16; the weight scale is folded into the BF16 weights.
// FP8:  A is E4M3 [rows, K] with a_scales per A row; weights widened to E4M3, their scale applied per
//       32-wide k step to the FP32 accumulators.
template <bool FP8, bool GEMM1>
static __device__ inline void moe_gemm(const void* A, int a_f32, const float* a_scales, const u8* W, const u8* Wsc,
                                       const void* bias, int bias_f32, const int* sorted, const int* block_expert,
                                       const int* num_blocks, int K, int N, int topk, int act_kind, float alpha,
                                       float limit, float* out) {
  __shared__ int s_row[MOE_BM];
  __shared__ int s_slot[MOE_BM];
  __shared__ u16 sA[FP8 ? 1 : MOE_BM][MOE_LDA];
  __shared__ u16 sB[FP8 ? 1 : MOE_BN][MOE_LDA];
  __shared__ u8 sA8[FP8 ? MOE_BM : 1][MOE_LDA];
  __shared__ u8 sB8[FP8 ? MOE_BN : 1][MOE_LDA];
  __shared__ float sBs[MOE_BN];
  __shared__ float sC[MOE_BM][MOE_BN + 1];
  const int lane = MOE_TID();
  const int mb = MOE_BIDY();
  if (mb >= *num_blocks) return;
  const int n0 = MOE_BIDX() * MOE_BN;
  const int p0 = mb * MOE_BM;
  const long long e = block_expert[mb];
  for (int r = lane; r < MOE_BM; r += MOE_WAVE) {
    int slot = sorted[p0 + r];
    s_slot[r] = slot;
    s_row[r] = slot < 0 ? -1 : (GEMM1 ? slot / topk : p0 + r);
  }
  MOE_SYNC();
  float acc[MOE_ACC_N];
  for (int j = 0; j < MOE_ACC_N; j++) acc[j] = 0.0f;
  const int kBlocks = K / MOE_BK;
  for (int kb = 0; kb < kBlocks; kb++) {
    for (int idx = lane; idx < MOE_BM * MOE_BK; idx += MOE_WAVE) {
      int r = idx / MOE_BK, c = idx % MOE_BK;
      int row = s_row[r];
      long long at = (long long)row * K + kb * MOE_BK + c;
      if (FP8) {
        sA8[r][c] = row < 0 ? (u8)0 : ((const u8*)A)[at];
      } else {
        sA[r][c] = row < 0 ? (u16)0 : (a_f32 ? moe_f_to_bf16(((const float*)A)[at]) : ((const u16*)A)[at]);
      }
    }
    for (int idx = lane; idx < MOE_BN * (MOE_BK / 2); idx += MOE_WAVE) {
      int n = idx / (MOE_BK / 2), cb = idx % (MOE_BK / 2);
      long long wrow = e * N + n0 + n;
      unsigned byte = W[wrow * (K / 2) + kb * (MOE_BK / 2) + cb];
      if (FP8) {
        sB8[n][2 * cb] = moe_e2m1_to_e4m3(byte & 15u);
        sB8[n][2 * cb + 1] = moe_e2m1_to_e4m3(byte >> 4);
      } else {
        float s = moe_e8m0(Wsc[wrow * kBlocks + kb]);
        sB[n][2 * cb] = moe_f_to_bf16(moe_e2m1(byte & 15u) * s);
        sB[n][2 * cb + 1] = moe_f_to_bf16(moe_e2m1(byte >> 4) * s);
      }
    }
    if (FP8) {
      for (int n = lane; n < MOE_BN; n += MOE_WAVE) sBs[n] = moe_e8m0(Wsc[(e * N + n0 + n) * kBlocks + kb]);
    }
    MOE_SYNC();
    if (FP8) {
      float blk[MOE_ACC_N];
      for (int j = 0; j < MOE_ACC_N; j++) blk[j] = 0.0f;
      moe_tile_mma_fp8(blk, sA8, sB8, lane);
      for (int j = 0; j < MOE_ACC_N; j++) acc[j] += blk[j] * sBs[MOE_ACC_COL(j, lane)];
    } else {
      moe_tile_mma_bf16(acc, sA, sB, lane);
    }
    MOE_SYNC();
  }
  for (int j = 0; j < MOE_ACC_N; j++) sC[MOE_ACC_ROW(j, lane)][MOE_ACC_COL(j, lane)] = acc[j];
  MOE_SYNC();
  if (GEMM1) {
    const int I = N / 2;
    for (int idx = lane; idx < MOE_BM * (MOE_BN / 2); idx += MOE_WAVE) {
      int r = idx / (MOE_BN / 2), c2 = idx % (MOE_BN / 2);
      int row = s_row[r];
      float sa = (FP8 && row >= 0) ? a_scales[row] : 1.0f;
      float g = sC[r][2 * c2] * sa, u = sC[r][2 * c2 + 1] * sa;
      if (bias != 0) {
        long long b = e * N + n0 + 2 * c2;
        g += bias_f32 ? ((const float*)bias)[b] : moe_bf16_to_f(((const u16*)bias)[b]);
        u += bias_f32 ? ((const float*)bias)[b + 1] : moe_bf16_to_f(((const u16*)bias)[b + 1]);
      }
      out[(long long)(p0 + r) * I + n0 / 2 + c2] = moe_activate(act_kind, g, u, alpha, limit);
    }
  } else {
    for (int idx = lane; idx < MOE_BM * MOE_BN; idx += MOE_WAVE) {
      int r = idx / MOE_BN, c = idx % MOE_BN;
      int slot = s_slot[r];
      if (slot < 0) continue;
      float v = sC[r][c] * (FP8 ? a_scales[p0 + r] : 1.0f);
      if (bias != 0) {
        long long b = e * N + n0 + c;
        v += bias_f32 ? ((const float*)bias)[b] : moe_bf16_to_f(((const u16*)bias)[b]);
      }
      out[(long long)slot * N + n0 + c] = v;
    }
  }
}

#define MOE_GEMM_PARAMS const void* A, int a_f32, const float* a_scales, const u8* W, const u8* Wsc, \
  const void* bias, int bias_f32, const int* sorted, const int* block_expert, const int* num_blocks, int K, \
  int N, int topk, int act_kind, float alpha, float limit, float* out
#define MOE_GEMM_ARGS A, a_f32, a_scales, W, Wsc, bias, bias_f32, sorted, block_expert, num_blocks, K, N, topk, \
  act_kind, alpha, limit, out

extern "C" __global__ void moe_gemm1_bf16(MOE_GEMM_PARAMS) { moe_gemm<false, true>(MOE_GEMM_ARGS); }
extern "C" __global__ void moe_gemm2_bf16(MOE_GEMM_PARAMS) { moe_gemm<false, false>(MOE_GEMM_ARGS); }
extern "C" __global__ void moe_gemm1_fp8(MOE_GEMM_PARAMS) { moe_gemm<true, true>(MOE_GEMM_ARGS); }
extern "C" __global__ void moe_gemm2_fp8(MOE_GEMM_PARAMS) { moe_gemm<true, false>(MOE_GEMM_ARGS); }

// 256 threads a block over T*H outputs: out[t, c] = sum_j w[t,j] * y[t*k+j, c] for j whose expert is
// local (ids in [first, first+El)), in order j = 0..k-1; F32 (out_f32) or BF16 out.
extern "C" __global__ void moe_reduce(const float* y, const int* ids, const float* weights, int T, int k, int H,
                                      int first, int El, void* out, int out_f32) {
  long long idx = (long long)MOE_BIDX() * 256 + MOE_TID();
  if (idx >= (long long)T * H) return;
  long long t = idx / H;
  int c = (int)(idx % H);
  float s = 0.0f;
  for (int j = 0; j < k; j++) {
    int e = ids[t * k + j] - first;
    if (e >= 0 && e < El) s += weights[t * k + j] * y[(t * k + j) * H + c];
  }
  if (out_f32) ((float*)out)[idx] = s;
  else ((u16*)out)[idx] = moe_f_to_bf16(s);
}
