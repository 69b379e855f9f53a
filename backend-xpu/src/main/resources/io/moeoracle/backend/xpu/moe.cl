// moe-oracle xpu backend: the MoE forward in OpenCL C 1.2.
//
// Stages (one in-order queue):  route (top-k + softmax over k)  ->  align (pairs grouped by expert
// into tiles of BM)  ->  gemm1 (x . W13^T + b, gated activation)  ->  gemm2 (a . W2^T + b, one row per
// pair)  ->  combine (sum over the k pairs of a token, in slot order: deterministic).
//
// Build options:
//   -DXPU_PATH=0  portable: virtual sub-groups of VSG lanes, reductions through local memory
//   -DXPU_PATH=1  sub-groups: cl_khr_subgroups / cl_intel_subgroups, sub_group_reduce_add
//   -DXPU_PATH=2  the sub-group kernel structure with the collectives emulated in local memory (one
//                 "sub-group" = the whole work-group); lets devices without sub-groups test that path
//   -DXPU_INTEL_SUBGROUPS  cl_intel_subgroups: required sub-group size 16
//   -DXPU_BLOCK_READS      intel_sub_group_block_read for the MXFP4 weight stream (needs the above)

#define BM 8          // (token, slot) pairs per tile
#define NPW 8         // output neurons per work-group
#define WG 128        // work-group size of the GEMM kernels
#define VSG 16        // lanes of a virtual sub-group (portable path)
#define ALIGN_WG 256  // work-group size of the single-group align kernel
#define ALIGN_MAX_EXPERTS 2048  // local experts the align kernel counts in local memory (16 KiB)

#ifndef XPU_PATH
#define XPU_PATH 0
#endif

#if XPU_PATH == 1
  #ifdef XPU_INTEL_SUBGROUPS
    #pragma OPENCL EXTENSION cl_intel_subgroups : enable
    #define SG_ATTR __attribute__((intel_reqd_sub_group_size(16)))
  #else
    #pragma OPENCL EXTENSION cl_khr_subgroups : enable
    #define SG_ATTR
  #endif
  #define LANE ((int)get_sub_group_local_id())
  #define NLANES ((int)get_sub_group_size())
  #define SGID ((int)get_sub_group_id())
  #define NSG ((int)get_num_sub_groups())
#elif XPU_PATH == 2
  #define SG_ATTR
  #define LANE ((int)get_local_id(0))
  #define NLANES WG
  #define SGID 0
  #define NSG 1
#else
  #define SG_ATTR
  #define LANE ((int)get_local_id(0) % VSG)
  #define NLANES VSG
  #define SGID ((int)get_local_id(0) / VSG)
  #define NSG (WG / VSG)
#endif

#define ACT_SWIGLU_OAI 0
#define ACT_SILU 1
#define ACT_GELU 2

#define FMT_MXFP4 0
#define FMT_BF16 1

// ---------------------------------------------------------------------------------------------
// scalar helpers

// E2M1: sign, 2 exponent bits, 1 mantissa bit; 0, 0.5, 1, 1.5, 2, 3, 4, 6.
inline float fp4_value(uint v) {
    uint em = v & 7u;
    float mag = em < 2u ? (float)em * 0.5f : as_float((em << 22) + (126u << 23));
    return (v & 8u) ? -mag : mag;
}

// E8M0: 2^(s-127); 0xFF is NaN, 0 is 2^-127 (a float subnormal).
inline float e8m0_value(uint s) {
    return s == 0u ? as_float(0x00400000u) : (s == 255u ? as_float(0x7fc00000u) : as_float(s << 23));
}

inline float bf16_value(uint bits16) {
    return as_float(bits16 << 16);
}

// float -> bf16, round to nearest even, NaN stays NaN.
inline ushort bf16_bits(float f) {
    uint b = as_uint(f);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0u) {
        return (ushort)((b >> 16) | 0x40u);
    }
    b += 0x7fffu + ((b >> 16) & 1u);
    return (ushort)(b >> 16);
}

inline float sigmoid_f(float x) {
    return 1.0f / (1.0f + exp(-x));
}

