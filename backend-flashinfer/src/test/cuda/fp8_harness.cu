// Stand-alone harness for the flashinfer MXFP8-activation kernels (fi_fp8.cuh, fi_fp8w.cuh):
//   quant   GPU quantizer bytes == a CPU port of io.moeoracle.api.quant.Mxfp8 (OCP_FLOOR) on random
//           and adversarial rows (tiny / huge / subnormal magnitudes, ties, NaN / Inf blocks, zero and
//           negative-zero blocks, K_real < K_pad), both E4M3 encoders, and the folded variant
//   test    whole forward (route/align, quantizers, GEMM1, GEMM2, finalize) against a float64 CPU
//           reference with MXFP8 quantize-dequantize of both GEMM inputs (rel. L2 <= 1e-2; the error
//           against the unquantized reference is printed too), NaN-poisoned outputs and scratch,
//           random small specs, odd shapes, expert parallelism, hot and empty experts, LoRA hook,
//           and the gpt-oss-120b shape at T = 1, 7, 64, 300, 4096; every family ("mma" = mma.sync,
//           "wg" = wgmma) and M
//   bench   gpt-oss-120b shape, whole forward as CUDA graph replays (median), T = 1 .. 4096, every
//           variant; copy bandwidth measured in the same run; per-stage times
// Build: see build-fp8-harness.sh (includes cuda-moe/src/main/cuda and cuda-moe/src/test/cuda). Env: SEED, BENCH_T (comma list), BENCH_V (e.g. mma8,wg128).
#include "flashinfer_moe.cu"
#include "moe_harness.h"  // cuda-moe/src/test/cuda: data, references, checks, ceilings

#include <unistd.h>

#include <chrono>
#include <map>

// harness-only instantiations: the software encoder, to compare with the hardware one
extern "C" __global__ void __launch_bounds__(128) h_quant_sw(const void* in, int in_bf16, int in_stride,
                                                             const int* rows_dev, int rows_mul, int rows_max,
                                                             int K_real, int K_pad, uint8_t* q, uint8_t* s) {
    fi_quant_body<0, false>(in, in_bf16, in_stride, rows_dev, rows_mul, rows_max, K_real, K_pad, q, s);
}
extern "C" __global__ void __launch_bounds__(128) h_quantf_sw(const void* in, int in_bf16, int in_stride,
                                                              const int* rows_dev, int rows_mul, int rows_max,
                                                              int K_real, int K_pad, uint8_t* q, uint8_t* s) {
    fi_quant_body<4, false>(in, in_bf16, in_stride, rows_dev, rows_mul, rows_max, K_real, K_pad, q, s);
}

// alternative decode shapes, measured beside the exported ones
FI_DEFINE_GEMV(h_g1_m8_s2, 2, 1, 4, false)
FI_DEFINE_GEMV(h_g2_m8_s2, 2, 1, 4, true)
FI_DEFINE_GEMV(h_g1_m8_w8, 4, 1, 8, false)
FI_DEFINE_GEMV(h_g2_m8_w8, 4, 1, 8, true)
FI_DEFINE_GEMV_B(h_g1_m8_b3, 4, 1, 4, false, 3)
FI_DEFINE_GEMV_B(h_g2_m8_b3, 4, 1, 4, true, 3)
FI_DEFINE_GEMV(h_g1_m16_s2, 2, 2, 4, false)
FI_DEFINE_GEMV(h_g2_m16_s2, 2, 2, 4, true)
// deeper copy lookahead of the wgmma kernel (exported: FW_D)
FI_DEFINE_FP8W(h_fw1_d2, false, 2)
FI_DEFINE_FP8W(h_fw2_d2, true, 2)
FI_DEFINE_FP8W(h_fw1_d4, false, 4)
FI_DEFINE_FP8W(h_fw2_d4, true, 4)
FI_DEFINE_FP8W(h_fw1_d5, false, 5)
FI_DEFINE_FP8W(h_fw2_d5, true, 5)


// ------------------------------------------------------------------------------------------------
// CPU port of io.moeoracle.api.quant.Mxfp8 (ScaleRule.OCP_FLOOR), in double like the Java codec
// ------------------------------------------------------------------------------------------------
static int e4m3_enc(double v) {
    int sign = std::signbit(v) ? 0x80 : 0;
    if (std::isnan(v)) return 0x7F;
    double x = std::fabs(v);
    if (x >= 448.0) return sign | 0x7E;
    int code;
    if (x < 0x1p-6) {
        code = (int)std::nearbyint(x * 0x1p9);
    } else {
        int e = std::ilogb(x);
        int r = (int)std::nearbyint(std::scalbn(x, 3 - e));
        code = ((e + 7) << 3) + (r - 8);
    }
    return sign | std::min(code, 0x7E);
}
static double e4m3_dec(int c) {
    int e = (c >> 3) & 15, m = c & 7;
    double v = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1 + m / 8.0, e - 7);
    if ((c & 0x7F) == 0x7F) v = NAN;
    return (c & 0x80) ? -v : v;
}
static double e8m0_dec(int c) { return c == 255 ? NAN : std::ldexp(1.0, c - 127); }
// one block of 32 values -> code (Mxfp8.encode)
static int mx_encode(const double* v, uint8_t* out) {
    double amax = 0;
    for (int i = 0; i < 32; i++) {
        if (!std::isfinite(v[i])) {
            for (int j = 0; j < 32; j++) out[j] = 0;
            return 255;
        }
        amax = std::max(amax, std::fabs(v[i]));
    }
    int code = amax == 0 ? 0 : std::min(std::max(std::ilogb(amax) - 8, -127), 127) + 127;
    int x = code - 127;
    for (int i = 0; i < 32; i++) out[i] = (uint8_t)e4m3_enc(std::scalbn(v[i], -x));
    return code;
}
// a row as the ABI defines it: K_real values, zero padding to K_pad, wholly-padding blocks scale 127
static void quant_row_ref(const double* v, int K_real, int K_pad, int fold, uint8_t* q, uint8_t* s) {
    std::vector<double> blk(32);
    std::vector<int> codes(K_pad / 32);
    std::vector<char> pad(K_pad / 32);
    for (int b = 0; b < K_pad / 32; b++) {
        pad[b] = b * 32 >= K_real;
        for (int i = 0; i < 32; i++) blk[i] = (b * 32 + i < K_real) ? v[b * 32 + i] : 0.0;
        if (pad[b]) {
            for (int i = 0; i < 32; i++) q[b * 32 + i] = 0;
            codes[b] = 127;
        } else {
            codes[b] = mx_encode(blk.data(), q + b * 32);
        }
        s[b] = (uint8_t)codes[b];
    }
    if (!fold) return;
    for (int g0 = 0; g0 < K_pad / 32; g0 += fold) {
        int key = -1;
        for (int b = g0; b < std::min(g0 + fold, K_pad / 32); b++) {
            if (pad[b]) continue;
            key = std::max(key, codes[b] == 255 ? 1000 : codes[b]);
        }
        int gc = key >= 1000 ? 255 : (key < 0 ? 127 : key);
        for (int b = g0; b < std::min(g0 + fold, K_pad / 32); b++) {
            if (pad[b]) continue;
            s[b] = (uint8_t)gc;
            if (gc != 255 && codes[b] < gc)
                for (int i = 0; i < 32; i++) q[b * 32 + i] = (uint8_t)e4m3_enc(std::ldexp(e4m3_dec(q[b * 32 + i]), codes[b] - gc));
        }
    }
}
// quantize-dequantize in place (what an MXFP8 kernel sees), n a multiple of 32
static void qdq(double* v, int n) {
    uint8_t c[32];
    for (int b = 0; b < n; b += 32) {
        int sc = mx_encode(v + b, c);
        for (int i = 0; i < 32; i++) v[b + i] = e4m3_dec(c[i]) * e8m0_dec(sc);
    }
}

