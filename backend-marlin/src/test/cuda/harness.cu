// Stand-alone C++ harness for the marlin MoE kernels: correctness against a float64 CPU reference
// and timings (CUDA events, graph replay) with the roofline ceilings measured in the same run.
// Build: nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -fopenmp -I../../main/cuda
//        -I../../../../cuda-moe/src/main/cuda -I../../../../cuda-moe/src/test/cuda harness.cu -o harness -ldl
// Run:   ./harness test | ./harness bench [json-path]
// profile knobs (env): PROFILE_T=1,8,32 and PROFILE_M=16,8 (comma lists; 0 = auto), PROFILE_LORA=1 (each
// size also with LoRA: LORA_RANK, default 16, LORA_SLOTS, default 4, token t on slot t % slots; LORA_QW=4:
// the four-outputs-per-warp shrink for M >= 16), PROFILE_STAGES=1
// (graph replays of the forward cut after routing/alignment, GEMM1, GEMM2), M8_MAX (rows per
// expert up to which auto picks the M=8 GEMV kernels, default 4 as MarlinPlan), GEMV_SPLITS (GEMM2
// split-K override for M=8).
#include "marlin_moe.cu"
#include "moe_harness.h"  // cuda-moe/src/test/cuda: data, references, checks, ceilings

// ------------------------------------------------------------------------------------------------
// device-side layer (mirrors what the Java MarlinKernel does)
// ------------------------------------------------------------------------------------------------
struct DevLayer {
    Spec sp;
    int Hp, Ip;
    int x13, x2;  // scale exponent bias X per tensor
    uint8_t *q13, *sc13, *q2, *sc2;
    float *b13, *b2;
    int sms;
};

