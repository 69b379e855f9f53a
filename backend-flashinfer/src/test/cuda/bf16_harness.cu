// Stand-alone C++ harness for the flashinfer-bf16 kernels (fi_bf16.cuh): correctness of the whole
// forward (fi_route/fi_align from fi_common.cuh, fi_bf16_gemm1/2, fi_finalize) against a float64
// CPU reference, and timings (graph replays) with the copy bandwidth and cuBLAS BF16 rate measured
// in the same run. Launches exactly as ABI.md says (the _config kernels give threads and shared
// memory; the weights go canonical -> fi_repack_mxfp4 -> fi_bf16_repack).
// Build: build-bf16-harness.sh (nvcc -O3 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -fopenmp; includes
// cuda-moe/src/main/cuda and cuda-moe/src/test/cuda)
// Run:   ./bf16_harness test | bigcheck | bench [T list] | sass
// env: SEED, BENCH_M (comma list of M to time at every T; default: a sweep for T >= 256)
#include "flashinfer_moe.cu"
#include "moe_harness.h"  // cuda-moe/src/test/cuda: data, references, checks, ceilings

static float lora_val(int which, long t, int e, int n) {
    return 0.05f * std::sin(0.37f * (float)t + 1.1f * (float)e + 0.013f * (float)n + (which ? 0.5f : 0.f));
}
static bool g_lora = false;

// expert e (local index) applied to x (length H) -> y (length H), float64. t: token (for LoRA)
static void expert_ref(const Spec& sp, const Weights& w, int e, const float* x, double* y, long t) {
    ExpertRefHooks hooks;
    if (g_lora) {
        hooks.gemm1_add = [&](size_t n) { return (double)lora_val(0, t, e, (int)n); };
        hooks.gemm2_add = [&](size_t n) { return (double)lora_val(1, t, e, (int)n); };
    }
    expert_ref_mxfp4(sp, w, e, x, y, hooks);
}

// ------------------------------------------------------------------------------------------------
// device-side layer, as the Java side would hold it
// ------------------------------------------------------------------------------------------------
struct DevLayer {
    Spec sp;
    int Hp, Ip;
    uint8_t *q13, *sc13, *q2, *sc2;  // fi_bf16 layout
    float *b13, *b2;
    int sms;
};