// ------------------------------------------------------------------------------------------------
// quantizer test
// ------------------------------------------------------------------------------------------------
typedef void (*QuantFn)(const void*, int, int, const int*, int, int, int, int, uint8_t*, uint8_t*);

static void quant_case(const char* name, const std::vector<float>& rows, int R, int K_real, int K_pad, int stride,
                       bool bf16_in) {
    // the input as the kernel sees it (BF16 inputs are rounded first)
    std::vector<float> vin((size_t)R * stride);
    std::vector<uint16_t> vb((size_t)R * stride);
    for (size_t i = 0; i < vin.size(); i++) {
        vb[i] = f2bf(rows[i]);
        vin[i] = bf16_in ? bf2f(vb[i]) : rows[i];
    }
    void* din;
    size_t ibytes = vin.size() * (bf16_in ? 2 : 4);
    CK(cudaMalloc(&din, ibytes));
    CK(cudaMemcpy(din, bf16_in ? (void*)vb.data() : (void*)vin.data(), ibytes, cudaMemcpyHostToDevice));
    uint8_t *dq, *ds;
    int* drows;
    CK(cudaMalloc(&dq, (size_t)R * K_pad));
    CK(cudaMalloc(&ds, (size_t)R * K_pad / 32));
    CK(cudaMalloc(&drows, 4));
    int rows_dev_val = (R + 7) / 8;  // rows_dev * rows_mul covers R, clipped by rows_max
    CK(cudaMemcpy(drows, &rows_dev_val, 4, cudaMemcpyHostToDevice));
    struct V { const char* n; QuantFn f; int fold; };
    V vs[] = {{"hw", fi_quant_mxfp8, 0}, {"sw", h_quant_sw, 0}, {"fold-hw", fi_quant_mxfp8f, 4}, {"fold-sw", h_quantf_sw, 4}};
    for (auto& v : vs) {
        std::vector<uint8_t> ref_q((size_t)R * K_pad), ref_s((size_t)R * K_pad / 32);
        for (int r = 0; r < R; r++) {
            std::vector<double> x(K_real);
            for (int k = 0; k < K_real; k++) x[k] = vin[(size_t)r * stride + k];
            quant_row_ref(x.data(), K_real, K_pad, v.fold, &ref_q[(size_t)r * K_pad], &ref_s[(size_t)r * K_pad / 32]);
        }
        CK(cudaMemset(dq, 0xA5, (size_t)R * K_pad));
        CK(cudaMemset(ds, 0xA5, (size_t)R * K_pad / 32));
        bool use_rows = (R % 2) == 1;
        v.f<<<R, 128>>>(din, bf16_in ? 1 : 0, stride, use_rows ? drows : nullptr, 8, R, K_real, K_pad, dq, ds);
        CK(cudaGetLastError());
        CK(cudaDeviceSynchronize());
        std::vector<uint8_t> gq((size_t)R * K_pad), gs((size_t)R * K_pad / 32);
        CK(cudaMemcpy(gq.data(), dq, gq.size(), cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(gs.data(), ds, gs.size(), cudaMemcpyDeviceToHost));
        long bad_q = 0, bad_s = 0;
        long first = -1;
        for (size_t i = 0; i < gq.size(); i++)
            if (gq[i] != ref_q[i]) { bad_q++; if (first < 0) first = (long)i; }
        for (size_t i = 0; i < gs.size(); i++)
            if (gs[i] != ref_s[i]) bad_s++;
        bool ok = bad_q == 0 && bad_s == 0;
        if (!ok) failures++;
        printf("%-4s quant %-8s %-22s rows=%-4d K_real=%-5d K_pad=%-5d in=%s  element mismatches %ld, scale mismatches %ld",
               ok ? "ok" : "FAIL", v.n, name, R, K_real, K_pad, bf16_in ? "bf16" : "f32", bad_q, bad_s);
        if (first >= 0) {
            long r = first / K_pad, k = first % K_pad;
            printf("  (first row %ld k %ld: in %.9g scale %d/%d gpu %02x ref %02x)", r, k,
                   k < K_real ? vin[r * stride + k] : 0.0, gs[r * K_pad / 32 + k / 32], ref_s[r * K_pad / 32 + k / 32],
                   gq[first], ref_q[first]);
        }
        printf("\n");
    }
    cudaFree(din); cudaFree(dq); cudaFree(ds); cudaFree(drows);
}

static void quant_tests(uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> nd(0, 1);
    auto gen = [&](int R, int stride, int K_real) {
        std::vector<float> v((size_t)R * stride, 0.f);
        for (int r = 0; r < R; r++) {
            int kind = r % 12;
            double mag = std::ldexp(1.0, (int)(g() % 60) - 30);
            for (int k = 0; k < K_real; k++) {
                double x = nd(g) * mag;
                int blk = k / 32;
                switch (kind) {
                    case 1: x *= 1e-38; break;                                            // float subnormals
                    case 2: x *= 1e36; break;                                             // near the float max
                    case 3: if (blk % 3 == 0) x = 0.0; if (blk % 3 == 1) x = -0.0; break;  // zero blocks
                    case 4: if (k == 37 + 32 * (r % 5)) x = NAN; break;                   // NaN block
                    case 5: if (k == 70) x = (r & 1) ? INFINITY : -INFINITY; break;        // Inf block
                    case 6: {  // ties: values on the midpoint between two E4M3 codes at the block scale
                        int c = (int)(g() % 120);
                        double lo = e4m3_dec(c), hi = e4m3_dec(c + 1);
                        x = (k % 32 == 0) ? 300.0 : ((g() & 1) ? -1 : 1) * 0.5 * (lo + hi);
                        x *= std::ldexp(1.0, (int)(blk % 7) - 3);
                        break;
                    }
                    case 7: x = std::ldexp(nd(g), -(int)(g() % 40)); break;                   // wide range in a block
                    case 8: x = (k % 32 == 5) ? 1e4 * nd(g) : 1e-3 * nd(g); break;            // saturation: amax*2^-X in [256,512)
                    case 9: x = (k % 32 == 0) ? 500.0 * ((blk & 1) ? -1 : 1) : 448.5; break;  // 448 region
                    case 10: x = std::ldexp(1.0, -126 - (int)(g() % 24)) * ((g() & 1) ? 1 : -1); break;
                    default: break;
                }
                v[(size_t)r * stride + k] = (float)x;
            }
        }
        return v;
    };
    for (bool bf : {false, true}) {
        quant_case("random", gen(48, 2880, 2880), 48, 2880, 2880, 2880, bf);
        quant_case("K_real<K_pad", gen(37, 160, 160), 37, 160, 192, 160, bf);
        quant_case("odd K_real", gen(13, 104, 100), 13, 100, 128, 104, bf);
        quant_case("stride>K", gen(24, 336, 320), 24, 320, 320, 336, bf);
    }
}

// ------------------------------------------------------------------------------------------------
// layer, weights, reference
// ------------------------------------------------------------------------------------------------
// expert e applied to x (H) -> y (H); quant: MXFP8 quantize-dequantize of both GEMM inputs;
// l1 / l2: LoRA deltas of this (token, expert) row (GEMM1 [2I], GEMM2 [H]) or null
static bool g_ref_bf16_mid = false;  // diagnosis: round the intermediate to BF16 before its quantization
static void expert_ref(const Spec& sp, const Weights& w, int e, const float* xin, bool quant, const float* l1,
                       const float* l2, double* y) {
    std::vector<double> x(xin, xin + sp.H);
    if (quant) qdq(x.data(), sp.H);
    ExpertRefHooks hooks;
    if (l1) hooks.gemm1_add = [&](size_t n) { return (double)l1[n]; };
    if (l2) hooks.gemm2_add = [&](size_t n) { return (double)l2[n]; };
    hooks.mid = [&](std::vector<double>& inter) {
        if (g_ref_bf16_mid)
            for (auto& v : inter) v = bf2f(f2bf((float)v));
        if (quant) qdq(inter.data(), sp.I);
    };
    expert_ref_mxfp4(sp, w, e, x.data(), y, hooks);
}

// ------------------------------------------------------------------------------------------------
// device layer (what the Java side does: fi_repack_mxfp4, then fi_fp8_repack)
// ------------------------------------------------------------------------------------------------
struct DevLayer {
    Spec sp;
    int Hp, Ip;
    uint8_t *q13, *q2;
    uint32_t *s13, *s2;
    float *b13, *b2;
    int sms;
    int lossy[2];
};

static void upload_one(const Spec& sp, const std::vector<uint8_t>& wq, const std::vector<uint8_t>& ws, int N_real,
                       int K_real, int N_pad, int K_pad, uint8_t** q, uint32_t** s, int* lossy) {
    size_t E = sp.El;
    uint8_t *cq, *cs, *aq, *as;
    CK(cudaMalloc(&cq, wq.size()));
    CK(cudaMalloc(&cs, ws.size()));
    CK(cudaMemcpy(cq, wq.data(), wq.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(cs, ws.data(), ws.size(), cudaMemcpyHostToDevice));
    size_t abq = E * N_pad * (K_pad / 2), abs_ = E * N_pad * (K_pad / 32);
    CK(cudaMalloc(&aq, abq));
    CK(cudaMalloc(&as, abs_));
    long n = (long)std::max(abq, abs_);
    fi_repack_mxfp4<<<(unsigned)((n + 255) / 256), 256>>>(cq, cs, (int)E, N_real, K_real, N_pad, K_pad, aq, as);
    CK(cudaGetLastError());
    int G = (K_pad + 127) / 128, NT = (N_pad + 127) / 128;
    CK(cudaMalloc(q, E * G * N_pad * 64));
    CK(cudaMalloc(s, E * G * (size_t)fi_fp8_ws_stride(N_pad) * 4));
    int* dl;
    CK(cudaMalloc(&dl, 8));
    CK(cudaMemset(dl, 0, 8));
    fi_fp8_repack<<<dim3(NT, G, (unsigned)E), 128>>>(aq, as, (int)E, N_pad, K_pad, *q, *s, dl);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    CK(cudaMemcpy(lossy, dl, 8, cudaMemcpyDeviceToHost));
    cudaFree(dl); cudaFree(cq); cudaFree(cs); cudaFree(aq); cudaFree(as);
}

static void upload(const Spec& sp, const Weights& w, DevLayer& d) {
    d.sp = sp;
    d.Hp = pad64(sp.H);
    d.Ip = pad64(sp.I);
    int l1[2], l2[2];
    upload_one(sp, w.w13, w.s13, 2 * sp.I, sp.H, 2 * d.Ip, d.Hp, &d.q13, &d.s13, l1);
    upload_one(sp, w.w2, w.s2, sp.H, sp.I, d.Hp, d.Ip, &d.q2, &d.s2, l2);
    d.lossy[0] = l1[0] + l2[0];
    d.lossy[1] = l1[1] + l2[1];
    upload_bias(sp, w, d.Hp, d.Ip, &d.b13, &d.b2);
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    d.sms = p.multiProcessorCount;
}
static void free_layer(DevLayer& d) {
    cudaFree(d.q13); cudaFree(d.s13); cudaFree(d.q2); cudaFree(d.s2);
    if (d.b13) { cudaFree(d.b13); cudaFree(d.b2); }
}

typedef void (*GemmFn)(FI_FP8_PARAMS);
typedef void (*CfgFn)(int*);
struct Variant {
    std::string name;
    int M;
    bool wg;
    GemmFn g1, g2;
    CfgFn c1;
    int cfg[6];
};
static std::vector<Variant> g_variants;
static void init_variants() {
    auto add = [](const char* n, int M, bool wg, GemmFn a, GemmFn b, CfgFn c) {
        Variant v{n, M, wg, a, b, c, {0, 0, 0, 0, 0, 0}};
        int* dc;
        CK(cudaMalloc(&dc, 24));
        c<<<1, 1>>>(dc);
        CK(cudaMemcpy(v.cfg, dc, 24, cudaMemcpyDeviceToHost));
        cudaFree(dc);
        if (v.cfg[0] > 48 * 1024) {
            CK(cudaFuncSetAttribute(a, cudaFuncAttributeMaxDynamicSharedMemorySize, v.cfg[0]));
            CK(cudaFuncSetAttribute(b, cudaFuncAttributeMaxDynamicSharedMemorySize, v.cfg[0]));
        }
        g_variants.push_back(v);
    };
    add("mma8", 8, false, fi_fp8_gemm1_m8, fi_fp8_gemm2_m8, fi_fp8_gemm1_m8_config);
    add("mma16", 16, false, fi_fp8_gemm1_m16, fi_fp8_gemm2_m16, fi_fp8_gemm1_m16_config);
    add("mma32", 32, false, fi_fp8_gemm1_m32, fi_fp8_gemm2_m32, fi_fp8_gemm1_m32_config);
    add("mma64", 64, false, fi_fp8_gemm1_m64, fi_fp8_gemm2_m64, fi_fp8_gemm1_m64_config);
    add("wg128", 128, true, fi_fp8w_gemm1_m128, fi_fp8w_gemm2_m128, fi_fp8w_gemm1_m128_config);
    add("mma8s2", 8, false, h_g1_m8_s2, h_g2_m8_s2, h_g1_m8_s2_config);
    add("mma8w8", 8, false, h_g1_m8_w8, h_g2_m8_w8, h_g1_m8_w8_config);
    add("mma8b3", 8, false, h_g1_m8_b3, h_g2_m8_b3, h_g1_m8_b3_config);
    add("mma16s2", 16, false, h_g1_m16_s2, h_g2_m16_s2, h_g1_m16_s2_config);
    add("wg128d2", 128, true, h_fw1_d2, h_fw2_d2, h_fw1_d2_config);
    add("wg128d4", 128, true, h_fw1_d4, h_fw2_d4, h_fw1_d4_config);
    add("wg128d5", 128, true, h_fw1_d5, h_fw2_d5, h_fw1_d5_config);
}
static const Variant& variant(const std::string& n) {
    for (auto& v : g_variants)
        if (v.name == n) return v;
    fprintf(stderr, "no variant %s\n", n.c_str());
    exit(2);
}
// the mma family's M for a number of rows per expert (decode 8, then 16, 32, 64)
static std::string mma_for(long rows, int El) {
    double a = (double)rows / El;
    if (a <= 6) return "mma8";
    if (a <= 14) return "mma16";
    if (a <= 28) return "mma32";
    return "mma64";
}

struct Scratch {
    int *topk_ids, *sorted, *tile_e, *ntiles;
    float *topk_w, *acc;
    float* inter;  // F32 intermediate (the FP8 family's GEMM1 output)
    uint8_t *qh, *sh, *qi, *si;
    long rows_cap;  // sorted rows capacity
};
static void alloc_scratch(const DevLayer& d, long T, Scratch& s) {
    long rows_in = T * d.sp.k;
    long rows = 0, tiles = 0;
    for (int M : {8, 16, 32, 64, 128}) {
        rows = std::max(rows, max_tiles(rows_in, d.sp.El, M) * M);
        tiles = std::max(tiles, max_tiles(rows_in, d.sp.El, M));
    }
    s.rows_cap = rows;
    CK(cudaMalloc(&s.topk_ids, std::max<long>(1, rows_in) * 4));
    CK(cudaMalloc(&s.topk_w, std::max<long>(1, rows_in) * 4));
    CK(cudaMalloc(&s.sorted, rows * 4));
    CK(cudaMalloc(&s.tile_e, tiles * 4));
    CK(cudaMalloc(&s.ntiles, 4));
    CK(cudaMalloc(&s.acc, T * d.Hp * 4));
    CK(cudaMalloc(&s.inter, (size_t)rows * d.Ip * 4));
    CK(cudaMalloc(&s.qh, (size_t)T * d.Hp));
    CK(cudaMalloc(&s.sh, (size_t)T * d.Hp / 32));
    CK(cudaMalloc(&s.qi, (size_t)rows * d.Ip));
    CK(cudaMalloc(&s.si, (size_t)rows * d.Ip / 32));
}
static void free_scratch(Scratch& s) {
    cudaFree(s.topk_ids); cudaFree(s.topk_w); cudaFree(s.sorted); cudaFree(s.tile_e); cudaFree(s.ntiles);
    cudaFree(s.acc); cudaFree(s.inter); cudaFree(s.qh); cudaFree(s.sh); cudaFree(s.qi); cudaFree(s.si);
}
static void poison_scratch(const DevLayer& d, long T, const Scratch& s) {
    CK(cudaMemset(s.inter, 0xFF, (size_t)s.rows_cap * d.Ip * 4));
    CK(cudaMemset(s.qh, 0x7F, (size_t)T * d.Hp));
    CK(cudaMemset(s.sh, 0xFF, (size_t)T * d.Hp / 32));
    CK(cudaMemset(s.qi, 0x7F, (size_t)s.rows_cap * d.Ip));
    CK(cudaMemset(s.si, 0xFF, (size_t)s.rows_cap * d.Ip / 32));
    CK(cudaMemset(s.acc, 0xFF, (size_t)T * d.Hp * 4));
}

struct Call {
    const uint16_t* hidden;  // bf16 [T][H]
    const float* logits;     // [T][E] or null
    const int* ids;          // [T][k] or null (with w)
    const float* w;
    int T;
    float* out;  // f32 [T][Hp]
    const float *lora1, *lora2;
};

static int g_stop_after = 0;
static cudaEvent_t* g_stage_ev = nullptr;
static void mark(int i, cudaStream_t st) {
    if (g_stage_ev) CK(cudaEventRecord(g_stage_ev[i], st));
}
static int gemm2_splits(const DevLayer& d, const Variant& v, long rows) {
    if (v.wg) return 1;
    int G = (d.Ip + 127) / 128;
    long est_tiles = std::min<long>(d.sp.El, rows);
    if (v.M == 64) {
        long ctas = est_tiles * ((d.Hp + v.cfg[3] - 1) / v.cfg[3]);
        return (int)std::max<long>(1, std::min<long>(G / 4, (2L * d.sms) / std::max(1L, ctas)));
    }
    long ctas = est_tiles * (d.Hp / v.cfg[3]);
    int max_s = std::max(1, G / (2 * (v.cfg[1] / 32)));  // at least 2 groups per warp
    return (int)std::max<long>(1, std::min<long>(max_s, (4L * d.sms) / std::max(1L, ctas)));
}
static void forward(const DevLayer& d, const Scratch& s, const Call& c, const Variant& v, cudaStream_t st) {
    const Spec& sp = d.sp;
    mark(0, st);
    long rows = (long)c.T * sp.k;
    int M = v.M;
    long tiles = max_tiles(rows, sp.El, M);
    if (c.T <= 32) {
        fi_route_align<<<1, 1024, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k, s.topk_ids, s.topk_w, s.acc,
                                           d.Hp, sp.El, sp.e0, M, s.sorted, s.tile_e, s.ntiles);
    } else {
        fi_route<<<(c.T + 3) / 4, 128, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k, s.topk_ids, s.topk_w,
                                                 s.acc, d.Hp);
        fi_align<<<1, 1024, 0, st>>>(s.topk_ids, (int)rows, nullptr, 0, sp.El, sp.e0, M, s.sorted, s.tile_e, s.ntiles);
    }
    mark(1, st);
    if (g_stop_after == 1) return;
    (v.wg ? fi_quant_mxfp8f : fi_quant_mxfp8)<<<c.T, 128, 0, st>>>(c.hidden, 1, sp.H, nullptr, 1, c.T, sp.H, d.Hp,
                                                                   s.qh, s.sh);
    mark(2, st);
    int N1p = 2 * d.Ip;
    dim3 g1 = v.wg ? dim3(d.sms * v.cfg[4]) : dim3((N1p + v.cfg[3] - 1) / v.cfg[3], (unsigned)tiles);
    v.g1<<<g1, v.cfg[1], v.cfg[0], st>>>(s.qh, s.sh, d.Hp, sp.k, 0, sp.H, s.sorted, s.tile_e, s.ntiles, d.q13,
                                         (const uint8_t*)d.s13, d.b13, 2 * sp.I, N1p, d.Hp, 1, s.inter, d.Ip, nullptr,
                                         sp.act, 1.702f, 7.0f, c.lora1);
    mark(3, st);
    if (g_stop_after == 3) return;
    (v.wg ? fi_quant_mxfp8f : fi_quant_mxfp8)<<<(unsigned)(tiles * M), 128, 0, st>>>(
        s.inter, 0, d.Ip, s.ntiles, M, (int)(tiles * M), sp.I, d.Ip, s.qi, s.si);
    mark(4, st);
    int splits = gemm2_splits(d, v, rows);
    dim3 g2 = v.wg ? dim3(d.sms * v.cfg[4]) : dim3(((d.Hp + v.cfg[3] - 1) / v.cfg[3]) * splits, (unsigned)tiles);
    v.g2<<<g2, v.cfg[1], v.cfg[0], st>>>(s.qi, s.si, d.Ip, sp.k, 1, sp.I, s.sorted, s.tile_e, s.ntiles, d.q2,
                                         (const uint8_t*)d.s2, d.b2, sp.H, d.Hp, d.Ip, splits, s.acc, d.Hp, s.topk_w,
                                         sp.act, 1.702f, 7.0f, c.lora2);
    mark(5, st);
    if (g_stop_after == 5) return;
    long n = (long)c.T * d.Hp;
    fi_finalize<<<(unsigned)((n / 4 + 255) / 256), 256, 0, st>>>(s.acc, c.out, 0, n);
    mark(6, st);
}

