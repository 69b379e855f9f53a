package io.moeoracle.backend.triton;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;

import java.lang.foreign.Arena;

/**
 * The launch sequence of one forward and of prepare's repack, over the variants of one kernel
 * instance. Every grid depends only on T (never on the routing), so the sequence can be captured.
 */
final class TritonLaunches {
    private final TritonModules modules;
    private final MoeLayerSpec spec;
    private final boolean fused;
    private final String cls;
    private final int ep;
    private final int hp;
    private final int ip;
    private final int el;
    private final int e0;
    private final String act;
    private final float alpha;
    private final float limit;

    TritonLaunches(TritonModules modules, MoeLayerSpec spec, boolean fused) {
        this.modules = modules;
        this.spec = spec;
        this.fused = fused;
        this.el = spec.localExperts();
        this.e0 = spec.expertParallelRank() * el;
        this.cls = TritonImage.expertClass(el, spec.experts());
        this.hp = TritonPlan.pad(spec.hiddenSize());
        this.ip = TritonPlan.pad(spec.intermediateSize());
        switch (spec.activation()) {
            case Activation.SwigluOai s -> {
                act = "swiglu";
                alpha = (float) s.alpha();
                limit = (float) s.limit();
            }
            case Activation.Silu _ -> {
                act = "silu";
                alpha = 1f;
                limit = Float.POSITIVE_INFINITY;
            }
            case Activation.Gelu _ -> {
                act = "gelu";
                alpha = 1f;
                limit = Float.POSITIVE_INFINITY;
            }
        }
        for (String lt : new String[] {"bf16", "f32"}) {
            modules.load("moe_route_" + lt + "_" + cls);
            modules.load("moe_reduce_" + lt);
        }
        for (String b : TritonPlan.BUCKETS) {
            modules.load("moe_align_" + b + "_" + cls);
            modules.load(gemm1(b));
            modules.load("moe_gemm2_" + b);
        }
        if (!fused) {
            modules.load("moe_act_" + act);
        }
        modules.load("moe_f32_to_bf16");
        modules.load("moe_repack_q");
        modules.load("moe_repack_s");
        this.ep = modules.meta("moe_align_" + TritonPlan.DECODE + "_" + cls).constant("EP");
    }

    private String gemm1(String bucket) {
        return (fused ? "moe_gemm1_swiglu_" : "moe_gemm1_raw_") + bucket;
    }

    int hiddenPad() {
        return hp;
    }

    int interPad() {
        return ip;
    }

    /** @return ints of the alignment kernel's per-expert info block */
    int infoLength() {
        return 3 * ep;
    }

    /** @return the most M tiles {@code rows} rows can need in any bucket */
    long tilesMaxAnyBucket(long rows) {
        long max = 0;
        for (String b : TritonPlan.BUCKETS) {
            max = Math.max(max, TritonPlan.tilesMax(rows, el, bm(b)));
        }
        return max;
    }

    private int bm(String bucket) {
        return modules.meta("moe_align_" + bucket + "_" + cls).constant("BM");
    }

    /**
     * Repacks one weight matrix on the device: nibbles {@code [E, n, k/2]} to {@code [E, nPad, kPad/2]},
     * scales {@code [E, n, k/32]} to the layout the GEMM variants were compiled for.
     */
    void repack(CudaStream stream, DeviceBuffer srcQ, DeviceBuffer srcS, int n, int k, int nPad, int kPad,
                DeviceBuffer q, DeviceBuffer s) {
        try (Arena arena = Arena.ofConfined()) {
            int bq = modules.meta("moe_repack_q").constant("B");
            modules.launch("moe_repack_q", (long) el * nPad, TritonPlan.cdiv(kPad / 2, bq), stream, arena,
                    KernelArgs.builder().pointer(srcQ).pointer(q).i32(n).i32(k / 2).i32(nPad).i32(kPad / 2));
            int bs = modules.meta("moe_repack_s").constant("BN");
            modules.launch("moe_repack_s", (long) el * (kPad / 32), TritonPlan.cdiv(nPad, bs), stream, arena,
                    KernelArgs.builder().pointer(srcS).pointer(s).i32(n).i32(k / 32).i32(nPad).i32(kPad / 32));
        }
    }

    /** Device weights and biases after prepare (bias addresses 0 when the layer has none). */
    record Weights(long q13, long s13, long b13, long q2, long s2, long b2) {
    }