// canonical -> padded (fi_repack_mxfp4) -> fi_bf16 layout (fi_bf16_repack)
static void prep_one(const std::vector<uint8_t>& wq, const std::vector<uint8_t>& ws, int El, int N_real, int K_real,
                     int N_pad, int K_pad, uint8_t** q_out, uint8_t** s_out) {
    uint8_t *cb, *cs, *pq, *ps;
    CK(cudaMalloc(&cb, wq.size()));
    CK(cudaMalloc(&cs, ws.size()));
    CK(cudaMemcpy(cb, wq.data(), wq.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(cs, ws.data(), ws.size(), cudaMemcpyHostToDevice));
    size_t qb = (size_t)El * N_pad * K_pad / 2, sb = (size_t)El * N_pad * K_pad / 32;
    CK(cudaMalloc(&pq, qb));
    CK(cudaMalloc(&ps, sb));
    long n = (long)std::max(qb, sb);
    fi_repack_mxfp4<<<(unsigned)((n + 255) / 256), 256>>>(cb, cs, El, N_real, K_real, N_pad, K_pad, pq, ps);
    CK(cudaGetLastError());
    CK(cudaMalloc(q_out, qb));
    CK(cudaMalloc(s_out, sb + (size_t)El * N_pad));  // ABI.md: El*N_pad*(K_pad/32 + 1)
    CK(cudaMemset(*s_out, 0xEE, sb + (size_t)El * N_pad));
    long threads = (long)El * N_pad * (K_pad / 8) + (long)El * N_pad;
    fi_bf16_repack<<<(unsigned)((threads + 255) / 256), 256>>>(pq, ps, El, N_pad, K_pad, (uint32_t*)*q_out, *s_out);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    cudaFree(cb); cudaFree(cs); cudaFree(pq); cudaFree(ps);
}

static void upload(const Spec& sp, const Weights& w, DevLayer& d) {
    d.sp = sp;
    d.Hp = pad64(sp.H);
    d.Ip = pad64(sp.I);
    prep_one(w.w13, w.s13, sp.El, 2 * sp.I, sp.H, 2 * d.Ip, d.Hp, &d.q13, &d.sc13);
    prep_one(w.w2, w.s2, sp.El, sp.H, sp.I, d.Hp, d.Ip, &d.q2, &d.sc2);
    upload_bias(sp, w, d.Hp, d.Ip, &d.b13, &d.b2);
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    d.sms = p.multiProcessorCount;
}
static void free_layer(DevLayer& d) {
    cudaFree(d.q13); cudaFree(d.sc13); cudaFree(d.q2); cudaFree(d.sc2);
    if (d.b13) { cudaFree(d.b13); cudaFree(d.b2); }
}

typedef void (*GemmFn)(const void*, const uint8_t*, int, int, int, int, const int*, const int*, const int*,
                       const uint8_t*, const uint8_t*, const float*, int, int, int, int, void*, int, const float*, int,
                       float, float, const float*);
typedef void (*CfgFn)(int*);
struct Variant {
    int M;
    GemmFn g1, g2;
    int smem, threads, bn, per_sm;
};
static const int ALL_M[] = {8, 32, 64, 128};
static Variant g_var[4];
static Variant& variant(int M) {
    for (int i = 0; i < 4; i++)
        if (g_var[i].M == M) return g_var[i];
    fprintf(stderr, "no M=%d variant\n", M);
    exit(2);
}
static void init_variants() {
    GemmFn g1s[4] = {fi_bf16_gemm1_m8, fi_bf16_gemm1_m32, fi_bf16_gemm1_m64, fi_bf16_gemm1_m128};
    GemmFn g2s[4] = {fi_bf16_gemm2_m8, fi_bf16_gemm2_m32, fi_bf16_gemm2_m64, fi_bf16_gemm2_m128};
    CfgFn c1[4] = {fi_bf16_gemm1_m8_config, fi_bf16_gemm1_m32_config, fi_bf16_gemm1_m64_config, fi_bf16_gemm1_m128_config};
    CfgFn c2[4] = {fi_bf16_gemm2_m8_config, fi_bf16_gemm2_m32_config, fi_bf16_gemm2_m64_config, fi_bf16_gemm2_m128_config};
    int* o;
    CK(cudaMalloc(&o, 12 * 4));
    for (int i = 0; i < 4; i++) {
        int h1[6], h2[6];
        c1[i]<<<1, 1>>>(o);
        c2[i]<<<1, 1>>>(o + 6);
        CK(cudaGetLastError());
        CK(cudaMemcpy(h1, o, 24, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(h2, o + 6, 24, cudaMemcpyDeviceToHost));
        if (memcmp(h1, h2, 24) != 0 || h1[2] != ALL_M[i] || h1[4] != 0 || h1[5] != 1) {
            fprintf(stderr, "config mismatch for M=%d\n", ALL_M[i]);
            exit(2);
        }
        Variant v{h1[2], g1s[i], g2s[i], h1[0], h1[1], h1[3], 0};
        CK(cudaFuncSetAttribute((const void*)v.g1, cudaFuncAttributeMaxDynamicSharedMemorySize, v.smem));
        CK(cudaFuncSetAttribute((const void*)v.g2, cudaFuncAttributeMaxDynamicSharedMemorySize, v.smem));
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v.per_sm, (const void*)v.g2, v.threads, v.smem));
        printf("variant M=%-3d threads=%d smem=%d BN=%d CTAs/SM=%d\n", v.M, v.threads, v.smem, v.bn, v.per_sm);
        g_var[i] = v;
    }
    cudaFree(o);
}

static int choose_m(long rows, int El) {
    double a = (double)rows / El;
    if (a <= 12) return 8;  // ABI.md / NOTES-bf16.md
    if (a <= 64) return 64;
    return 128;
}

struct Scratch {
    int *topk_ids, *sorted, *tile_e, *ntiles;
    float *topk_w, *acc;
    uint16_t* inter;
    size_t inter_elems;
    long max_pos;
};

static void alloc_scratch(const DevLayer& d, long max_rows_in, long acc_rows, Scratch& s) {
    long tiles = 0, rows = 0;
    for (int M : ALL_M) {
        tiles = std::max(tiles, max_tiles(max_rows_in, d.sp.El, M));
        rows = std::max(rows, max_tiles(max_rows_in, d.sp.El, M) * M);
    }
    CK(cudaMalloc(&s.topk_ids, std::max<long>(1, max_rows_in) * 4));
    CK(cudaMalloc(&s.topk_w, std::max<long>(1, max_rows_in) * 4));
    CK(cudaMalloc(&s.sorted, rows * 4));
    CK(cudaMalloc(&s.tile_e, tiles * 4));
    CK(cudaMalloc(&s.ntiles, 4));
    CK(cudaMalloc(&s.acc, acc_rows * d.Hp * 4));
    s.inter_elems = (size_t)rows * d.Ip;
    s.max_pos = rows;
    CK(cudaMalloc(&s.inter, s.inter_elems * 2));
}
static void free_scratch(Scratch& s) {
    cudaFree(s.topk_ids); cudaFree(s.topk_w); cudaFree(s.sorted); cudaFree(s.tile_e); cudaFree(s.ntiles);
    cudaFree(s.acc); cudaFree(s.inter);
}