// a kernel that never finishes (a pipeline deadlock) must not eat the device call: poll, then die
static void sync_or_die(cudaStream_t st, const char* what, double seconds = 20.0) {
    cudaEvent_t ev;
    CK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    CK(cudaEventRecord(ev, st));
    auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        cudaError_t q = cudaEventQuery(ev);
        if (q == cudaSuccess) break;
        if (q != cudaErrorNotReady) {
            printf("CUDA error in %s: %s\n", what, cudaGetErrorString(q));
            fflush(stdout);
            _exit(4);
        }
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds) {
            printf("HANG in %s (no completion after %.0f s)\n", what, seconds);
            fflush(stdout);
            _exit(3);
        }
        usleep(200);
    }
    CK(cudaEventDestroy(ev));
}

// ------------------------------------------------------------------------------------------------
// correctness of the whole forward
// ------------------------------------------------------------------------------------------------
static double run_case(const Spec& sp, int T, bool use_logits, bool hot, bool lora, const std::string& vname,
                       uint64_t seed, int check_tokens, const Weights* wpre = nullptr, DevLayer* dpre = nullptr) {
    Weights wloc;
    DevLayer dloc;
    const Weights& w = wpre ? *wpre : wloc;
    DevLayer& d = dpre ? *dpre : dloc;
    if (!wpre) {
        make_weights(sp, seed, wloc, true, false);
        upload(sp, wloc, dloc);
    }
    const Variant& v = variant(vname);
    std::mt19937_64 g(seed ^ 0xABCDEF);
    const CaseInputs in = case_inputs(sp, T, T, hot, false, seed, g);
    const std::vector<uint16_t>& hid = in.hid;
    const std::vector<float>& wts = in.wts;
    const std::vector<int>& ids = in.ids;
    CaseDevice dev = upload_case(in);
    uint16_t* dh = dev.hidden;
    float *dl = dev.logits, *dw = dev.wts, *dout;
    int* di = dev.ids;
    CK(cudaMalloc(&dout, (size_t)T * d.Hp * 4));
    CK(cudaMemset(dout, 0xFF, (size_t)T * d.Hp * 4));  // NaN
    Scratch s;
    alloc_scratch(d, T, s);
    poison_scratch(d, T, s);
    long rows_in = (long)T * sp.k;
    long tiles = max_tiles(rows_in, sp.El, v.M);
    std::vector<float> l1, l2;
    float *dl1 = nullptr, *dl2 = nullptr;
    if (lora) {
        l1.resize((size_t)tiles * v.M * 2 * d.Ip);
        l2.resize((size_t)tiles * v.M * d.Hp);
        std::normal_distribution<float> ld(0.f, 0.02f);
        for (auto& x : l1) x = ld(g);
        for (auto& x : l2) x = ld(g);
        CK(cudaMalloc(&dl1, l1.size() * 4));
        CK(cudaMalloc(&dl2, l2.size() * 4));
        CK(cudaMemcpy(dl1, l1.data(), l1.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dl2, l2.data(), l2.size() * 4, cudaMemcpyHostToDevice));
    }
    Call c{dh, use_logits ? dl : nullptr, use_logits ? nullptr : di, dw, T, dout, dl1, dl2};
    forward(d, s, c, v, 0);
    CK(cudaGetLastError());
    sync_or_die(0, vname.c_str());
    std::vector<float> got((size_t)T * d.Hp);
    CK(cudaMemcpy(got.data(), dout, got.size() * 4, cudaMemcpyDeviceToHost));
    // row id -> sorted position (for the LoRA rows)
    std::map<int, long> pos_of;
    if (lora) {
        std::vector<int> sorted((size_t)tiles * v.M);
        CK(cudaMemcpy(sorted.data(), s.sorted, sorted.size() * 4, cudaMemcpyDeviceToHost));
        for (long p = 0; p < (long)sorted.size(); p++)
            if (sorted[p] >= 0) pos_of[sorted[p]] = p;
    }
    std::vector<long> check = check_rows(T, check_tokens, seed);
    long nonfinite = count_nonfinite(got, T, sp.H, d.Hp);
    std::vector<std::vector<double>> refq(check.size()), ref0(check.size());
#pragma omp parallel for schedule(dynamic)
    for (long ci = 0; ci < (long)check.size(); ci++) {
        long t = check[ci];
        std::vector<float> x(sp.H);
        for (int h = 0; h < sp.H; h++) x[h] = bf2f(hid[t * sp.H + h]);
        std::vector<double> rq(sp.H, 0.0), r0(sp.H, 0.0), y(sp.H);
        for (int j = 0; j < sp.k; j++) {
            int e = ids[t * sp.k + j] - sp.e0;
            if (e < 0 || e >= sp.El) continue;
            const float *a = nullptr, *b = nullptr;
            std::vector<float> la, lb;
            if (lora) {
                long p = pos_of.at((int)(t * sp.k + j));
                la.resize(2 * sp.I);
                for (int n = 0; n < 2 * sp.I; n++) la[n] = l1[(size_t)p * 2 * d.Ip + n];
                lb.assign(&l2[(size_t)p * d.Hp], &l2[(size_t)p * d.Hp] + sp.H);
                a = la.data();
                b = lb.data();
            }
            expert_ref(sp, w, e, x.data(), true, a, b, y.data());
            for (int h = 0; h < sp.H; h++) rq[h] += wts[t * sp.k + j] * y[h];
            expert_ref(sp, w, e, x.data(), false, a, b, y.data());
            for (int h = 0; h < sp.H; h++) r0[h] += wts[t * sp.k + j] * y[h];
        }
        refq[ci] = rq;
        ref0[ci] = r0;
    }
    double relq = rel_l2(got, check, refq, sp.H, d.Hp);
    double rel0 = rel_l2(got, check, ref0, sp.H, d.Hp);
    bool ok = nonfinite == 0 && relq <= 1e-2;
    if (!ok) failures++;
    printf("%-4s %-6s E=%-3d El=%-3d e0=%-3d k=%d H=%-5d I=%-5d act=%d bias=%d T=%-5d %s hot=%d lora=%d checked=%-3zu "
           "nonfinite=%ld relL2(qdq ref)=%.3e relL2(unquantized ref)=%.3e\n",
           ok ? "ok" : "FAIL", vname.c_str(), sp.E, sp.El, sp.e0, sp.k, sp.H, sp.I, sp.act, sp.bias, T,
           use_logits ? "logits" : "topk  ", hot, lora, check.size(), nonfinite, relq, rel0);
    fflush(stdout);
    dev.free();
    cudaFree(dout);
    if (dl1) { cudaFree(dl1); cudaFree(dl2); }
    free_scratch(s);
    if (!dpre) free_layer(dloc);
    return relq;
}