inline float activate(float g, float u, int kind, float alpha, float limit) {
    if (kind == ACT_SWIGLU_OAI) {
        g = fmin(g, limit);
        u = clamp(u, -limit, limit);
        return g * sigmoid_f(alpha * g) * (u + 1.0f);
    } else if (kind == ACT_SILU) {
        return g * sigmoid_f(g) * u;
    } else {
        const float k0 = 0.7978845608028654f; // sqrt(2/pi)
        float inner = k0 * (g + 0.044715f * g * g * g);
        return 0.5f * g * (1.0f + tanh(inner)) * u;
    }
}

inline float dot8(float8 a, float8 b) {
    return dot(a.lo, b.lo) + dot(a.hi, b.hi);
}

// Eight MXFP4 values (one uint, low nibble first) times their block scale.
inline float8 decode_fp4x8(uint q, float scale) {
    float8 w = (float8)(fp4_value(q), fp4_value(q >> 4), fp4_value(q >> 8), fp4_value(q >> 12),
                        fp4_value(q >> 16), fp4_value(q >> 20), fp4_value(q >> 24), fp4_value(q >> 28));
    return w * scale;
}

inline float8 decode_bf16x8(uint4 q) {
    return (float8)(as_float(q.x << 16), as_float(q.x & 0xffff0000u), as_float(q.y << 16), as_float(q.y & 0xffff0000u),
                    as_float(q.z << 16), as_float(q.z & 0xffff0000u), as_float(q.w << 16), as_float(q.w & 0xffff0000u));
}