struct Call {
    const uint16_t* hidden;  // bf16 [rows_in, H]
    const float* logits;     // [T, E] or null
    const int* ids;          // [T, k] or null
    const float* w;
    const int* batch_counts;  // batched format
    int T;                    // tokens (standard) or max tokens per expert (batched)
    void* out;
    int out_bf16;
    int force_m;  // 0 = choose
    const float *lora1, *lora2;
};

static int g_force_splits = getenv("SPLITS") ? atoi(getenv("SPLITS")) : 0;
static int gemm2_splits(const DevLayer& d, const Variant& v, long rows) {
    // GEMM2 split-K while the CTAs fit in about one wave: est. tiles x column tiles x splits <= SMs x CTAs/SM
    int nk2 = d.Ip / 64;
    long est = std::min<long>(d.sp.El, rows) * ((d.Hp / 64 + v.bn / 64 - 1) / (v.bn / 64));
    int splits = (int)std::max<long>(1, ((long)v.per_sm * d.sms) / std::max(1L, est));
    splits = std::min(splits, std::max(1, nk2 / 8));
    splits = std::min(splits, 8);
    if (g_force_splits) splits = g_force_splits;
    return splits;
}

static int g_stop_after = 0;  // 1: after route/align, 3: after gemm1, 4: after gemm2
static void forward(const DevLayer& d, const Scratch& s, const Call& c, cudaStream_t st, int phase = 0) {
    // phase 0 = all; 1 = route/align only; 2 = everything after route/align
    const Spec& sp = d.sp;
    bool batched = c.batch_counts != nullptr;
    long rows = batched ? (long)sp.El * c.T : (long)c.T * sp.k;
    long acc_rows = batched ? (long)sp.El * c.T : c.T;
    int M = c.force_m ? c.force_m : choose_m(rows, sp.El);
    const Variant& v = variant(M);
    long tiles = max_tiles(rows, sp.El, M);
    if (phase != 2) {
        if (!batched && c.T <= 32) {
            fi_route_align<<<1, 1024, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k, s.topk_ids, s.topk_w, s.acc,
                                               d.Hp, sp.El, sp.e0, M, s.sorted, s.tile_e, s.ntiles);
        } else {
            if (!batched) {
                int wpb = 4;
                fi_route<<<(c.T + wpb - 1) / wpb, 32 * wpb, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k,
                                                                      s.topk_ids, s.topk_w, s.acc, d.Hp);
            } else {
                long n = acc_rows * d.Hp;
                fi_zero<<<(unsigned)((n / 4 + 255) / 256), 256, 0, st>>>(s.acc, n);
            }
            fi_align<<<1, 1024, 0, st>>>(batched ? nullptr : s.topk_ids, (int)rows, c.batch_counts, c.T, sp.El,
                                         sp.e0, M, s.sorted, s.tile_e, s.ntiles);
        }
        if (phase == 1 || g_stop_after == 1) return;
    }
    int N1p = 2 * d.Ip;
    dim3 g1((N1p / 64 + v.bn / 64 - 1) / (v.bn / 64), (unsigned)tiles, 1);
    v.g1<<<g1, v.threads, v.smem, st>>>(c.hidden, nullptr, sp.H, batched ? 1 : sp.k, 0, sp.H, s.sorted, s.tile_e,
                                        s.ntiles, d.q13, d.sc13, d.b13, 2 * sp.I, N1p, d.Hp, 1, s.inter, d.Ip,
                                        nullptr, sp.act, 1.702f, 7.0f, c.lora1);
    if (g_stop_after == 3) return;
    int splits = gemm2_splits(d, v, rows);
    int ntn2 = (d.Hp / 64 + v.bn / 64 - 1) / (v.bn / 64);
    dim3 g2(ntn2 * splits, (unsigned)tiles, 1);
    v.g2<<<g2, v.threads, v.smem, st>>>(s.inter, nullptr, d.Ip, batched ? 1 : sp.k, 1, sp.I, s.sorted, s.tile_e,
                                        s.ntiles, d.q2, d.sc2, d.b2, sp.H, d.Hp, d.Ip, splits, s.acc, d.Hp,
                                        batched ? nullptr : s.topk_w, sp.act, 1.702f, 7.0f, c.lora2);
    if (g_stop_after == 4) return;
    long n = acc_rows * d.Hp;
    fi_finalize<<<(unsigned)((n / 4 + 255) / 256), 256, 0, st>>>(s.acc, c.out, c.out_bf16, n);
}

