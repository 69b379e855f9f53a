package io.moeoracle.backend.triton;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The launch sequence of one forward and of prepare's repack, over the variants of one kernel
 * instance. Every grid depends only on T (never on the routing), so the sequence can be captured.
 * Buckets whose GEMMs split K (buckets.json, decode sizes) write FP32 partial slabs that the
 * activation and the top-k reduce add up, so SwiGLU-OAI then runs in moe_act_split, not in GEMM1.
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
        boolean anySplit = false;
        for (String b : TritonPlan.BUCKETS) {
            modules.load("moe_align_" + b + "_" + cls);
            modules.load(gemm1(b));
            modules.load(gemm2(b));
            anySplit |= split1(b) > 1 || split2(b) > 1;
        }
        if (!fused) {
            modules.load("moe_act_" + act);
        }
        if (anySplit) {
            modules.load("moe_act_split_" + act);
            modules.load("moe_reduce_split_bf16");
            modules.load("moe_reduce_split_f32");
        }
        modules.load("moe_f32_to_bf16");
        modules.load("moe_repack_q");
        modules.load("moe_repack_s");
        this.ep = modules.meta("moe_align_" + TritonPlan.DECODE + "_" + cls).constant("EP");
    }

    private String gemm1(String bucket) {
        if (split1(bucket) > 1) {
            return "moe_gemm1_split_" + bucket; // FP32 partial slabs; the activation runs in moe_act_split
        }
        return (fused ? "moe_gemm1_swiglu_" : "moe_gemm1_raw_") + bucket;
    }

    private static String gemm2(String bucket) {
        return (split2(bucket) > 1 ? "moe_gemm2_split_" : "moe_gemm2_") + bucket;
    }

    private static int split1(String bucket) {
        return TritonImage.split(bucket, "g1");
    }

    private static int split2(String bucket) {
        return TritonImage.split(bucket, "g2");
    }

    /**
     * @param rows token-expert rows of the largest call
     * @return FP32 elements of the GEMM1 and GEMM2 split-K partial slabs the largest split bucket needs
     */
    long[] splitScratch(long rows) {
        long p1 = 0;
        long p2 = 0;
        for (String b : TritonPlan.BUCKETS) {
            long r = Math.min(rows, TritonPlan.maxRows(b, el));
            p1 = Math.max(p1, split1(b) > 1 ? split1(b) * r * 2 * ip : 0);
            p2 = Math.max(p2, split2(b) > 1 ? split2(b) * r * spec.hiddenSize() : 0);
        }
        return new long[] {p1, p2};
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
                int shift, DeviceBuffer q, DeviceBuffer s) {
        try (Arena arena = Arena.ofConfined()) {
            int bq = modules.meta("moe_repack_q").constant("B");
            modules.launch("moe_repack_q", (long) el * nPad, TritonPlan.cdiv(kPad / 2, bq), 1, stream, arena,
                    KernelArgs.builder().pointer(srcQ).pointer(q).i32(n).i32(k / 2).i32(nPad).i32(kPad / 2));
            int bs = modules.meta("moe_repack_s").constant("BN");
            modules.launch("moe_repack_s", (long) el * (kPad / 32), TritonPlan.cdiv(nPad, bs), 1, stream, arena,
                    KernelArgs.builder().pointer(srcS).pointer(s).i32(n).i32(k / 32).i32(nPad).i32(kPad / 32).i32(shift));
        }
    }

    /**
     * Device weights and biases after prepare (bias addresses 0 when the layer has none), and each
     * GEMM's accumulator scale {@code 2^-shift} undoing its scales' exponent shift (see {@link #scaleShift}).
     */
    record Weights(long q13, long s13, long b13, long q2, long s2, long b2, float accScale13, float accScale2) {
    }

    /** The lowest scale code whose smallest decoded weight (E2M1 0.5 x 2^(code - 127)) is a normal BF16. */
    static final int LOWEST_NORMAL_CODE = 2;
    /** The highest scale code whose largest decoded weight (E2M1 6 x 2^(code - 127)) is a finite BF16. */
    static final int HIGHEST_FINITE_CODE = 252;

    /**
     * The exponent shift prepare adds to one weight tensor's E8M0 scale codes so that every decoded
     * weight is a normal, finite BF16 (the GEMM multiplies its FP32 accumulator by {@code 2^-shift});
     * 0 for real checkpoints. Code 255 (NaN) is left out.
     *
     * @param scales E8M0 codes of one weight tensor
     * @param what which tensor, for the message
     * @return the shift, within -2..2
     * @throws BadInputException when the codes span more than BF16's exponent range (no shift fits)
     */
    static int scaleShift(MemorySegment scales, String what) {
        int lo = 255;
        int hi = -1;
        long n = scales.byteSize();
        for (long i = 0; i < n; i++) {
            int c = scales.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            if (c != 255) {
                lo = Math.min(lo, c);
                hi = Math.max(hi, c);
            }
        }
        if (hi < 0) {
            return 0;
        }
        if (hi - lo > HIGHEST_FINITE_CODE - LOWEST_NORMAL_CODE) {
            throw new BadInputException(what + " E8M0 scale codes span " + lo + ".." + hi + ", more than the "
                    + (HIGHEST_FINITE_CODE - LOWEST_NORMAL_CODE) + " codes whose decoded MXFP4 weights are all "
                    + "normal BF16 values; the triton kernels would lose precision on them. Use the marlin or cpu"
                    + " backend for this layer, or check the checkpoint's scales");
        }
        if (lo < LOWEST_NORMAL_CODE) {
            return LOWEST_NORMAL_CODE - lo;
        }
        return hi > HIGHEST_FINITE_CODE ? HIGHEST_FINITE_CODE - hi : 0;
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
                modules.launch(route, TritonPlan.cdiv(t, modules.meta(route).constant("BT")), 1, 1, stream, arena,
                        KernelArgs.builder().pointer(logits).pointer(ids).pointer(weights).i32(t)
                                .i32(spec.experts()).i32(k));
            }
            modules.launch("moe_align_" + b + "_" + cls, 1, 1, 1, stream, arena, KernelArgs.builder().pointer(ids)
                    .i32((int) rows).i32(e0).i32(el).pointer(sc.sorted).pointer(sc.tileExpert).pointer(sc.info)
                    .i32((int) tiles));
            String g1 = gemm1(b);
            int s1 = split1(b);
            int bn1 = modules.meta(g1).constant("BN");
            int bk1 = modules.meta(g1).constant("BK");
            long k1 = TritonPlan.cdiv(hp / bk1, s1) * bk1;
            DeviceBuffer c1 = s1 > 1 ? sc.partial1 : fused ? sc.inter : sc.gateUp;
            int stride1 = s1 == 1 && fused ? ip : 2 * ip;
            modules.launch(g1, tiles, TritonPlan.cdiv(2L * ip, bn1), s1, stream, arena, gemmArgs(hidden, h, k, h, sc)
                    .pointer(w.q13()).pointer(w.s13()).pointer(w.b13()).i32(hasBias).pointer(0L).pointer(c1)
                    .i32(stride1).i32(2 * ip).i32(2 * ip).i32(hp).f32(alpha).f32(limit).f32(w.accScale13())
                    .i32((int) k1)
                    .i32((int) (rows * 2 * ip)));
            if (s1 > 1) {
                String a = "moe_act_split_" + act;
                modules.launch(a, rows, TritonPlan.cdiv(ip, modules.meta(a).constant("BC")), 1, stream, arena,
                        KernelArgs.builder().pointer(sc.partial1).pointer(sc.inter).i32((int) rows).i32(ip).i32(s1)
                                .i32((int) (rows * 2 * ip)).f32(alpha).f32(limit));
            } else if (!fused) {
                String a = "moe_act_" + act;
                modules.launch(a, rows, TritonPlan.cdiv(ip, modules.meta(a).constant("BC")), 1, stream, arena,
                        KernelArgs.builder().pointer(sc.gateUp).pointer(sc.inter).i32((int) rows).i32(ip).f32(alpha)
                                .f32(limit));
            }
            String g2 = gemm2(b);
            int s2 = split2(b);
            int bn2 = modules.meta(g2).constant("BN");
            int bk2 = modules.meta(g2).constant("BK");
            long k2 = TritonPlan.cdiv(ip / bk2, s2) * bk2;
            modules.launch(g2, tiles, TritonPlan.cdiv(h, bn2), s2, stream, arena,
                    gemmArgs(sc.inter.address(), ip, 1, ip, sc).pointer(w.q2()).pointer(w.s2()).pointer(w.b2())
                            .i32(hasBias).pointer(weights).pointer(s2 > 1 ? sc.partial2 : sc.y).i32(h).i32(h).i32(hp)
                            .i32(ip).f32(alpha).f32(limit).f32(w.accScale2()).i32((int) k2)
                            .i32((int) (rows * h)));
            String red = (s2 > 1 ? "moe_reduce_split_" : "moe_reduce_") + (outF32 ? "f32" : "bf16");
            KernelArgs.Builder ra = KernelArgs.builder().pointer(s2 > 1 ? sc.partial2 : sc.y).pointer(ids).pointer(out)
                    .i32(h).i32(k).i32(e0).i32(el);
            if (s2 > 1) {
                ra.i32(s2).i32((int) (rows * h));
            }
            modules.launch(red, t, TritonPlan.cdiv(h, modules.meta(red).constant("BH")), 1, stream, arena, ra);
        }
    }

    private KernelArgs.Builder gemmArgs(long a, int strideA, int aDiv, int ka, TritonScratch sc) {
        return KernelArgs.builder().pointer(a).i32(strideA).i32(aDiv).i32(ka).pointer(sc.sorted)
                .pointer(sc.tileExpert).pointer(sc.info).i32(ep);
    }

    /** Queues the F32 -> BF16 conversion of n values. */
    void convert(CudaStream stream, long src, long dst, long n) {
        try (Arena arena = Arena.ofConfined()) {
            modules.launch("moe_f32_to_bf16", TritonPlan.cdiv(n, modules.meta("moe_f32_to_bf16").constant("B")), 1, 1,
                    stream, arena, KernelArgs.builder().pointer(src).pointer(dst).i64(n));
        }
    }
}