    /**
     * Queues one forward.
     *
     * @param t tokens
     * @param hidden BF16 [T, H] device address
     * @param logits router logits [T, E] device address, or 0 when ids and weights are given
     * @param logitsBf16 whether the logits are BF16 (else F32)
     * @param ids top-k ids [T, k] I32 (given, or scratch written by the routing kernel)
     * @param weights top-k weights [T, k] F32 (likewise)
     * @param out [T, H] device address
     * @param outF32 whether out is F32 (else BF16)
     */
    void forward(CudaStream stream, TritonScratch sc, Weights w, int t, long hidden, long logits, boolean logitsBf16,
                 long ids, long weights, long out, boolean outF32) {
        int k = spec.topK();
        int h = spec.hiddenSize();
        long rows = (long) t * k;
        String b = TritonPlan.bucket(rows, el);
        long tiles = TritonPlan.tilesMax(rows, el, bm(b));
        int hasBias = spec.hasBias() ? 1 : 0;
        try (Arena arena = Arena.ofConfined()) {
            if (logits != 0) {
                String route = "moe_route_" + (logitsBf16 ? "bf16" : "f32") + "_" + cls;
                modules.launch(route, TritonPlan.cdiv(t, modules.meta(route).constant("BT")), 1, stream, arena,
                        KernelArgs.builder().pointer(logits).pointer(ids).pointer(weights).i32(t)
                                .i32(spec.experts()).i32(k));
            }
            modules.launch("moe_align_" + b + "_" + cls, 1, 1, stream, arena, KernelArgs.builder().pointer(ids)
                    .i32((int) rows).i32(e0).i32(el).pointer(sc.sorted).pointer(sc.tileExpert).pointer(sc.info)
                    .i32((int) tiles));
            String g1 = gemm1(b);
            int bn1 = modules.meta(g1).constant("BN");
            DeviceBuffer c1 = fused ? sc.inter : sc.gateUp;
            modules.launch(g1, tiles, TritonPlan.cdiv(2L * ip, bn1), stream, arena, gemmArgs(hidden, h, k, h, sc)
                    .pointer(w.q13()).pointer(w.s13()).pointer(w.b13()).i32(hasBias).pointer(0L).pointer(c1)
                    .i32(fused ? ip : 2 * ip).i32(2 * ip).i32(2 * ip).i32(hp).f32(alpha).f32(limit));
            if (!fused) {
                String a = "moe_act_" + act;
                modules.launch(a, rows, TritonPlan.cdiv(ip, modules.meta(a).constant("BC")), stream, arena,
                        KernelArgs.builder().pointer(sc.gateUp).pointer(sc.inter).i32((int) rows).i32(ip).f32(alpha)
                                .f32(limit));
            }
            String g2 = "moe_gemm2_" + b;
            int bn2 = modules.meta(g2).constant("BN");
            modules.launch(g2, tiles, TritonPlan.cdiv(h, bn2), stream, arena, gemmArgs(sc.inter.address(), ip, 1, ip, sc)
                    .pointer(w.q2()).pointer(w.s2()).pointer(w.b2()).i32(hasBias).pointer(weights).pointer(sc.y)
                    .i32(h).i32(h).i32(hp).i32(ip).f32(alpha).f32(limit));
            String red = "moe_reduce_" + (outF32 ? "f32" : "bf16");
            modules.launch(red, t, TritonPlan.cdiv(h, modules.meta(red).constant("BH")), stream, arena,
                    KernelArgs.builder().pointer(sc.y).pointer(ids).pointer(out).i32(h).i32(k).i32(e0).i32(el));
        }
    }

    private KernelArgs.Builder gemmArgs(long a, int strideA, int aDiv, int ka, TritonScratch sc) {
        return KernelArgs.builder().pointer(a).i32(strideA).i32(aDiv).i32(ka).pointer(sc.sorted)
                .pointer(sc.tileExpert).pointer(sc.info).i32(ep);
    }

    /** Queues the F32 -> BF16 conversion of n values. */
    void convert(CudaStream stream, long src, long dst, long n) {
        try (Arena arena = Arena.ofConfined()) {
            modules.launch("moe_f32_to_bf16", TritonPlan.cdiv(n, modules.meta("moe_f32_to_bf16").constant("B")), 1,
                    stream, arena, KernelArgs.builder().pointer(src).pointer(dst).i64(n));
        }
    }
}