static void upload(const Spec& sp, const Weights& w, DevLayer& d) {
    d.sp = sp;
    d.Hp = pad64(sp.H);
    d.Ip = pad64(sp.I);
    int N1 = 2 * sp.I, N1p = 2 * d.Ip;
    size_t q13 = (size_t)sp.El * (N1p / 64) * (d.Hp / 64) * 2048, s13 = q13 / 16;
    size_t q2 = (size_t)sp.El * (d.Hp / 64) * (d.Ip / 64) * 2048, s2 = q2 / 16;
    CK(cudaMalloc(&d.q13, q13));
    CK(cudaMalloc(&d.sc13, s13));
    CK(cudaMalloc(&d.q2, q2));
    CK(cudaMalloc(&d.sc2, s2));
    uint8_t *tb, *ts;
    size_t maxb = std::max(w.w13.size(), w.w2.size()), maxs = std::max(w.s13.size(), w.s2.size());
    CK(cudaMalloc(&tb, maxb));
    CK(cudaMalloc(&ts, maxs));
    auto xbias = [](const std::vector<uint8_t>& v) {
        int mx = 0;
        for (uint8_t c : v) mx = std::max(mx, (int)c);
        return std::max(0, mx - 128);
    };
    d.x13 = xbias(w.s13);
    d.x2 = xbias(w.s2);
    CK(cudaMemcpy(tb, w.w13.data(), w.w13.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(ts, w.s13.data(), w.s13.size(), cudaMemcpyHostToDevice));
    long words = (long)(q13 / 4);
    moe_repack_mxfp4<<<(words + 255) / 256, 256>>>(tb, ts, sp.El, N1, sp.H, N1p, d.Hp, d.x13, (uint32_t*)d.q13, d.sc13);
    CK(cudaGetLastError());
    CK(cudaMemcpy(tb, w.w2.data(), w.w2.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(ts, w.s2.data(), w.s2.size(), cudaMemcpyHostToDevice));
    words = (long)(q2 / 4);
    moe_repack_mxfp4<<<(words + 255) / 256, 256>>>(tb, ts, sp.El, sp.H, sp.I, d.Hp, d.Ip, d.x2, (uint32_t*)d.q2, d.sc2);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    CK(cudaFree(tb));
    CK(cudaFree(ts));
    upload_bias(sp, w, d.Hp, d.Ip, &d.b13, &d.b2);
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    d.sms = p.multiProcessorCount;
}

typedef void (*GemmFn)(GEMM_PARAMS);
struct Variant {
    int M;
    GemmFn g1, g2;
    int smem, threads;
    GemmFn g1l, g2l;  // the LoRA instantiations
};
static Variant variant(int M) {
#ifdef HARNESS_SINGLE_GEMMS  // an image whose GEMMs take LoRA in the same kernels
#define V(m, smem, thr) {m, moe_gemm1_m##m, moe_gemm2_m##m, smem, thr, moe_gemm1_m##m, moe_gemm2_m##m}
#else
#define V(m, smem, thr) \
    {m, moe_gemm1_m##m, moe_gemm2_m##m, smem, thr, moe_gemm1_m##m##_lora, moe_gemm2_m##m##_lora}
#endif
    switch (M) {
        case 8: return V(8, 0, 32 * MOE_GEMV_WARPS);
        case 16: return V(16, TileCfg<CFG_M16>::SMEM, TileCfg<CFG_M16>::THREADS_ALL);
        case 32: return V(32, TileCfg<CFG_M32>::SMEM, TileCfg<CFG_M32>::THREADS_ALL);
        case 64: return V(64, TileCfg<CFG_M64>::SMEM, TileCfg<CFG_M64>::THREADS_ALL);
        default: return V(128, TileCfg<CFG_M128>::SMEM, TileCfg<CFG_M128>::THREADS_ALL);
    }
#undef V
}

// LoRA for the profile mode (timing only; the Java GPU tests check the numbers): LORA_SLOTS adapters
// (default 4) of rank LORA_RANK (default 16, padded to 8) with random factors, token t uses slot t % slots.
struct HarnessLora {
    bool on = false;
    int slots = 0, rmax = 0;
    LoraSlot* table = nullptr;
    int *row_slot = nullptr, *ids = nullptr;
    float *u13 = nullptr, *u2 = nullptr;
} g_lora;

static void lora_setup(const Spec& sp, long max_sorted, int max_tokens, uint64_t seed) {
    int rank = getenv("LORA_RANK") ? atoi(getenv("LORA_RANK")) : 16;
    g_lora.slots = getenv("LORA_SLOTS") ? atoi(getenv("LORA_SLOTS")) : 4;
    int rp = (rank + 7) / 8 * 8;
    g_lora.rmax = rp;
    std::vector<LoraSlot> host(g_lora.slots);
    uint64_t g = seed ^ 0x10AA;
    auto rnd = [&](size_t n) {  // uniform in +-0.03 (padded rank rows too: timing only)
        std::vector<uint16_t> v(n);
        for (auto& x : v) x = f2bf((float)((splitmix(g) >> 40) * (1.0 / (1 << 24)) - 0.5) * 0.06f);
        uint16_t* d;
        CK(cudaMalloc(&d, n * 2));
        CK(cudaMemcpy(d, v.data(), n * 2, cudaMemcpyHostToDevice));
        return (const __nv_bfloat16*)d;
    };
    for (int s = 0; s < g_lora.slots; s++) {
        size_t El = sp.El, H = sp.H, I = sp.I;
        host[s].a13 = rnd(El * 2 * rp * H);
        host[s].b13 = rnd(El * 2 * I * rp);
        host[s].a2 = rnd(El * rp * I);
        host[s].b2 = rnd(El * H * rp);
        host[s].rank = rp;
        host[s].scaling = 2.0f;
    }
    CK(cudaMalloc(&g_lora.table, host.size() * sizeof(LoraSlot)));
    CK(cudaMemcpy(g_lora.table, host.data(), host.size() * sizeof(LoraSlot), cudaMemcpyHostToDevice));
    std::vector<int> ids(max_tokens);
    for (int t = 0; t < max_tokens; t++) ids[t] = t % g_lora.slots;
    CK(cudaMalloc(&g_lora.ids, ids.size() * 4));
    CK(cudaMemcpy(g_lora.ids, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&g_lora.row_slot, max_sorted * 4));
    CK(cudaMalloc(&g_lora.u13, max_sorted * 2 * rp * 4));
    CK(cudaMalloc(&g_lora.u2, max_sorted * rp * 4));
}
static double g_m8_max = getenv("M8_MAX") ? atof(getenv("M8_MAX")) : 4.0;  // rows per expert for M=8
static int choose_m(long rows, int El) {  // as MarlinPlan.chooseM
    double a = (double)rows / El;
    if (a <= g_m8_max) return 8;
    if (a <= 16) return 16;
    if (a <= 64) return 32;
    return 128;
}

struct Scratch {
    int *topk_ids, *sorted, *tile_e, *ntiles;
    float *topk_w, *acc;
    uint16_t* inter;
    size_t inter_elems;
};

static void alloc_scratch(const DevLayer& d, long max_rows_in, long acc_rows, Scratch& s) {
    long tiles = max_tiles(max_rows_in, d.sp.El, 8);
    tiles = std::max(tiles, max_tiles(max_rows_in, d.sp.El, 128));
    long rows = 0;
    for (int M : {16, 32, 64, 128}) rows = std::max(rows, max_tiles(max_rows_in, d.sp.El, M) * M);
    CK(cudaMalloc(&s.topk_ids, std::max<long>(1, max_rows_in) * 4));
    CK(cudaMalloc(&s.topk_w, std::max<long>(1, max_rows_in) * 4));
    CK(cudaMalloc(&s.sorted, rows * 4));
    CK(cudaMalloc(&s.tile_e, tiles * 4));
    CK(cudaMalloc(&s.ntiles, 4));
    CK(cudaMalloc(&s.acc, acc_rows * d.sp.H * 4));
    s.inter_elems = (size_t)rows * d.Ip;
    CK(cudaMalloc(&s.inter, s.inter_elems * 2));
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
};

static int g_stop_after = 0;  // profile: end the forward after this stage (1 route/align, 3 gemm1, 4 gemm2)
static int g_gemv_splits = getenv("GEMV_SPLITS") ? atoi(getenv("GEMV_SPLITS")) : 0;
static cudaEvent_t* g_stage_ev = nullptr;  // when set: record an event after each stage
static void stage_mark(int i, cudaStream_t st) {
    if (g_stage_ev) CK(cudaEventRecord(g_stage_ev[i], st));
}
static void forward(const DevLayer& d, const Scratch& s, const Call& c, cudaStream_t st) {
    stage_mark(0, st);
    const Spec& sp = d.sp;
    bool batched = c.batch_counts != nullptr;
    long rows = batched ? (long)sp.El * c.T : (long)c.T * sp.k;
    long acc_rows = batched ? (long)sp.El * c.T : c.T;
    int M = c.force_m ? c.force_m : choose_m(rows, sp.El);
    Variant v = variant(M);
    long tiles = max_tiles(rows, sp.El, M);
    if (!batched && c.T <= 32) {
        moe_route_align<<<1, 1024, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k, s.topk_ids, s.topk_w, s.acc,
                                            sp.H, sp.El, sp.e0, M, s.sorted, s.tile_e, s.ntiles);
        stage_mark(1, st);
    } else {
        if (!batched) {
            int wpb = 4;
            moe_route<<<(c.T + wpb - 1) / wpb, 32 * wpb, 0, st>>>(c.logits, 0, c.ids, c.w, c.T, sp.E, sp.k,
                                                                    s.topk_ids, s.topk_w, s.acc, sp.H);
        } else {
            long n = acc_rows * sp.H;
            moe_zero<<<(n / 4 + 255) / 256, 256, 0, st>>>(s.acc, n);
        }
        stage_mark(1, st);
        moe_align<<<1, 1024, 0, st>>>(batched ? nullptr : s.topk_ids, (int)rows, c.batch_counts, c.T, sp.El, sp.e0,
                                      M, s.sorted, s.tile_e, s.ntiles);
    }
    const bool lo = g_lora.on && !batched;
    if (lo) {  // timed with the alignment stage
        // as MarlinLora: 1 output per warp (LORA_QW=4: the 4-output kernel for M >= 16)
        static const bool q4 = getenv("LORA_QW") && atoi(getenv("LORA_QW")) == 4;
        const int qw = (M > 8 && q4) ? 4 : 1;
        dim3 gs((2 * g_lora.rmax + 8 * qw - 1) / (8 * qw), tiles, (M + 15) / 16);
        (qw == 1 ? moe_lora_shrink_q1 : moe_lora_shrink)<<<gs, 256, 0, st>>>((const __nv_bfloat16*)c.hidden, sp.H, s.sorted, s.tile_e, s.ntiles, M,
                                            g_lora.ids, sp.k, g_lora.slots, g_lora.table, g_lora.rmax, g_lora.u13,
                                            g_lora.u2, g_lora.row_slot);
    }
    stage_mark(2, st);
    if (g_stop_after == 1) return;
    int N1p = 2 * d.Ip;
    dim3 g1(N1p / 64, tiles, 1);
    (lo ? v.g1l : v.g1)<<<g1, v.threads, v.smem, st>>>((const __nv_bfloat16*)c.hidden, sp.H, batched ? 1 : sp.k, 0,
                                      sp.H, s.sorted, s.tile_e, s.ntiles, d.q13, d.sc13, d.b13, 2 * sp.I, N1p, d.Hp, 1,
                                      s.inter, d.Ip, nullptr, sp.act, 1.702f, 7.0f, std::ldexp(1.0f, d.x13),
                                      lo ? g_lora.table : nullptr, g_lora.row_slot, g_lora.u13, g_lora.u2, g_lora.rmax);
    stage_mark(3, st);
    if (g_stop_after == 3) return;
    int nk2 = d.Ip / 64;
    long est = std::min<long>(sp.El, rows) * (d.Hp / 64);
    // split K of GEMM2 only while every CTA stays resident in one wave
    int per_sm = std::max(1, std::min(16, (227 * 1024) / (v.smem + 1024)));
    int splits = (int)std::min<long>(std::min(8, nk2), std::max<long>(1, ((long)per_sm * d.sms) / std::max(1L, est)));
    if (M == 8) {  // GEMV: at least 2 chunks per warp, about 4 CTAs per SM
        int max_s = std::max(1, nk2 / (2 * MOE_GEMV_WARPS));
        splits = (int)std::min<long>(max_s, std::max<long>(1, (4L * d.sms) / std::max(1L, est)));
        if (g_gemv_splits) splits = g_gemv_splits;
    }
    dim3 g2(d.Hp / 64, tiles, splits);
    (lo ? v.g2l : v.g2)<<<g2, v.threads, v.smem, st>>>((const __nv_bfloat16*)s.inter, d.Ip, batched ? 1 : sp.k, 1,
                                      d.Ip, s.sorted, s.tile_e, s.ntiles, d.q2, d.sc2, d.b2, sp.H, d.Hp, d.Ip, splits,
                                      s.acc, sp.H, batched ? nullptr : s.topk_w, sp.act, 1.702f, 7.0f,
                                      std::ldexp(1.0f, d.x2), lo ? g_lora.table : nullptr, g_lora.row_slot, g_lora.u13,
                                      g_lora.u2, g_lora.rmax);
    stage_mark(4, st);
    if (g_stop_after == 4) return;
    long n = acc_rows * sp.H;
    moe_finalize<<<(n / 4 + 255) / 256, 256, 0, st>>>(s.acc, c.out, c.out_bf16, n);
    stage_mark(5, st);
}

static void set_smem_limits() {
    for (int M : {16, 32, 64, 128}) {  // M=8 (GEMV) uses static shared memory only
        Variant v = variant(M);
        CK(cudaFuncSetAttribute(v.g1, cudaFuncAttributeMaxDynamicSharedMemorySize, v.smem));
        CK(cudaFuncSetAttribute(v.g2, cudaFuncAttributeMaxDynamicSharedMemorySize, v.smem));
    }
}

// ------------------------------------------------------------------------------------------------
// correctness
// ------------------------------------------------------------------------------------------------
static double run_case(const Spec& sp, int T, int mode /*0 logits 1 topk 2 batched*/, bool hot, bool out_bf16,
                       int force_m, uint64_t seed, int check_tokens, const Weights* wpre = nullptr,
                       DevLayer* dpre = nullptr) {
    Weights wloc;
    DevLayer dloc;
    const Weights& w = wpre ? *wpre : wloc;
    DevLayer& d = dpre ? *dpre : dloc;
    if (!wpre) {
        make_weights(sp, seed, wloc);
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
    size_t out_elems = rows_in * sp.H;
    CK(cudaMalloc(&dout, out_elems * 4));
    CK(cudaMemset(dout, 0xFF, out_elems * 4));  // NaN fill
    Scratch s;
    alloc_scratch(d, batched ? rows_in : (long)T * sp.k, rows_in, s);
    Call c{dh, mode == 0 ? dl : nullptr, mode == 1 ? di : nullptr, dw, batched ? dc : nullptr, T, dout,
           out_bf16 ? 1 : 0, force_m};
    forward(d, s, c, 0);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<float> got = download_output(dout, out_elems, out_bf16);
    std::vector<long> check = check_rows(rows_in, check_tokens, seed);
    long nan_count = count_nonfinite(got, rows_in, sp.H, sp.H);
    std::vector<std::vector<double>> refs(check.size());
#pragma omp parallel for schedule(dynamic)
    for (long ci = 0; ci < (long)check.size(); ci++) {
        long r = check[ci];
        std::vector<float> x(sp.H);
        for (int h = 0; h < sp.H; h++) x[h] = bf2f(hid[r * sp.H + h]);
        std::vector<double> ref(sp.H, 0.0), y(sp.H);
        if (batched) {
            int e = (int)(r / maxT), i = (int)(r % maxT);
            if (i < counts[e]) expert_ref_mxfp4(sp, w, e, x.data(), ref.data());
        } else {
            for (int j = 0; j < sp.k; j++) {
                int e = ids[r * sp.k + j] - sp.e0;
                if (e < 0 || e >= sp.El) continue;
                expert_ref_mxfp4(sp, w, e, x.data(), y.data());
                for (int h = 0; h < sp.H; h++) ref[h] += wts[r * sp.k + j] * y[h];
            }
        }
        refs[ci] = ref;
    }
    double rel = rel_l2(got, check, refs, sp.H, sp.H);
    bool ok = nan_count == 0 && rel <= 1e-2;
    if (!ok) failures++;
    printf("%-4s E=%-3d El=%-3d e0=%-3d k=%d H=%-5d I=%-5d act=%d bias=%d T=%-5d mode=%s hot=%d out=%s M=%-3d "
           "checked=%-4zu nonfinite=%ld relL2=%.3e\n",
           ok ? "ok" : "FAIL", sp.E, sp.El, sp.e0, sp.k, sp.H, sp.I, sp.act, sp.bias, T,
           mode == 0 ? "logits" : mode == 1 ? "topk" : "batched", hot, out_bf16 ? "bf16" : "f32",
           force_m ? force_m : choose_m(batched ? rows_in : (long)T * sp.k, sp.El), check.size(), nan_count, rel);
    fflush(stdout);
    dev.free();
    cudaFree(dout);
    cudaFree(s.topk_ids); cudaFree(s.topk_w); cudaFree(s.sorted); cudaFree(s.tile_e); cudaFree(s.ntiles);
    cudaFree(s.acc); cudaFree(s.inter);
    if (!dpre) {
        cudaFree(d.q13); cudaFree(d.sc13); cudaFree(d.q2); cudaFree(d.sc2);
        if (d.b13) { cudaFree(d.b13); cudaFree(d.b2); }
    }
    return rel;
}

static void tests(uint64_t seed, bool small) {
    printf("seed %llu\n", (unsigned long long)seed);
    std::mt19937_64 g(seed);
    // small deterministic coverage: every M variant, odd sizes (padding), all activations, all modes
    int Ts[] = {1, 7, 64, 300};
    for (int i = 0; i < 24; i++) {
        Spec sp = random_spec(g);
        int T = Ts[g() % 4];
        int mode = (int)(g() % 3);
        const int fms[6] = {8, 16, 32, 64, 128, 0};
        int fm = fms[i % 6];
        run_case(sp, T, mode, (g() % 3) == 0, (g() & 1) != 0, fm, seed + i, 64);
    }
    // scales above 2^1 (exercise the exponent bias X)
    g_scale_lo = 120; g_scale_span = 20;
    { Spec sp{8, 2, 96, 160, 0, true, 8, 0}; run_case(sp, 7, 0, false, false, 16, seed + 50, 64); }
    { Spec sp{8, 2, 96, 160, 1, true, 8, 0}; run_case(sp, 64, 1, true, false, 64, seed + 51, 64); }
    g_scale_lo = 121; g_scale_span = 4;
    // gpt-oss-20b layer
    if (!small) {
        Spec sp{32, 4, 2880, 2880, 0, true, 32, 0};
        Weights w;
        DevLayer d;
        make_weights(sp, seed + 100, w);
        upload(sp, w, d);
        for (int T : {1, 7, 64, 300, 4096}) run_case(sp, T, 0, false, true, 0, seed + 200 + T, 24, &w, &d);
        run_case(sp, 300, 1, true, false, 0, seed + 301, 24, &w, &d);
        run_case(sp, 64, 2, true, true, 0, seed + 302, 24, &w, &d);
        cudaFree(d.q13); cudaFree(d.sc13); cudaFree(d.q2); cudaFree(d.sc2); cudaFree(d.b13); cudaFree(d.b2);
    }
}

// ------------------------------------------------------------------------------------------------
// benchmark
// ------------------------------------------------------------------------------------------------
static void bench(uint64_t seed, const char* json, int only_m) {
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    double bw = copy_bandwidth(st, e0, e1, 12);
    std::string no_cublas;
    double flops_rate = cublas_bf16_rate(st, e0, e1, 13, no_cublas);
    if (flops_rate == 0) { fprintf(stderr, "no libcublas: %s\n", no_cublas.c_str()); exit(1); }
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    printf("device %s, %d SMs; copy bandwidth %.0f GB/s (D2D 2 GiB, read+write); cuBLAS bf16 %.0f TFLOP/s (8192^3)\n",
           p.name, p.multiProcessorCount, bw / 1e9, flops_rate / 1e12);

    Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
    Weights w;
    make_weights(sp, seed, w);
    DevLayer d;
    upload(sp, w, d);
    Weights().w13.swap(w.w13);
    int Tmax = 4096;
    Scratch s;
    alloc_scratch(d, (long)Tmax * sp.k, Tmax, s);
    size_t expert_bytes = (size_t)2 * sp.I * sp.H / 2 + (size_t)2 * sp.I * sp.H / 32 + (size_t)sp.H * sp.I / 2 +
                          (size_t)sp.H * sp.I / 32 + (size_t)(2 * sp.I + sp.H) * 2;
    FILE* jf = json ? fopen(json, "w") : nullptr;
    if (jf) fprintf(jf, "{\"device\":\"%s\",\"copy_bw_Bps\":%.6e,\"bf16_flops\":%.6e,\"rows\":[", p.name, bw, flops_rate);
    printf("%6s %4s %6s %10s %10s %10s %10s %8s %8s %8s\n", "T", "M", "experts", "median_us", "graph_us", "floor_us",
           "bytes_us", "flops_us", "ratio", "TFLOP/s");
    bool first = true;
    int rot = 4;  // rotate input sets
    for (int T : {1, 8, 32, 256, 1024, 4096}) {
        BenchInputs in = bench_inputs(sp, T, seed, rot);
        const std::vector<uint16_t*>& dh = in.hidden;
        const std::vector<float*>& dl = in.logits;
        const std::set<int>& touched = in.touched;
        void* dout;
        CK(cudaMalloc(&dout, (size_t)T * sp.H * 2));
        std::vector<int> ms_list;
        if (only_m) ms_list = {only_m};
        else ms_list = {choose_m((long)T * sp.k, sp.El)};
        if (!only_m && T >= 256) ms_list = {16, 32, 64, 128};
        for (int M : ms_list) {
            // plain stream launches
            std::vector<float> tl;
            for (int i = 0; i < 30; i++) {
                Call c{dh[i % rot], dl[i % rot], nullptr, nullptr, nullptr, T, dout, 1, M};
                CK(cudaEventRecord(e0, st));
                forward(d, s, c, st);
                CK(cudaEventRecord(e1, st));
                CK(cudaEventSynchronize(e1));
                float ms;
                CK(cudaEventElapsedTime(&ms, e0, e1));
                if (i >= 5) tl.push_back(ms * 1000);
            }
            CK(cudaGetLastError());
            // graphs, one per input set
            std::vector<cudaGraphExec_t> ge(rot);
            for (int r = 0; r < rot; r++) {
                cudaGraph_t gr;
                CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                Call c{dh[r], dl[r], nullptr, nullptr, nullptr, T, dout, 1, M};
                forward(d, s, c, st);
                CK(cudaStreamEndCapture(st, &gr));
                CK(cudaGraphInstantiate(&ge[r], gr, 0));
                cudaGraphDestroy(gr);
            }
            std::vector<float> tg;
            for (int i = 0; i < 60; i++) {
                CK(cudaEventRecord(e0, st));
                CK(cudaGraphLaunch(ge[i % rot], st));
                CK(cudaEventRecord(e1, st));
                CK(cudaEventSynchronize(e1));
                float ms;
                CK(cudaEventElapsedTime(&ms, e0, e1));
                if (i >= 10) tg.push_back(ms * 1000);
            }
            for (auto x : ge) cudaGraphExecDestroy(x);
            double med = median(tl), gmed = median(tg);
            double bytes = (double)touched.size() * expert_bytes + (double)T * sp.H * 2 * 2 + (double)T * sp.E * 4;
            double flops = 2.0 * T * sp.k * (2.0 * 2 * sp.I * sp.H / 2 * 2 / 2 + (double)sp.H * sp.I);
            flops = 2.0 * T * sp.k * (2.0 * sp.I * sp.H + (double)sp.H * sp.I);
            double bus = bytes / bw * 1e6, fus = flops / flops_rate * 1e6;
            double floor_us = std::max(bus, fus);
            double best = std::min(med, gmed);
            printf("%6d %4d %6zu %10.1f %10.1f %10.1f %10.1f %8.1f %8.2f %8.1f\n", T, M, touched.size(), med, gmed,
                   floor_us, bus, fus, best / floor_us, flops / (best * 1e-6) / 1e12);
            fflush(stdout);
            if (jf) {
                fprintf(jf, "%s{\"T\":%d,\"M\":%d,\"experts_touched\":%zu,\"median_us_stream\":%.2f,\"median_us_graph\":%.2f,"
                            "\"floor_us\":%.2f,\"bytes\":%.0f,\"flops\":%.0f,\"ratio\":%.3f}",
                        first ? "" : ",", T, M, touched.size(), med, gmed, floor_us, bytes, flops, best / floor_us);
                first = false;
            }
        }
        in.free();
        cudaFree(dout);
    }
    if (jf) { fprintf(jf, "]}\n"); fclose(jf); }
}

int main(int argc, char** argv) {
    set_smem_limits();
    uint64_t seed = std::random_device{}();
    if (getenv("SEED")) seed = strtoull(getenv("SEED"), nullptr, 10);
    std::string mode = argc > 1 ? argv[1] : "test";
    if (mode == "test" || mode == "small") {
        tests(seed, mode == "small");
        printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
    }
    if (mode == "bench") {
        bench(seed, argc > 2 ? argv[2] : nullptr, argc > 3 ? atoi(argv[3]) : 0);
        return 0;
    }
    if (mode == "profile") {  // per-stage times and back-to-back graph replays, 120b shape
        Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
        Weights w;
        make_weights(sp, seed, w);
        DevLayer d;
        upload(sp, w, d);
        Scratch s;
        alloc_scratch(d, 4096L * 4, 4096, s);
        cudaStream_t st;
        CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
        cudaEvent_t ev[6];
        for (auto& e : ev) CK(cudaEventCreate(&e));
        // PROFILE_T / PROFILE_M: comma lists (default: all sizes, chosen M); every (T, M) pair runs
        auto parse = [](const char* e, std::vector<int> def) {
            if (!e) return def;
            std::vector<int> v;
            for (const char* p = e; *p;) { v.push_back(atoi(p)); while (*p && *p != ',') p++; if (*p) p++; }
            return v;
        };
        std::vector<int> Ts = parse(getenv("PROFILE_T"), {1, 8, 32, 256, 1024, 4096});
        std::vector<int> Mlist = parse(getenv("PROFILE_M"), {0});
        std::vector<int> Llist = {0};
        if (getenv("PROFILE_LORA")) {  // each (T, M) also with LoRA, right after the base
            long rows_max = 4096L * 4, sorted_max = 0;
            for (int m : {8, 16, 32, 64, 128}) sorted_max = std::max(sorted_max, max_tiles(rows_max, sp.El, m) * m);
            lora_setup(sp, sorted_max, 4096, seed);
            Llist = {0, 1};
        }
        for (int T : Ts) for (int Mc : Mlist) for (int Lo : Llist) {
            g_lora.on = Lo != 0;
            std::mt19937_64 g(seed + T);
            std::normal_distribution<float> nd(0.f, 1.f);
            const int rot = 4;
            uint16_t* dh[rot];
            float* dl[rot];
            for (int r = 0; r < rot; r++) {
                std::vector<uint16_t> hid((size_t)T * sp.H);
                for (auto& x : hid) x = f2bf(nd(g));
                std::vector<float> lg((size_t)T * sp.E);
                for (auto& x : lg) x = nd(g);
                CK(cudaMalloc(&dh[r], hid.size() * 2));
                CK(cudaMalloc(&dl[r], lg.size() * 4));
                CK(cudaMemcpy(dh[r], hid.data(), hid.size() * 2, cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dl[r], lg.data(), lg.size() * 4, cudaMemcpyHostToDevice));
            }
            void* dout;
            CK(cudaMalloc(&dout, (size_t)T * sp.H * 2));
            int M = Mc ? Mc : choose_m((long)T * sp.k, sp.El);
            std::vector<float> stage[5];
            g_stage_ev = ev;
            for (int i = 0; i < 25; i++) {
                Call c{dh[i % rot], dl[i % rot], nullptr, nullptr, nullptr, T, dout, 1, M};
                forward(d, s, c, st);
                CK(cudaEventSynchronize(ev[5]));
                for (int k = 0; k < 5 && i >= 5; k++) {
                    float ms;
                    CK(cudaEventElapsedTime(&ms, ev[k], ev[k + 1]));
                    stage[k].push_back(ms * 1000);
                }
            }
            g_stage_ev = nullptr;
            if (getenv("PROFILE_STAGES")) {  // b2b graph time of forward prefixes: route/align, +gemm1, +gemm2
                for (int stop : {1, 3, 4}) {
                    g_stop_after = stop;
                    cudaGraphExec_t gp[rot];
                    for (int r = 0; r < rot; r++) {
                        cudaGraph_t gr;
                        CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                        Call c{dh[r], dl[r], nullptr, nullptr, nullptr, T, dout, 1, M};
                        forward(d, s, c, st);
                        CK(cudaStreamEndCapture(st, &gr));
                        CK(cudaGraphInstantiate(&gp[r], gr, 0));
                        cudaGraphDestroy(gr);
                    }
                    g_stop_after = 0;
                    for (int i = 0; i < 8; i++) CK(cudaGraphLaunch(gp[i % rot], st));
                    int reps = 200;
                    CK(cudaEventRecord(ev[0], st));
                    for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(gp[i % rot], st));
                    CK(cudaEventRecord(ev[1], st));
                    CK(cudaEventSynchronize(ev[1]));
                    float pms;
                    CK(cudaEventElapsedTime(&pms, ev[0], ev[1]));
                    printf("T=%-5d M=%-3d graph prefix up to stage %d: %8.1f us\n", T, M, stop, pms * 1000 / reps);
                    for (auto x : gp) cudaGraphExecDestroy(x);
                }
            }
            cudaGraphExec_t ge[rot];
            for (int r = 0; r < rot; r++) {
                cudaGraph_t gr;
                CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                Call c{dh[r], dl[r], nullptr, nullptr, nullptr, T, dout, 1, M};
                forward(d, s, c, st);
                CK(cudaStreamEndCapture(st, &gr));
                CK(cudaGraphInstantiate(&ge[r], gr, 0));
                cudaGraphDestroy(gr);
            }
            for (int i = 0; i < 8; i++) CK(cudaGraphLaunch(ge[i % rot], st));
            int reps = T <= 32 ? 200 : 20;
            CK(cudaEventRecord(ev[0], st));
            for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(ge[i % rot], st));
            CK(cudaEventRecord(ev[1], st));
            CK(cudaEventSynchronize(ev[1]));
            float ms;
            CK(cudaEventElapsedTime(&ms, ev[0], ev[1]));
            printf("%sT=%-5d M=%-3d route %7.1f align %7.1f gemm1 %8.1f gemm2 %8.1f final %6.1f | b2b graph %8.1f us\n",
                   g_lora.on ? "LoRA " : "base ", T, M,
                   median(stage[0]), median(stage[1]), median(stage[2]), median(stage[3]), median(stage[4]),
                   ms * 1000 / reps);
            fflush(stdout);
            for (auto x : ge) cudaGraphExecDestroy(x);
            for (int r = 0; r < rot; r++) { cudaFree(dh[r]); cudaFree(dl[r]); }
            cudaFree(dout);
        }
        return 0;
    }
    if (mode == "bigcheck") {  // gpt-oss-120b shape, subset of tokens checked
        Spec sp{128, 4, 2880, 2880, 0, true, 128, 0};
        Weights w;
        DevLayer d;
        make_weights(sp, seed, w);
        upload(sp, w, d);
        for (int T : {1, 7, 64, 300, 4096}) run_case(sp, T, 0, T == 300, true, 0, seed + T, 16, &w, &d);
        printf("%s: %d failures\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
    }
    return 2;
}