static std::vector<std::string> family(const std::string& fam) {
    if (fam == "wg") return {"wg128"};
    if (fam == "mma") return {"mma8", "mma16", "mma32", "mma64"};
    return {fam};  // one variant by name
}
static void small_tests(uint64_t seed, const std::string& fam) {
    printf("seed %llu family %s\n", (unsigned long long)seed, fam.c_str());
    std::mt19937_64 g(seed);
    int Ts[] = {1, 7, 64, 300};
    std::vector<std::string> vs = family(fam);
    for (int i = 0; i < 24; i++) {
        Spec sp = random_spec(g);
        int T = Ts[g() % 4];
        run_case(sp, T, (g() & 1) != 0, (g() % 3) == 0, (i % 7) == 3, vs[i % vs.size()], seed + i, 64);
    }
    // odd shapes: H, I multiples of 64 (not 128), E=8 top-2, T = 7 and 300, hot expert
    for (const auto& vn : vs) {
        Spec sp{8, 2, 320, 192, 0, true, 8, 0};
        run_case(sp, 7, true, false, false, vn, seed + 40, 64);
        run_case(sp, 300, true, true, true, vn, seed + 41, 64);
    }
    // wide weight scales (spread 20 inside rows: the wgmma fold's per-row fallback and its rounding)
    g_scale_lo = 115; g_scale_span = 20;
    for (const auto& vn : vs) {
        Spec sp{8, 2, 256, 320, 1, true, 8, 0};
        run_case(sp, 64, false, false, false, vn, seed + 50, 64);
    }
    g_scale_lo = 121; g_scale_span = 4;
}
static const Spec kOss{128, 4, 2880, 2880, 0, true, 128, 0};  // gpt-oss-120b layer
static void big_tests(uint64_t seed, const std::string& fam, const Weights& w, DevLayer& d) {
    for (int T : {1, 7, 64, 300, 4096}) {
        std::string vn = fam == "mma" ? mma_for((long)T * 4, 128) : family(fam)[0];
        run_case(kOss, T, true, false, false, vn, seed + 200 + T, 16, &w, &d);
    }
    run_case(kOss, 300, true, true, false, fam == "mma" ? mma_for(1200, 128) : family(fam)[0], seed + 301, 16, &w, &d);
    run_case(kOss, 4096, true, true, false, fam == "mma" ? "mma64" : family(fam)[0], seed + 302, 16, &w, &d);
}