// Sums ncol per-lane partials over the lanes of this (virtual) sub-group; lane c < ncol gets the
// total of column c. Every work-item of the work-group must call it (it may contain barriers).
inline float reduce_columns(const float* part, const int ncol, __local float* red) {
#if XPU_PATH == 1
    float mine = 0.0f;
    for (int c = 0; c < ncol; c++) {
        float s = sub_group_reduce_add(part[c]);
        if (c == LANE) {
            mine = s;
        }
    }
    return mine;
#else
    const int lid = (int)get_local_id(0);
    const int stride = ncol + 1;
    for (int c = 0; c < ncol; c++) {
        red[lid * stride + c] = part[c];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float mine = 0.0f;
    const int lane = LANE;
    if (lane < ncol) {
        const int base = lid - lane;
        for (int i = 0; i < NLANES; i++) {
            mine += red[(base + i) * stride + lane];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return mine;
#endif
}

// The K loops of one tile: BM pairs (rows xr[m] of the input) times one weight row; per-lane partials
// added into ACC[m]. A tile's pairs are a prefix of its BM slots, so `valid` (uniform over the tile)
// skips the padding: at decode sizes most tiles hold a single pair.
//
// BF16: a lane takes 8 values (16 bytes) per step.
#define K_LOOP_BF16(ROW, ACC, K)                                                                      \
    for (int u = LANE; u < (K) / 8; u += NLANES) {                                                    \
        float8 w = decode_bf16x8(((__global const uint4*)(ROW))[u]);                                  \
        for (int m = 0; m < BM; m++) if (m < valid) ACC[m] += dot8(w, vload8(u, xr[m]));             \
    }

#if XPU_PATH == 1 && defined(XPU_BLOCK_READS)
// MXFP4 on Intel: sub-group block reads of 4 bytes (8 values) a lane, 64 contiguous bytes a step.
#define K_LOOP_MXFP4(ROW, SROW, ACC, K)                                                               \
    {                                                                                                 \
        const int ku = (K) / 8;                                                                       \
        int u0 = 0;                                                                                   \
        for (; u0 + 16 <= ku; u0 += 16) {                                                             \
            uint q = intel_sub_group_block_read((__global const uint*)(ROW) + u0);                    \
            int u = u0 + LANE;                                                                        \
            float8 w = decode_fp4x8(q, e8m0_value((SROW)[u >> 2]));                                   \
            for (int m = 0; m < BM; m++) if (m < valid) ACC[m] += dot8(w, vload8(u, xr[m]));         \
        }                                                                                             \
        for (int u = u0 + LANE; u < ku; u += NLANES) {                                                \
            float8 w = decode_fp4x8(((__global const uint*)(ROW))[u], e8m0_value((SROW)[u >> 2]));    \
            for (int m = 0; m < BM; m++) if (m < valid) ACC[m] += dot8(w, vload8(u, xr[m]));         \
        }                                                                                             \
    }
#else
// MXFP4: a lane takes one whole 32-value block (16 bytes and its scale) per step: wide loads, one
// scale load and one scale multiply per block.
#define K_LOOP_MXFP4(ROW, SROW, ACC, K)                                                               \
    for (int b = LANE; b < (K) / 32; b += NLANES) {                                                   \
        uint4 q = ((__global const uint4*)(ROW))[b];                                                  \
        float sc = e8m0_value((SROW)[b]);                                                             \
        float8 w0 = decode_fp4x8(q.x, 1.0f);                                                          \
        float8 w1 = decode_fp4x8(q.y, 1.0f);                                                          \
        float8 w2 = decode_fp4x8(q.z, 1.0f);                                                          \
        float8 w3 = decode_fp4x8(q.w, 1.0f);                                                          \
        for (int m = 0; m < BM; m++) {                                                                \
            if (m < valid) {                                                                          \
                ACC[m] += sc * (dot8(w0, vload8(4 * b, xr[m])) + dot8(w1, vload8(4 * b + 1, xr[m]))   \
                              + dot8(w2, vload8(4 * b + 2, xr[m])) + dot8(w3, vload8(4 * b + 3, xr[m]))); \
            }                                                                                         \
        }                                                                                             \
    }
#endif

// ---------------------------------------------------------------------------------------------
// GEMM1: for each pair p of the tile and neuron n: gate = x[t].W13[e,2n] + b, up = x[t].W13[e,2n+1] + b,
// act[p, n] = activation(gate, up).  x [T, H] f32, act [T*k, I] f32.
inline void gemm1_body(__global const float* x, __global const uchar* w, __global const uchar* sc,
                       __global const float* bias, int has_bias, __global const int* sorted,
                       __global const int* tile_expert, int H, int I, int topk, int act_kind, float alpha,
                       float limit, __global float* act, __local float* red, const int fmt) {
    const int tile = (int)get_group_id(1);
    const int e = tile_expert[tile];
    if (e < 0) {
        return; // unused tile: uniform over the work-group
    }
    int pair[BM];
    __global const float* xr[BM];
    int valid = 0;
    for (int m = 0; m < BM; m++) {
        int p = sorted[tile * BM + m];
        pair[m] = p;
        valid += p >= 0 ? 1 : 0;
        xr[m] = x + (size_t)(p < 0 ? 0 : p / topk) * (size_t)H;
    }
    const size_t row_bytes = fmt == FMT_MXFP4 ? (size_t)H / 2 : (size_t)H * 2;
    const size_t srow_bytes = (size_t)H / 32;
    const size_t rows = 2 * (size_t)I;
    const int n0 = (int)get_group_id(0) * NPW;
    for (int j = SGID; j < NPW; j += NSG) {
        const int n = n0 + j;
        const int nn = min(n, I - 1); // clamped so that every lane takes part in the reductions
        const size_t grow = (size_t)e * rows + 2 * (size_t)nn;
        __global const uchar* wg = w + grow * row_bytes;
        __global const uchar* wu = wg + row_bytes;
        __global const uchar* sg = sc + grow * srow_bytes;
        __global const uchar* su = sg + srow_bytes;
        float ag[BM];
        float au[BM];
        for (int m = 0; m < BM; m++) {
            ag[m] = 0.0f;
            au[m] = 0.0f;
        }
        if (fmt == FMT_MXFP4) {
            K_LOOP_MXFP4(wg, sg, ag, H)
            K_LOOP_MXFP4(wu, su, au, H)
        } else {
            K_LOOP_BF16(wg, ag, H)
            K_LOOP_BF16(wu, au, H)
        }
        float g = reduce_columns(ag, BM, red);
        float u = reduce_columns(au, BM, red);
        const int lane = LANE;
        if (lane < BM && n < I) {
            int p = -1;
            for (int m = 0; m < BM; m++) {
                if (m == lane) {
                    p = pair[m];
                }
            }
            if (p >= 0) {
                if (has_bias) {
                    g += bias[grow];
                    u += bias[grow + 1];
                }
                act[(size_t)p * (size_t)I + (size_t)n] = activate(g, u, act_kind, alpha, limit);
            }
        }
    }
}

// GEMM2: y[p, n] = act[p].W2[e, n] + b[e, n].  act [T*k, I], y [T*k, H].
inline void gemm2_body(__global const float* act, __global const uchar* w, __global const uchar* sc,
                       __global const float* bias, int has_bias, __global const int* sorted,
                       __global const int* tile_expert, int H, int I, __global float* y, __local float* red,
                       const int fmt) {
    const int tile = (int)get_group_id(1);
    const int e = tile_expert[tile];
    if (e < 0) {
        return;
    }
    int pair[BM];
    __global const float* xr[BM];
    int valid = 0;
    for (int m = 0; m < BM; m++) {
        int p = sorted[tile * BM + m];
        pair[m] = p;
        valid += p >= 0 ? 1 : 0;
        xr[m] = act + (size_t)(p < 0 ? 0 : p) * (size_t)I;
    }
    const size_t row_bytes = fmt == FMT_MXFP4 ? (size_t)I / 2 : (size_t)I * 2;
    const size_t srow_bytes = (size_t)I / 32;
    const int n0 = (int)get_group_id(0) * NPW;
    for (int j = SGID; j < NPW; j += NSG) {
        const int n = n0 + j;
        const int nn = min(n, H - 1);
        const size_t row = (size_t)e * (size_t)H + (size_t)nn;
        __global const uchar* wr = w + row * row_bytes;
        __global const uchar* sr = sc + row * srow_bytes;
        float acc[BM];
        for (int m = 0; m < BM; m++) {
            acc[m] = 0.0f;
        }
        if (fmt == FMT_MXFP4) {
            K_LOOP_MXFP4(wr, sr, acc, I)
        } else {
            K_LOOP_BF16(wr, acc, I)
        }
        float s = reduce_columns(acc, BM, red);
        const int lane = LANE;
        if (lane < BM && n < H) {
            int p = -1;
            for (int m = 0; m < BM; m++) {
                if (m == lane) {
                    p = pair[m];
                }
            }
            if (p >= 0) {
                y[(size_t)p * (size_t)H + (size_t)n] = s + (has_bias ? bias[row] : 0.0f);
            }
        }
    }
}

#define GEMM1_ARGS                                                                                    \
    __global const float* x, __global const uchar* w, __global const uchar* sc, __global const float* bias, \
    int has_bias, __global const int* sorted, __global const int* tile_expert, int H, int I, int topk,   \
    int act_kind, float alpha, float limit, __global float* act
#define GEMM2_ARGS                                                                                    \
    __global const float* act, __global const uchar* w, __global const uchar* sc, __global const float* bias, \
    int has_bias, __global const int* sorted, __global const int* tile_expert, int H, int I, __global float* y

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) SG_ATTR
void moe_gemm1_mxfp4(GEMM1_ARGS) {
    __local float red[WG * (BM + 1)];
    gemm1_body(x, w, sc, bias, has_bias, sorted, tile_expert, H, I, topk, act_kind, alpha, limit, act, red, FMT_MXFP4);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) SG_ATTR
void moe_gemm1_bf16(GEMM1_ARGS) {
    __local float red[WG * (BM + 1)];
    gemm1_body(x, w, sc, bias, has_bias, sorted, tile_expert, H, I, topk, act_kind, alpha, limit, act, red, FMT_BF16);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) SG_ATTR
void moe_gemm2_mxfp4(GEMM2_ARGS) {
    __local float red[WG * (BM + 1)];
    gemm2_body(act, w, sc, bias, has_bias, sorted, tile_expert, H, I, y, red, FMT_MXFP4);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) SG_ATTR
void moe_gemm2_bf16(GEMM2_ARGS) {
    __local float red[WG * (BM + 1)];
    gemm2_body(act, w, sc, bias, has_bias, sorted, tile_expert, H, I, y, red, FMT_BF16);
}

// ---------------------------------------------------------------------------------------------
// Routing: per token, the top-k logits (ties: lower expert id first) and a softmax over those k.
__kernel void moe_route(__global const uchar* logits, int logits_bf16, int T, int E, int topk,
                        __global int* ids, __global float* weights) {
    const int t = (int)get_global_id(0);
    if (t >= T) {
        return;
    }
    const size_t base = (size_t)t * (size_t)E;
    __global int* tid = ids + (size_t)t * topk;
    __global float* tw = weights + (size_t)t * topk;
    for (int j = 0; j < topk; j++) {
        int best = -1;
        float bv = 0.0f;
        for (int e = 0; e < E; e++) {
            bool taken = false;
            for (int i = 0; i < j; i++) {
                taken = taken || tid[i] == e;
            }
            if (taken) {
                continue;
            }
            float v = logits_bf16 ? bf16_value(((__global const ushort*)logits)[base + e])
                                  : ((__global const float*)logits)[base + e];
            if (best < 0 || v > bv) {
                best = e;
                bv = v;
            }
        }
        tid[j] = best;
        tw[j] = bv;
    }
    float mx = tw[0];
    for (int j = 1; j < topk; j++) {
        mx = fmax(mx, tw[j]);
    }
    float sum = 0.0f;
    for (int j = 0; j < topk; j++) {
        float ex = exp(tw[j] - mx);
        tw[j] = ex;
        sum += ex;
    }
    for (int j = 0; j < topk; j++) {
        tw[j] = tw[j] / sum;
    }
}

// ---------------------------------------------------------------------------------------------
// Alignment (one work-group): counts pairs per local expert, lays experts out in tiles of BM slots
// (unused slots -1), and scatters each pair index p = t*k + j into its expert's slots. Counts and
// cursors live in local memory (local atomics), so the serial layout pass costs no global round
// trips. The order inside an expert's slots does not matter: every pair's sums are computed
// independently and written to the pair's own row, so results do not depend on it.
__kernel __attribute__((reqd_work_group_size(ALIGN_WG, 1, 1)))
void moe_align(__global const int* ids, int TK, int El, int e0, int max_tiles, __global int* sorted,
               __global int* tile_expert) {
    __local int counts[ALIGN_MAX_EXPERTS];
    __local int cursor[ALIGN_MAX_EXPERTS];
    const int lid = (int)get_local_id(0);
    for (int e = lid; e < El; e += ALIGN_WG) {
        counts[e] = 0;
    }
    for (int s = lid; s < max_tiles * BM; s += ALIGN_WG) {
        sorted[s] = -1;
    }
    for (int s = lid; s < max_tiles; s += ALIGN_WG) {
        tile_expert[s] = -1;
    }
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    for (int p = lid; p < TK; p += ALIGN_WG) {
        int e = ids[p] - e0;
        if (e >= 0 && e < El) {
            atomic_inc(&counts[e]);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
        int tiles = 0;
        for (int e = 0; e < El; e++) {
            int c = counts[e];
            cursor[e] = tiles * BM;
            int nt = (c + BM - 1) / BM;
            for (int i = 0; i < nt && tiles + i < max_tiles; i++) {
                tile_expert[tiles + i] = e;
            }
            tiles += nt;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    for (int p = lid; p < TK; p += ALIGN_WG) {
        int e = ids[p] - e0;
        if (e >= 0 && e < El) {
            int pos = atomic_inc(&cursor[e]);
            if (pos < max_tiles * BM) {
                sorted[pos] = p;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Combine: out[t, n] = sum over j in slot order of w[t, j] * y[t*k + j, n] (local experts only).
// Every element of out is written.
__kernel void moe_combine(__global const float* y, __global const int* ids, __global const float* weights,
                          int T, int H, int topk, int El, int e0, int out_bf16, __global uchar* out) {
    const int n = (int)get_global_id(0);
    const int t = (int)get_global_id(1);
    if (n >= H || t >= T) {
        return;
    }
    float s = 0.0f;
    for (int j = 0; j < topk; j++) {
        const size_t p = (size_t)t * topk + j;
        const int e = ids[p] - e0;
        if (e >= 0 && e < El) {
            s += weights[p] * y[p * (size_t)H + (size_t)n];
        }
    }
    const size_t o = (size_t)t * (size_t)H + (size_t)n;
    if (out_bf16) {
        ((__global ushort*)out)[o] = bf16_bits(s);
    } else {
        ((__global float*)out)[o] = s;
    }
}

// bf16 [n] -> f32 [n]
__kernel void moe_bf16_to_f32(__global const ushort* in, __global float* out, int n) {
    const int i = (int)get_global_id(0);
    if (i < n) {
        out[i] = bf16_value(in[i]);
    }
}
