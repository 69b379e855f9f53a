// Host-side pieces shared by the stand-alone C++ kernel harnesses of the CUDA backends
// (backend-marlin/src/test/cuda/harness.cu, backend-flashinfer/src/test/cuda/{bf16,fp8}_harness.cu):
// BF16 conversions, the random canonical MXFP4 layer, the float64 references (routing, activations,
// one expert), the row sampling and relative-L2 check, and the roofline measurements (copy bandwidth,
// cuBLAS BF16 rate) and benchmark inputs. A harness includes its kernel image first, then this header;
// its build puts this folder on nvcc's include path (-I.../cuda-moe/src/test/cuda).
#pragma once
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#define CK(x)                                                                                 \
    do {                                                                                      \
        cudaError_t e_ = (x);                                                                 \
        if (e_ != cudaSuccess) {                                                              \
            fprintf(stderr, "%s:%d %s -> %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static float bf2f(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint16_t f2bf(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu)) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
static const double E2M1[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};

static int pad64(int x) { return (x + 63) / 64 * 64; }
// tiles the alignment can produce for `rows` rows over El experts with an M-row tile (the grid bound)
static long max_tiles(long rows, int El, int M) { return std::min<long>(El, rows) + (rows + M - 1) / M; }

static double median(std::vector<float> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// ------------------------------------------------------------------------------------------------
// the layer: shape and canonical weights (MXFP4 blocks + E8M0 scales, rows gate/up interleaved)
// ------------------------------------------------------------------------------------------------
struct Spec {
    int E, k, H, I;
    int act;  // 0 swiglu-oai 1 silu 2 gelu
    bool bias;
    int El, e0;  // local experts
};

struct Weights {  // canonical host copies
    std::vector<uint8_t> w13, s13, w2, s2;
    std::vector<float> b13, b2;  // bf16-rounded values unless make_weights was told otherwise
};

static int g_scale_lo = 121, g_scale_span = 4;  // scale codes drawn from [lo, lo + span): default 2^-6 .. 2^-3
static uint64_t splitmix(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Random weights of the El local experts. thread_salt: each OpenMP thread starts its stream from the seed
// plus its number (marlin, fp8) or from the seed alone (bf16); bf16_bias: biases rounded to BF16 values
// (marlin, bf16) or not (fp8). Both keep the draws each harness made before this code was shared.
static void make_weights(const Spec& sp, uint64_t seed, Weights& w, bool thread_salt = true, bool bf16_bias = true) {
    size_t E = sp.El, H = sp.H, I = sp.I;
    w.w13.resize(E * 2 * I * H / 2);
    w.s13.resize(E * 2 * I * H / 32);
    w.w2.resize(E * H * I / 2);
    w.s2.resize(E * H * I / 32);
    auto fill = [&](std::vector<uint8_t>& v, uint64_t sd, int lo, int span) {
#pragma omp parallel
        {
            uint64_t s = thread_salt ? sd + 7919ull * omp_get_thread_num() : sd;
#pragma omp for schedule(static)
            for (long i = 0; i < (long)v.size(); i++) {
                if ((i & 7) == 0) s = sd ^ (uint64_t)i * 0x9E3779B97F4A7C15ull;
                uint64_t r = splitmix(s);
                v[i] = span ? (uint8_t)(lo + r % span) : (uint8_t)r;
            }
        }
    };
    fill(w.w13, seed * 3 + 1, 0, 0);
    fill(w.w2, seed * 3 + 2, 0, 0);
    fill(w.s13, seed * 3 + 3, g_scale_lo, g_scale_span);
    fill(w.s2, seed * 3 + 4, g_scale_lo, g_scale_span);
    std::mt19937_64 g(seed);
    std::normal_distribution<float> nd(0.f, 0.05f);
    if (sp.bias) {
        w.b13.resize(E * 2 * I);
        w.b2.resize(E * H);
        for (auto& x : w.b13) x = bf16_bias ? bf2f(f2bf(nd(g))) : nd(g);
        for (auto& x : w.b2) x = bf16_bias ? bf2f(f2bf(nd(g))) : nd(g);
    }
}

// the biases as the kernels read them: F32 [El][2*Ip] and [El][Hp] on the device, zero in the padding;
// null without bias
static void upload_bias(const Spec& sp, const Weights& w, int Hp, int Ip, float** b13_dev, float** b2_dev) {
    *b13_dev = *b2_dev = nullptr;
    if (!sp.bias) return;
    int N1 = 2 * sp.I, N1p = 2 * Ip;
    std::vector<float> b13((size_t)sp.El * N1p, 0.f), b2((size_t)sp.El * Hp, 0.f);
    for (int e = 0; e < sp.El; e++) {
        for (int n = 0; n < N1; n++) b13[(size_t)e * N1p + n] = w.b13[(size_t)e * N1 + n];
        for (int n = 0; n < sp.H; n++) b2[(size_t)e * Hp + n] = w.b2[(size_t)e * sp.H + n];
    }
    CK(cudaMalloc(b13_dev, b13.size() * 4));
    CK(cudaMalloc(b2_dev, b2.size() * 4));
    CK(cudaMemcpy(*b13_dev, b13.data(), b13.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(*b2_dev, b2.data(), b2.size() * 4, cudaMemcpyHostToDevice));
}

// ------------------------------------------------------------------------------------------------
// float64 references
// ------------------------------------------------------------------------------------------------
static double act_ref(int act, double g, double u) {
    if (act == 0) {
        g = std::min(g, 7.0);
        u = std::max(-7.0, std::min(u, 7.0));
        return g / (1 + std::exp(-1.702 * g)) * (u + 1);
    } else if (act == 1) {
        return g / (1 + std::exp(-g)) * u;
    }
    double c = 0.7978845608028654 * (g + 0.044715 * g * g * g);
    return 0.5 * g * (1 + std::tanh(c)) * u;
}

// CPU top-k + softmax, same tie rule as the kernel
static void topk_ref(const float* lg, int E, int k, int* ids, float* w) {
    std::vector<int> idx(E);
    for (int i = 0; i < E; i++) idx[i] = i;
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int a, int b) { return lg[a] > lg[b] || (lg[a] == lg[b] && a < b); });
    double m = lg[idx[0]], s = 0;
    for (int j = 0; j < k; j++) s += std::exp((double)lg[idx[j]] - m);
    for (int j = 0; j < k; j++) {
        ids[j] = idx[j];
        w[j] = (float)(std::exp((double)lg[idx[j]] - m) / s);
    }
}

// one MXFP4 row (K/2 bytes, K/32 scales) times x (K values), float64
template <class X>
static double mxfp4_dot(const uint8_t* row, const uint8_t* sr, const X* x, size_t K) {
    double s = 0;
    for (size_t kb = 0; kb < K / 32; kb++) {
        double blk = 0;
        for (int q = 0; q < 16; q++) {
            uint8_t b = row[kb * 16 + q];
            blk += E2M1[b & 15] * x[kb * 32 + 2 * q] + E2M1[b >> 4] * x[kb * 32 + 2 * q + 1];
        }
        s += blk * std::ldexp(1.0, (int)sr[kb] - 127);
    }
    return s;
}

// What a harness adds to the plain expert: terms after each GEMM's bias (LoRA) and a transform of the
// activated intermediate before GEMM2 (quantize-dequantize, rounding). Empty: the plain expert.
struct ExpertRefHooks {
    std::function<double(size_t n)> gemm1_add;  // added to row n of GEMM1 (2I rows, gate/up interleaved)
    std::function<void(std::vector<double>& inter)> mid;
    std::function<double(size_t n)> gemm2_add;  // added to output n of GEMM2
};

// expert e (local index) applied to x (length H) -> y (length H), float64
template <class X>
static void expert_ref_mxfp4(const Spec& sp, const Weights& w, int e, const X* x, double* y,
                             const ExpertRefHooks& hooks = {}) {
    size_t H = sp.H, I = sp.I;
    std::vector<double> inter(I);
    for (size_t i = 0; i < I; i++) {
        double gu[2];
        for (int h = 0; h < 2; h++) {
            size_t n = 2 * i + h;
            const size_t row = (size_t)e * 2 * I + n;
            double s = mxfp4_dot(&w.w13[row * H / 2], &w.s13[row * H / 32], x, H);
            if (sp.bias) s += w.b13[(size_t)e * 2 * I + n];
            if (hooks.gemm1_add) s += hooks.gemm1_add(n);
            gu[h] = s;
        }
        inter[i] = act_ref(sp.act, gu[0], gu[1]);
    }
    if (hooks.mid) hooks.mid(inter);
    for (size_t n = 0; n < H; n++) {
        const size_t row = (size_t)e * H + n;
        double s = mxfp4_dot(&w.w2[row * I / 2], &w.s2[row * I / 32], inter.data(), I);
        if (sp.bias) s += w.b2[(size_t)e * H + n];
        if (hooks.gemm2_add) s += hooks.gemm2_add(n);
        y[n] = s;
    }
}

// A random small layer: E of 4..64, k <= 4, H = 32 * (h_min .. h_min + 11), I = 32 * (1 .. 12), any
// activation, bias in 3 of 4, in 1 of 3 expert parallelism (half the experts local). The draw order is
// fixed: a harness's seed gives the cases it always gave.
static Spec random_spec(std::mt19937_64& g, int h_min = 1) {
    Spec sp;
    int Es[] = {4, 8, 16, 32, 64};
    sp.E = Es[g() % 5];
    sp.k = 1 + (int)(g() % std::min(4, sp.E));
    sp.H = 32 * (h_min + (int)(g() % 12));
    sp.I = 32 * (1 + (int)(g() % 12));
    sp.act = (int)(g() % 3);
    sp.bias = (g() % 4) != 0;
    int ep = (g() % 3 == 0) ? 2 : 1;
    sp.El = sp.E / ep;
    sp.e0 = ep == 2 ? (int)(g() % 2) * sp.El : 0;
    return sp;
}

// ------------------------------------------------------------------------------------------------
// checks: the inputs of a case, the rows to compare, the relative L2 error
// ------------------------------------------------------------------------------------------------
// The host inputs of one correctness case, drawn from g (the caller may go on drawing from it): rows_in
// BF16 hidden rows; [T, E] logits, N(0, 2^2), with their reference top-k: the last quarter of the local
// experts is never picked and, with `hot`, most tokens pick one expert; the batched format's rows per
// local expert (at most T; with `hot` the first expert full; the second empty).
struct CaseInputs {
    std::vector<uint16_t> hid;
    std::vector<float> logits;
    std::vector<int> ids, counts;
    std::vector<float> wts;
};
static CaseInputs case_inputs(const Spec& sp, int T, long rows_in, bool hot, bool batched, uint64_t seed,
                              std::mt19937_64& g) {
    CaseInputs in;
    std::normal_distribution<float> nd(0.f, 1.f);
    in.hid.resize(rows_in * sp.H);
    for (auto& x : in.hid) x = f2bf(nd(g));
    in.logits.resize((size_t)T * sp.E);
    in.ids.resize((size_t)T * sp.k);
    in.wts.resize((size_t)T * sp.k);
    in.counts.resize(sp.El);
    int hot_e = sp.e0 + (int)(g() % sp.El);
    for (int t = 0; t < T; t++) {
        float* lg = &in.logits[(size_t)t * sp.E];
        for (int e = 0; e < sp.E; e++) lg[e] = nd(g) * 2;
        if (hot && (g() % 10) < 8) lg[hot_e] += 50;  // most tokens pick hot_e
        // some experts never chosen: push the last quarter of the local range down
        for (int e = sp.e0 + sp.El * 3 / 4; e < sp.e0 + sp.El && sp.El >= 4; e++) lg[e] -= 100;
        topk_ref(lg, sp.E, sp.k, &in.ids[(size_t)t * sp.k], &in.wts[(size_t)t * sp.k]);
    }
    for (int e = 0; e < sp.El; e++) in.counts[e] = (e * 7 + (int)(seed % 5)) % (T + 1);
    if (hot && batched) in.counts[0] = T;
    if (batched && sp.El > 2) in.counts[1] = 0;
    return in;
}

static int failures = 0;

// a case's inputs on the device
struct CaseDevice {
    uint16_t* hidden;
    float *logits, *wts;
    int *ids, *counts;
    void free() {
        cudaFree(hidden); cudaFree(logits); cudaFree(ids); cudaFree(wts); cudaFree(counts);
    }
};
static CaseDevice upload_case(const CaseInputs& in) {
    CaseDevice d;
    CK(cudaMalloc(&d.hidden, in.hid.size() * 2));
    CK(cudaMalloc(&d.logits, std::max<size_t>(1, in.logits.size()) * 4));
    CK(cudaMalloc(&d.ids, std::max<size_t>(1, in.ids.size()) * 4));
    CK(cudaMalloc(&d.wts, std::max<size_t>(1, in.wts.size()) * 4));
    CK(cudaMalloc(&d.counts, std::max<size_t>(1, in.counts.size()) * 4));
    CK(cudaMemcpy(d.hidden, in.hid.data(), in.hid.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.logits, in.logits.data(), in.logits.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.ids, in.ids.data(), in.ids.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.wts, in.wts.data(), in.wts.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d.counts, in.counts.data(), in.counts.size() * 4, cudaMemcpyHostToDevice));
    return d;
}

// the rows to compare with the reference: all of them, or check_tokens distinct ones drawn from seed
static std::vector<long> check_rows(long rows, int check_tokens, uint64_t seed) {
    std::vector<long> check;
    if (rows <= check_tokens) {
        for (long r = 0; r < rows; r++) check.push_back(r);
    } else {
        std::mt19937_64 pick(seed + 99);
        std::set<long> st;
        while ((long)st.size() < check_tokens) st.insert((long)(pick() % rows));
        check.assign(st.begin(), st.end());
    }
    return check;
}

// the device output [n] (BF16 or F32) as floats on the host
static std::vector<float> download_output(const void* dout, size_t n, bool out_bf16) {
    std::vector<float> got(n);
    if (out_bf16) {
        std::vector<uint16_t> gb(n);
        CK(cudaMemcpy(gb.data(), dout, n * 2, cudaMemcpyDeviceToHost));
        for (size_t i = 0; i < n; i++) got[i] = bf2f(gb[i]);
    } else {
        CK(cudaMemcpy(got.data(), dout, n * 4, cudaMemcpyDeviceToHost));
    }
    return got;
}

// non-finite values among the first H of each of `rows` rows of `stride` values
static long count_nonfinite(const std::vector<float>& got, long rows, int H, int stride) {
    long n = 0;
    for (long r = 0; r < rows; r++)
        for (int h = 0; h < H; h++)
            if (!std::isfinite(got[r * stride + h])) n++;
    return n;
}

// ||got - ref|| / ||ref|| over the checked rows (the absolute norm when the reference is zero)
static double rel_l2(const std::vector<float>& got, const std::vector<long>& check,
                     const std::vector<std::vector<double>>& refs, int H, int stride) {
    double num = 0, den = 0;
    for (size_t ci = 0; ci < check.size(); ci++)
        for (int h = 0; h < H; h++) {
            double a = got[check[ci] * stride + h], b = refs[ci][h];
            num += (a - b) * (a - b);
            den += b * b;
        }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// ------------------------------------------------------------------------------------------------
// timing: the roofline ceilings measured in the same run, and the benchmark's input sets
// ------------------------------------------------------------------------------------------------
// device-to-device copy bandwidth (bytes read + written per second) of a 2 GiB copy: median of reps - 2
static double copy_bandwidth(cudaStream_t st, cudaEvent_t e0, cudaEvent_t e1, int reps) {
    size_t cb = 2ull << 30;
    void *ca, *cbuf;
    CK(cudaMalloc(&ca, cb));
    CK(cudaMalloc(&cbuf, cb));
    CK(cudaMemset(ca, 1, cb));
    std::vector<float> ts;
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(e0, st));
        CK(cudaMemcpyAsync(cbuf, ca, cb, cudaMemcpyDeviceToDevice, st));
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (i >= 2) ts.push_back(ms);
    }
    cudaFree(ca);
    cudaFree(cbuf);
    return 2.0 * cb / (median(ts) * 1e-3);
}

// cuBLAS BF16 GEMM rate (FLOP/s) at 8192^3 on random data, median of reps - 3; cuBLAS through dlopen (the
// harnesses are built where no cuBLAS headers exist). 0 and `why` set when no libcublas opens.
static double cublas_bf16_rate(cudaStream_t st, cudaEvent_t e0, cudaEvent_t e1, int reps, std::string& why) {
    typedef int (*CreateFn)(void**);
    typedef int (*SetStreamFn)(void*, cudaStream_t);
    typedef int (*GemmExFn)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                            const void*, void*, int, int, int, int);
    const char* libs[] = {getenv("CUBLAS_LIB"), "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    void* lib = nullptr;
    for (const char* l : libs)
        if (l && (lib = dlopen(l, RTLD_NOW))) break;
    if (!lib) {
        const char* err = dlerror();
        why = err ? err : "no libcublas";
        return 0;
    }
    CreateFn cublasCreate = (CreateFn)dlsym(lib, "cublasCreate_v2");
    SetStreamFn cublasSetStream = (SetStreamFn)dlsym(lib, "cublasSetStream_v2");
    GemmExFn cublasGemmEx = (GemmExFn)dlsym(lib, "cublasGemmEx");
    void* hb;
    cublasCreate(&hb);
    cublasSetStream(hb, st);
    int n = 8192;
    uint16_t *ma, *mb, *mc;
    CK(cudaMalloc(&ma, (size_t)n * n * 2));
    CK(cudaMalloc(&mb, (size_t)n * n * 2));
    CK(cudaMalloc(&mc, (size_t)n * n * 2));
    {
        std::vector<uint16_t> h((size_t)n * n);
        std::mt19937 g(1);
        std::normal_distribution<float> nd;
        for (auto& x : h) x = f2bf(nd(g));
        CK(cudaMemcpy(ma, h.data(), h.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(mb, h.data(), h.size() * 2, cudaMemcpyHostToDevice));
    }
    float one = 1, zero = 0;
    std::vector<float> ts;
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(e0, st));
        int cs = cublasGemmEx(hb, 0, 0, n, n, n, &one, ma, 14 /*CUDA_R_16BF*/, n, mb, 14, n, &zero, mc, 14, n,
                              68 /*CUBLAS_COMPUTE_32F*/, -1 /*CUBLAS_GEMM_DEFAULT*/);
        if (cs != 0) { fprintf(stderr, "cublas %d\n", cs); exit(1); }
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (i >= 3) ts.push_back(ms);
    }
    cudaFree(ma); cudaFree(mb); cudaFree(mc);
    return 2.0 * n * n * (double)n / (median(ts) * 1e-3);
}

// `rot` device sets of T random BF16 hidden rows and F32 logits (rotated between replays so that no
// set stays in L2), and the experts the first set routes to
struct BenchInputs {
    std::vector<uint16_t*> hidden;
    std::vector<float*> logits;
    std::set<int> touched;
    void free() {
        for (auto* p : hidden) cudaFree(p);
        for (auto* p : logits) cudaFree(p);
    }
};
static BenchInputs bench_inputs(const Spec& sp, int T, uint64_t seed, int rot) {
    BenchInputs in;
    std::mt19937_64 g(seed + T);
    std::normal_distribution<float> nd(0.f, 1.f);
    in.hidden.resize(rot);
    in.logits.resize(rot);
    for (int r = 0; r < rot; r++) {
        std::vector<uint16_t> hid((size_t)T * sp.H);
        for (auto& x : hid) x = f2bf(nd(g));
        std::vector<float> lg((size_t)T * sp.E);
        for (auto& x : lg) x = nd(g);
        std::vector<int> id(sp.k);
        std::vector<float> ww(sp.k);
        if (r == 0)
            for (int t = 0; t < T; t++) {
                topk_ref(&lg[(size_t)t * sp.E], sp.E, sp.k, id.data(), ww.data());
                for (int j = 0; j < sp.k; j++) in.touched.insert(id[j]);
            }
        CK(cudaMalloc(&in.hidden[r], hid.size() * 2));
        CK(cudaMalloc(&in.logits[r], lg.size() * 4));
        CK(cudaMemcpy(in.hidden[r], hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(in.logits[r], lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
    }
    return in;
}