// ------------------------------------------------------------------------------------------------
// benchmark
// ------------------------------------------------------------------------------------------------
static std::vector<std::string> split_list(const char* e, std::vector<std::string> def) {
    if (!e) return def;
    std::vector<std::string> v;
    std::string s(e);
    size_t p = 0;
    while (p <= s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        if (q > p) v.push_back(s.substr(p, q - p));
        p = q + 1;
    }
    return v;
}

static void bench(uint64_t seed, DevLayer& d) {
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cudaEvent_t ev[8];
    for (auto& e : ev) CK(cudaEventCreate(&e));
    double bw = copy_bandwidth(st, ev[0], ev[1], 12);
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    printf("device %s, %d SMs; copy bandwidth %.0f GB/s (D2D 2 GiB, read+write)\n", p.name, p.multiProcessorCount, bw / 1e9);

    const Spec& sp = kOss;
    int Tmax = 4096;
    Scratch s;
    alloc_scratch(d, Tmax, s);
    size_t expert_bytes = (size_t)2 * sp.I * sp.H / 2 + (size_t)2 * sp.I * sp.H / 32 + (size_t)sp.H * sp.I / 2 +
                          (size_t)sp.H * sp.I / 32 + (size_t)(2 * sp.I + sp.H) * 4;
    std::vector<std::string> Tl = split_list(getenv("BENCH_T"), {"1", "8", "32", "256", "1024", "4096"});
    printf("%6s %-6s %7s %10s %10s %10s %8s %8s  stages: route quant1 gemm1 quant2 gemm2 final (us, stream)\n", "T",
           "var", "experts", "graph_us", "bytes_us", "flops", "x_floor", "TFLOP/s");
    for (const auto& Ts : Tl) {
        int T = atoi(Ts.c_str());
        const int rot = 4;
        BenchInputs in = bench_inputs(sp, T, seed, rot);
        const std::vector<uint16_t*>& dh = in.hidden;
        const std::vector<float*>& dl = in.logits;
        const std::set<int>& touched = in.touched;
        float* dout;
        CK(cudaMalloc(&dout, (size_t)T * d.Hp * 4));
        std::vector<std::string> vl;
        const std::string fam = getenv("BENCH_FAM") ? getenv("BENCH_FAM") : "all";
        if (getenv("BENCH_V")) {
            vl = split_list(getenv("BENCH_V"), {});
        } else if (T <= 32) {
            vl = {"mma8"};
        } else if (T <= 256) {
            vl = {"mma16"};
        } else {
            vl = {"mma32", "mma64"};
        }
        if (fam == "wg") vl = {"wg128"};
        else if (fam == "all" && !getenv("BENCH_V")) vl.push_back("wg128");
        for (const auto& vn : vl) {
            const Variant& v = variant(vn);
            // stage times (stream launches with events between the stages)
            std::vector<float> stg[6];
            g_stage_ev = ev;
            for (int i = 0; i < 12; i++) {
                Call c{dh[i % rot], dl[i % rot], nullptr, nullptr, T, dout, nullptr, nullptr};
                forward(d, s, c, v, st);
                sync_or_die(st, vn.c_str());
                for (int k = 0; k < 6 && i >= 2; k++) {
                    float ms;
                    CK(cudaEventElapsedTime(&ms, ev[k], ev[k + 1]));
                    stg[k].push_back(ms * 1000);
                }
            }
            g_stage_ev = nullptr;
            CK(cudaGetLastError());
            std::vector<cudaGraphExec_t> ge(rot);
            for (int r = 0; r < rot; r++) {
                cudaGraph_t gr;
                CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                Call c{dh[r], dl[r], nullptr, nullptr, T, dout, nullptr, nullptr};
                forward(d, s, c, v, st);
                CK(cudaStreamEndCapture(st, &gr));
                CK(cudaGraphInstantiate(&ge[r], gr, 0));
                cudaGraphDestroy(gr);
            }
            std::vector<float> tg;
            int reps = T >= 1024 ? 30 : 80;
            for (int i = 0; i < reps + 8; i++) {
                CK(cudaEventRecord(ev[0], st));
                CK(cudaGraphLaunch(ge[i % rot], st));
                CK(cudaEventRecord(ev[1], st));
                sync_or_die(st, vn.c_str());
                float ms;
                CK(cudaEventElapsedTime(&ms, ev[0], ev[1]));
                if (i >= 8) tg.push_back(ms * 1000);
            }
            for (auto x : ge) cudaGraphExecDestroy(x);
            CK(cudaGetLastError());
            double gmed = median(tg);
            double bytes = (double)touched.size() * expert_bytes + (double)T * sp.H * 2 * 2 + (double)T * sp.E * 4;
            double flops = 2.0 * T * sp.k * (2.0 * sp.I * sp.H + (double)sp.H * sp.I);
            double bus = bytes / bw * 1e6;
            printf("%6d %-6s %7zu %10.1f %10.1f %10.3g %8.2f %8.1f  %6.1f %6.1f %7.1f %6.1f %7.1f %6.1f\n", T,
                   vn.c_str(), touched.size(), gmed, bus, flops, gmed / bus, flops / (gmed * 1e-6) / 1e12,
                   median(stg[0]), median(stg[1]), median(stg[2]), median(stg[3]), median(stg[4]), median(stg[5]));
            fflush(stdout);
        }
        in.free();
        cudaFree(dout);
    }
    free_scratch(s);
}