// ------------------------------------------------------------------------------------------------
// correctness
// ------------------------------------------------------------------------------------------------
static double run_case(const Spec& sp, int T, int mode /*0 logits 1 topk 2 batched*/, bool hot, bool out_bf16,
                       int force_m, uint64_t seed, int check_tokens, const Weights* wpre = nullptr,
                       DevLayer* dpre = nullptr, bool lora = false) {
    Weights wloc;
    DevLayer dloc;
    const Weights& w = wpre ? *wpre : wloc;
    DevLayer& d = dpre ? *dpre : dloc;
    if (!wpre) {
        make_weights(sp, seed, wloc, false);
        upload(sp, wloc, dloc);
    }
    std::mt19937_64 g(seed ^ 0xABCDEF);
    bool batched = mode == 2;
    int maxT = T;
    long rows_in = batched ? (long)sp.El * maxT : T;
    const CaseInputs in = case_inputs(sp, T, rows_in, hot, batched, seed, g);
    const std::vector<uint16_t>& hid = in.hid;
    const std::vector<float>& wts = in.wts;
    const std::vector<int>&ids = in.ids, &counts = in.counts;

    CaseDevice dev = upload_case(in);
    uint16_t* dh = dev.hidden;
    float *dl = dev.logits, *dw = dev.wts;
    int *di = dev.ids, *dc = dev.counts;
    void* dout;
    size_t out_elems = rows_in * pad64(sp.H);  // the output has Hp columns (fi_finalize over accum)
    CK(cudaMalloc(&dout, out_elems * 4));
    CK(cudaMemset(dout, 0xFF, out_elems * 4));  // NaN fill
    Scratch s;
    alloc_scratch(d, batched ? rows_in : (long)T * sp.k, rows_in, s);
    CK(cudaMemset(s.inter, 0xFF, s.inter_elems * 2));  // NaN: padding columns/rows must not matter
    int M = force_m ? force_m : choose_m(batched ? rows_in : (long)T * sp.k, sp.El);
    Call c{dh, mode == 0 ? dl : nullptr, mode == 1 ? di : nullptr, dw, batched ? dc : nullptr, T, dout,
           out_bf16 ? 1 : 0, M, nullptr, nullptr};
    float *dl1 = nullptr, *dl2 = nullptr;
    if (lora) {  // route + align, then LoRA-add inputs by sorted position, then the rest
        forward(d, s, c, 0, 1);
        CK(cudaDeviceSynchronize());
        int nt;
        CK(cudaMemcpy(&nt, s.ntiles, 4, cudaMemcpyDeviceToHost));
        std::vector<int> sorted((size_t)nt * M), te(nt);
        CK(cudaMemcpy(sorted.data(), s.sorted, sorted.size() * 4, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(te.data(), s.tile_e, te.size() * 4, cudaMemcpyDeviceToHost));
        int N1p = 2 * d.Ip;
        std::vector<float> l1((size_t)s.max_pos * N1p, NAN), l2((size_t)s.max_pos * d.Hp, NAN);
        for (long p = 0; p < (long)nt * M; p++) {
            int id = sorted[p];
            if (id < 0) continue;
            long t = batched ? id : id / sp.k;
            int e = te[p / M];
            for (int n = 0; n < N1p; n++) l1[p * N1p + n] = n < 2 * sp.I ? lora_val(0, t, e, n) : 0.f;
            for (int n = 0; n < d.Hp; n++) l2[p * d.Hp + n] = n < sp.H ? lora_val(1, t, e, n) : 0.f;
        }
        CK(cudaMalloc(&dl1, l1.size() * 4));
        CK(cudaMalloc(&dl2, l2.size() * 4));
        CK(cudaMemcpy(dl1, l1.data(), l1.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dl2, l2.data(), l2.size() * 4, cudaMemcpyHostToDevice));
        c.lora1 = dl1;
        c.lora2 = dl2;
        forward(d, s, c, 0, 2);
    } else {
        forward(d, s, c, 0);
    }
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    const int Hp = pad64(sp.H);
    std::vector<float> got = download_output(dout, out_elems, out_bf16);
    std::vector<long> check = check_rows(rows_in, check_tokens, seed);
    long nan_count = count_nonfinite(got, rows_in, sp.H, Hp);
    g_lora = lora;
    std::vector<std::vector<double>> refs(check.size());
#pragma omp parallel for schedule(dynamic)
    for (long ci = 0; ci < (long)check.size(); ci++) {
        long r = check[ci];
        std::vector<float> x(sp.H);
        for (int h = 0; h < sp.H; h++) x[h] = bf2f(hid[r * sp.H + h]);
        std::vector<double> ref(sp.H, 0.0), y(sp.H);
        if (batched) {
            int e = (int)(r / maxT), i = (int)(r % maxT);
            if (i < counts[e]) expert_ref(sp, w, e, x.data(), ref.data(), r);
        } else {
            for (int j = 0; j < sp.k; j++) {
                int e = ids[r * sp.k + j] - sp.e0;
                if (e < 0 || e >= sp.El) continue;
                expert_ref(sp, w, e, x.data(), y.data(), r);
                for (int h = 0; h < sp.H; h++) ref[h] += wts[r * sp.k + j] * y[h];
            }
        }
        refs[ci] = ref;
    }
    g_lora = false;
    double rel = rel_l2(got, check, refs, sp.H, Hp);
    bool ok = nan_count == 0 && rel <= 1e-2 && std::isfinite(rel);
    if (!ok) failures++;
    printf("%-4s E=%-3d El=%-3d e0=%-3d k=%d H=%-5d I=%-5d act=%d bias=%d T=%-5d mode=%-7s hot=%d out=%s M=%-3d "
           "lora=%d checked=%-4zu nonfinite=%ld relL2=%.3e\n",
           ok ? "ok" : "FAIL", sp.E, sp.El, sp.e0, sp.k, sp.H, sp.I, sp.act, sp.bias, T,
           mode == 0 ? "logits" : mode == 1 ? "topk" : "batched", hot, out_bf16 ? "bf16" : "f32", M, lora,
           check.size(), nan_count, rel);
    fflush(stdout);
    dev.free();
    cudaFree(dout);
    if (dl1) { cudaFree(dl1); cudaFree(dl2); }
    free_scratch(s);
    if (!dpre) free_layer(d);
    return rel;
}

static void tests(uint64_t seed) {
    printf("seed %llu\n", (unsigned long long)seed);
    std::mt19937_64 g(seed);
    // odd shapes the brief names: H, I multiples of 64 but not 128, E=8 top-2, T=7 and 300, every M
    int ci = 0;
    for (int M : ALL_M) {
        { Spec sp{8, 2, 320, 192, 0, true, 8, 0}; run_case(sp, 7, 0, false, true, M, seed + ci++, 64); }
        { Spec sp{8, 2, 320, 192, 0, true, 8, 0}; run_case(sp, 300, 1, true, false, M, seed + ci++, 64); }
    }
    // random specs: K not a multiple of 64 (H, I multiples of 32), all activations, EP ranges, modes
    int Ts[] = {1, 7, 64, 300};
    for (int i = 0; i < 20; i++) {
        Spec sp = random_spec(g, 2);
        int T = Ts[g() % 4];
        int mode = (int)(g() % 3);
        int fm = ALL_M[i % 4];
        run_case(sp, T, mode, (g() % 3) == 0, (g() & 1) != 0, fm, seed + 100 + i, 64);
    }
    // GEMM2 split-K (uneven K ranges; more splits than K blocks leaves some CTAs without work)
    g_force_splits = 2;
    { Spec sp{8, 2, 320, 192, 0, true, 8, 0}; run_case(sp, 64, 0, false, false, 32, seed + 150, 64); }
    g_force_splits = 4;
    { Spec sp{8, 2, 320, 192, 2, true, 8, 0}; run_case(sp, 300, 1, true, true, 128, seed + 151, 64); }
    g_force_splits = 0;
    // LoRA-add hook (GEMM1 pre-activation and GEMM2 output), standard and batched
    { Spec sp{16, 4, 256, 320, 0, true, 16, 0}; run_case(sp, 64, 1, false, false, 32, seed + 200, 64, nullptr, nullptr, true); }
    { Spec sp{16, 4, 256, 320, 1, true, 16, 0}; run_case(sp, 300, 0, true, false, 128, seed + 201, 64, nullptr, nullptr, true); }
    { Spec sp{8, 2, 192, 128, 0, false, 8, 0}; run_case(sp, 20, 2, false, true, 8, seed + 202, 64, nullptr, nullptr, true); }
    // scales above 2^1 (the per-row exponent bias X)
    g_scale_lo = 110; g_scale_span = 40;
    { Spec sp{8, 2, 128, 192, 0, true, 8, 0}; run_case(sp, 7, 0, false, false, 8, seed + 300, 64); }
    { Spec sp{8, 2, 128, 192, 1, true, 8, 0}; run_case(sp, 64, 1, true, false, 64, seed + 301, 64); }
    g_scale_lo = 121; g_scale_span = 4;
}

static void bigcheck(uint64_t seed) {  // gpt-oss-120b and -20b shapes, a subset of tokens checked
    {
        Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
        Weights w;
        DevLayer d;
        make_weights(sp, seed, w, false);
        upload(sp, w, d);
        for (int T : {1, 7, 64, 300, 4096}) run_case(sp, T, 0, T == 300, true, 0, seed + T, 12, &w, &d);
        run_case(sp, 4096, 0, true, true, 128, seed + 5, 12, &w, &d);
        run_case(sp, 1024, 0, false, true, 32, seed + 6, 8, &w, &d);
        free_layer(d);
    }
}

// ------------------------------------------------------------------------------------------------
// benchmark
// ------------------------------------------------------------------------------------------------
static void bench(uint64_t seed, std::vector<int> Ts) {
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    double bw = copy_bandwidth(st, e0, e1, 10);
    std::string no_cublas;
    double flops_rate = cublas_bf16_rate(st, e0, e1, 12, no_cublas);
    if (flops_rate == 0) {
        printf("no libcublas (%s): BF16 rate not measured, using 790 TFLOP/s\n", no_cublas.c_str());
        flops_rate = 790e12;
    }
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    printf("device %s, %d SMs; copy %.0f GB/s (D2D 2 GiB, read+write); cuBLAS bf16 %.0f TFLOP/s (8192^3)\n", p.name,
           p.multiProcessorCount, bw / 1e9, flops_rate / 1e12);

    Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
    Weights w;
    make_weights(sp, seed, w, false);
    DevLayer d;
    upload(sp, w, d);
    Weights().w13.swap(w.w13);
    Scratch s;
    alloc_scratch(d, 4096L * sp.k, 4096, s);
    size_t expert_bytes = (size_t)2 * sp.I * sp.H / 2 + (size_t)2 * sp.I * sp.H / 32 + (size_t)sp.H * sp.I / 2 +
                          (size_t)sp.H * sp.I / 32 + (size_t)(2 * sp.I + sp.H) * 4;
    std::vector<int> env_m;
    if (const char* e = getenv("BENCH_M"))
        for (const char* q = e; *q;) { env_m.push_back(atoi(q)); while (*q && *q != ',') q++; if (*q) q++; }
    printf("%6s %3s %4s %6s %9s %9s %9s %9s %9s %7s %7s %6s\n", "T", "hot", "M", "experts", "graph_us", "route_us",
           "gemm1_us", "gemm2_us", "floor_us", "x_floor", "TFLOP/s", "%bf16");
    const int rot = 4;
    for (int T : Ts)
        for (int hot = 0; hot < 2; hot++) {
            if (hot && T < 256) continue;
            std::mt19937_64 g(seed + T + 1000 * hot);
            std::normal_distribution<float> nd(0.f, 1.f);
            std::vector<uint16_t*> dh(rot);
            std::vector<float*> dl(rot);
            std::set<int> touched;
            for (int r = 0; r < rot; r++) {
                std::vector<uint16_t> hid((size_t)T * sp.H);
                for (auto& x : hid) x = f2bf(nd(g));
                std::vector<float> lg((size_t)T * sp.E);
                for (auto& x : lg) x = nd(g);
                if (hot)
                    for (int t = 0; t < T; t++)
                        if (g() % 10 < 5) lg[(size_t)t * sp.E + 3] += 50;  // half the tokens pick expert 3
                std::vector<int> id(sp.k);
                std::vector<float> ww(sp.k);
                if (r == 0)
                    for (int t = 0; t < T; t++) {
                        topk_ref(&lg[(size_t)t * sp.E], sp.E, sp.k, id.data(), ww.data());
                        for (int j = 0; j < sp.k; j++) touched.insert(id[j]);
                    }
                CK(cudaMalloc(&dh[r], hid.size() * 2));
                CK(cudaMalloc(&dl[r], lg.size() * 4));
                CK(cudaMemcpy(dh[r], hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dl[r], lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
            }
            void* dout;
            CK(cudaMalloc(&dout, (size_t)T * d.Hp * 2));
            std::vector<int> ms_list = env_m;
            if (ms_list.empty()) {
                if (T <= 32) ms_list = {8};
                else if (T <= 256) ms_list = {8, 32};
                else if (T <= 1024) ms_list = {32, 64, 128};
                else ms_list = {64, 128};
            }
            for (int M : ms_list) {
                // b2b graph replays of forward prefixes: route/align, +gemm1, +gemm2, full
                double pre[4];
                int stops[4] = {1, 3, 4, 0};
                for (int k = 0; k < 4; k++) {
                    g_stop_after = stops[k];
                    std::vector<cudaGraphExec_t> ge(rot);
                    for (int r = 0; r < rot; r++) {
                        cudaGraph_t gr;
                        CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                        Call c{dh[r], dl[r], nullptr, nullptr, nullptr, T, dout, 1, M, nullptr, nullptr};
                        forward(d, s, c, st);
                        CK(cudaStreamEndCapture(st, &gr));
                        CK(cudaGraphInstantiate(&ge[r], gr, 0));
                        cudaGraphDestroy(gr);
                    }
                    g_stop_after = 0;
                    for (int i = 0; i < 6; i++) CK(cudaGraphLaunch(ge[i % rot], st));
                    CK(cudaStreamSynchronize(st));
                    CK(cudaGetLastError());
                    int reps = T <= 32 ? 200 : (T <= 1024 ? 40 : 15);
                    std::vector<float> tg;
                    for (int rep = 0; rep < 5; rep++) {  // median of 5 batches of b2b replays
                        CK(cudaEventRecord(e0, st));
                        for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(ge[i % rot], st));
                        CK(cudaEventRecord(e1, st));
                        CK(cudaEventSynchronize(e1));
                        float ms;
                        CK(cudaEventElapsedTime(&ms, e0, e1));
                        tg.push_back(ms * 1000 / reps);
                    }
                    pre[k] = median(tg);
                    for (auto x : ge) cudaGraphExecDestroy(x);
                }
                double bytes = (double)touched.size() * expert_bytes + (double)T * sp.H * 2 * 2 + (double)T * sp.E * 4;
                double flops = 2.0 * T * sp.k * (2.0 * sp.I * sp.H + (double)sp.H * sp.I);
                double bus = bytes / bw * 1e6, fus = flops / flops_rate * 1e6;
                double floor_us = std::max(bus, fus);
                double best = pre[3];
                printf("%6d %3d %4d %6zu %9.1f %9.1f %9.1f %9.1f %9.1f %7.2f %7.1f %5.1f%%\n", T, hot, M,
                       touched.size(), best, pre[0], pre[1] - pre[0], pre[2] - pre[1], floor_us, best / floor_us,
                       flops / (best * 1e-6) / 1e12, 100.0 * flops / (best * 1e-6) / flops_rate);
                fflush(stdout);
            }
            for (int r = 0; r < rot; r++) { cudaFree(dh[r]); cudaFree(dl[r]); }
            cudaFree(dout);
        }
}


// ------------------------------------------------------------------------------------------------
// probe: GEMM1 alone for experimental configurations (not part of the image; see NOTES-bf16.md)
// ------------------------------------------------------------------------------------------------
struct Probe {
    const char* name;
    GemmFn fn;
    int M, smem, threads, bn;
};
#define FBX(NAME, ...)                                                                                  \
    typedef Fb16Cfg<__VA_ARGS__> NAME##_cfg;                                                           \
    extern "C" __global__ void __launch_bounds__(NAME##_cfg::THREADS, NAME##_cfg::MINB) NAME(FB16_PARAMS) { \
        FB16_BODY(NAME##_cfg, true)                                                                     \
    }
#define FBX_ROW(NAME) {#NAME, NAME, NAME##_cfg::M, NAME##_cfg::SMEM, NAME##_cfg::THREADS, NAME##_cfg::BN}
//  M  C FR KB ST PW NSTEP REG MINB NACC DBG SYNC KSPLIT
FBX(p8_wgmma, 8, 1, 1, 4, 4, 1, 8, false, 4, 1, 0, false, 1)
FBX(p8_sync, 8, 1, 1, 4, 4, 1, 8, false, 4, 1, 0, true, 1)
FBX(p8_ks2, 8, 2, 1, 4, 4, 1, 8, false, 3, 1, 0, true, 2)
FBX(p32_wgmma, 32, 2, 1, 2, 4, 1, 8, false, 2, 1, 0, false, 1)
FBX(p32_ks2, 32, 2, 1, 2, 4, 1, 8, false, 2, 1, 0, true, 2)
FBX(p64_sync, 64, 2, 2, 1, 6, 4, 16, true, 1, 1, 0, true, 1)
FBX(p128_st7, 128, 2, 2, 1, 7, 4, 32, true, 1, 1, 0, false, 1)
FBX(p128_noload, 128, 2, 2, 1, 5, 4, 32, true, 1, 1, 6, false, 1)
FBX(p128_nothing, 128, 2, 2, 1, 5, 4, 32, true, 1, 1, 7, false, 1)
static Probe g_probes[] = {FBX_ROW(p8_wgmma),  FBX_ROW(p8_sync),    FBX_ROW(p8_ks2),      FBX_ROW(p32_wgmma),
                           FBX_ROW(p32_ks2),   FBX_ROW(p64_sync),   FBX_ROW(p128_st7),    FBX_ROW(p128_noload),
                           FBX_ROW(p128_nothing)};

static void probe(uint64_t seed) {
    Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
    Weights w;
    make_weights(sp, seed, w, false);
    DevLayer d;
    upload(sp, w, d);
    Scratch s;
    alloc_scratch(d, 4096L * sp.k, 4096, s);
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (auto& p : g_probes) CK(cudaFuncSetAttribute((const void*)p.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, p.smem));
    for (int T : {1, 256, 4096}) {
        std::mt19937_64 g(seed + T);
        std::normal_distribution<float> nd(0.f, 1.f);
        std::vector<uint16_t> hid((size_t)T * sp.H);
        for (auto& x : hid) x = f2bf(nd(g));
        std::vector<float> lg((size_t)T * sp.E);
        for (auto& x : lg) x = nd(g);
        uint16_t* dh;
        float* dl;
        CK(cudaMalloc(&dh, hid.size() * 2));
        CK(cudaMalloc(&dl, lg.size() * 4));
        CK(cudaMemcpy(dh, hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dl, lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
        for (int M : {8, 32, 64, 128}) {
            if ((T == 1 && M != 8) || (T == 256 && M > 32) || (T == 4096 && M < 64)) continue;
            Call c{dh, dl, nullptr, nullptr, nullptr, T, nullptr, 1, M, nullptr, nullptr};
            forward(d, s, c, st, 1);  // route + align for this M
            CK(cudaStreamSynchronize(st));
            long tiles = max_tiles((long)T * sp.k, sp.El, M);
            for (auto& p : g_probes) {
                if (p.M != M) continue;
                int N1p = 2 * d.Ip;
                dim3 g1((N1p / 64 + p.bn / 64 - 1) / (p.bn / 64), (unsigned)tiles, 1);
                cudaGraph_t gr;
                cudaGraphExec_t ge;
                CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                p.fn<<<g1, p.threads, p.smem, st>>>(dh, nullptr, sp.H, sp.k, 0, sp.H, s.sorted, s.tile_e, s.ntiles, d.q13,
                                                    d.sc13, d.b13, 2 * sp.I, N1p, d.Hp, 1, s.inter, d.Ip, nullptr, sp.act,
                                                    1.702f, 7.0f, nullptr);
                CK(cudaStreamEndCapture(st, &gr));
                CK(cudaGraphInstantiate(&ge, gr, 0));
                cudaGraphDestroy(gr);
                for (int i = 0; i < 3; i++) CK(cudaGraphLaunch(ge, st));
                CK(cudaStreamSynchronize(st));
                CK(cudaGetLastError());
                int reps = T == 4096 ? 10 : 50;
                std::vector<float> tv;
                for (int r = 0; r < 5; r++) {
                    CK(cudaEventRecord(e0, st));
                    for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(ge, st));
                    CK(cudaEventRecord(e1, st));
                    CK(cudaEventSynchronize(e1));
                    float ms;
                    CK(cudaEventElapsedTime(&ms, e0, e1));
                    tv.push_back(ms * 1000 / reps);
                }
                int per_sm = 0;
                CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, (const void*)p.fn, p.threads, p.smem));
                printf("probe T=%-5d %-12s M=%-3d CTAs/SM=%d gemm1 %9.1f us\n", T, p.name, M, per_sm, median(tv));
                fflush(stdout);
                cudaGraphExecDestroy(ge);
            }
        }
        cudaFree(dh);
        cudaFree(dl);
    }
}

int main(int argc, char** argv) {
    init_variants();
    uint64_t seed = std::random_device{}();
    if (getenv("SEED")) seed = strtoull(getenv("SEED"), nullptr, 10);
    std::string mode = argc > 1 ? argv[1] : "test";
    if (mode == "test") {
        tests(seed);
        printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
    }
    if (mode == "bigcheck") {
        bigcheck(seed);
        printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
    }
    if (mode == "bench") {
        std::vector<int> Ts = {1, 8, 32, 256, 1024, 4096};
        if (argc > 2) {
            Ts.clear();
            for (const char* q = argv[2]; *q;) { Ts.push_back(atoi(q)); while (*q && *q != ',') q++; if (*q) q++; }
        }
        bench(seed, Ts);
        return 0;
    }
    if (mode == "probe") {
        probe(seed);
        return 0;
    }
    if (mode == "one") {  // one forward at the 120b shape (for ncu): one <T> [M]
        int T = argc > 2 ? atoi(argv[2]) : 4096, M = argc > 3 ? atoi(argv[3]) : 0;
        Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
        Weights w;
        make_weights(sp, seed, w, false);
        DevLayer d;
        upload(sp, w, d);
        Scratch s;
        alloc_scratch(d, (long)T * sp.k, T, s);
        std::mt19937_64 g(seed);
        std::normal_distribution<float> nd(0.f, 1.f);
        std::vector<uint16_t> hid((size_t)T * sp.H);
        for (auto& x : hid) x = f2bf(nd(g));
        std::vector<float> lg((size_t)T * sp.E);
        for (auto& x : lg) x = nd(g);
        uint16_t* dh;
        float* dl;
        void* dout;
        CK(cudaMalloc(&dh, hid.size() * 2));
        CK(cudaMalloc(&dl, lg.size() * 4));
        CK(cudaMalloc(&dout, (size_t)T * d.Hp * 2));
        CK(cudaMemcpy(dh, hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dl, lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
        Call c{dh, dl, nullptr, nullptr, nullptr, T, dout, 1, M, nullptr, nullptr};
        for (int i = 0; i < 2; i++) forward(d, s, c, 0);
        CK(cudaDeviceSynchronize());
        CK(cudaGetLastError());
        printf("one T=%d done\n", T);
        return 0;
    }
    return 2;
}