// one forward per (T, variant) of the 120b shape, for a profiler: PROF_TV="4096:wg128,1:mma8"
static void prof(uint64_t seed) {
    Weights w;
    make_weights(kOss, seed, w, true, false);
    DevLayer d;
    upload(kOss, w, d);
    std::vector<std::string> tv = split_list(getenv("PROF_TV"), {"4096:wg128"});
    for (const auto& p : tv) {
        int T = atoi(p.substr(0, p.find(':')).c_str());
        const Variant& v = variant(p.substr(p.find(':') + 1));
        Scratch s;
        alloc_scratch(d, T, s);
        std::mt19937_64 g(seed + T);
        std::normal_distribution<float> nd(0.f, 1.f);
        std::vector<uint16_t> hid((size_t)T * kOss.H);
        for (auto& x : hid) x = f2bf(nd(g));
        std::vector<float> lg((size_t)T * kOss.E);
        for (auto& x : lg) x = nd(g);
        uint16_t* dh;
        float *dl, *dout;
        CK(cudaMalloc(&dh, hid.size() * 2));
        CK(cudaMalloc(&dl, lg.size() * 4));
        CK(cudaMalloc(&dout, (size_t)T * d.Hp * 4));
        CK(cudaMemcpy(dh, hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dl, lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
        Call c{dh, dl, nullptr, nullptr, T, dout, nullptr, nullptr};
        forward(d, s, c, v, 0);
        sync_or_die(0, p.c_str());
        printf("prof %s done\n", p.c_str());
        cudaFree(dh); cudaFree(dl); cudaFree(dout);
        free_scratch(s);
    }
    free_layer(d);
}

// CPU only: how far the qdq reference moves when the intermediate is rounded to BF16 first
static void cpu_double_rounding(uint64_t seed) {
    std::mt19937_64 g(seed);
    for (int i = 0; i < 6; i++) {
        Spec sp{8, 2, 32 * (2 + (int)(g() % 10)), 32 * (2 + (int)(g() % 10)), (int)(g() % 3), true, 8, 0};
        if (i == 5) sp = Spec{8, 2, 2880, 2880, 0, true, 8, 0};
        Weights w;
        make_weights(sp, seed + i, w, true, false);
        std::normal_distribution<float> nd(0.f, 1.f);
        double num = 0, den = 0;
        for (int t = 0; t < 8; t++) {
            std::vector<float> x(sp.H);
            for (auto& v : x) v = bf2f(f2bf(nd(g)));
            std::vector<double> a(sp.H), b(sp.H);
            g_ref_bf16_mid = false;
            expert_ref(sp, w, t % 8, x.data(), true, nullptr, nullptr, a.data());
            g_ref_bf16_mid = true;
            expert_ref(sp, w, t % 8, x.data(), true, nullptr, nullptr, b.data());
            for (int h = 0; h < sp.H; h++) { num += (a[h] - b[h]) * (a[h] - b[h]); den += a[h] * a[h]; }
        }
        g_ref_bf16_mid = false;
        printf("H=%d I=%d act=%d: qdq reference vs qdq(bf16 intermediate) reference: relL2 %.3e\n", sp.H, sp.I, sp.act,
               std::sqrt(num / den));
    }
}

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (argc > 1 && std::string(argv[1]) == "cpuref") {
        cpu_double_rounding(7);
        return 0;
    }
    init_variants();
    uint64_t seed = std::random_device{}();
    if (getenv("SEED")) seed = strtoull(getenv("SEED"), nullptr, 10);
    std::string mode = argc > 1 ? argv[1] : "small";
    if (mode == "quant") {
        quant_tests(seed);
    } else if (mode == "small") {  // small <fam>...
        for (int i = 2; i < argc; i++) small_tests(seed, argv[i]);
    } else if (mode == "big") {  // big [test fams] [bench]: the gpt-oss-120b layer, built once
        Weights w;
        DevLayer d;
        make_weights(kOss, seed + 100, w, true, false);
        upload(kOss, w, d);
        printf("gpt-oss-120b weights: lossy tile-groups %d, lossy row-groups %d\n", d.lossy[0], d.lossy[1]);
        bool do_bench = false;
        for (int i = 2; i < argc; i++) {
            if (std::string(argv[i]) == "bench") do_bench = true;
            else big_tests(seed, argv[i], w, d);
        }
        printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
        if (do_bench) bench(seed, d);
        free_layer(d);
        return failures ? 1 : 0;
    } else if (mode == "prof") {
        prof(seed);
        return 0;
    } else {
        return 2;
    }
    printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
