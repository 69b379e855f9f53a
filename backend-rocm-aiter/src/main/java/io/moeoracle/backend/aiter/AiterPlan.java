package io.moeoracle.backend.aiter;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The host side of one forward, independent of the GPU API: scratch sizes, launch grids and the
 * kernels' argument lists, in the order aiter_moe.hip documents. {@link AiterKernel} runs the
 * launches through driver-hip on AMD (wave 64); the gpu test runs the very same list through
 * driver-cuda on the CUDA build of the same source (warp 32), so this class is checked on hardware too.
 *
 * @param spec the layer
 * @param fp8 true for aiter-fp8 (E4M3 activations, one scale per row), false for BF16 activations
 * @param wave lanes per GEMM block: 64 on AMD (one wave), 32 on NVIDIA (one warp)
 */
record AiterPlan(MoeLayerSpec spec, boolean fp8, int wave) {
    /** Rows (token assignments) per GEMM tile; experts' row counts are padded to a multiple. */
    static final int BM = 32;
    /** Output columns per GEMM tile. */
    static final int BN = 32;
    /** Reduction step: one MXFP4 scale block. */
    static final int BK = 32;
    /** Threads of the alignment kernel's one block. */
    static final int ALIGN_THREADS = 256;
    /** The alignment kernel keeps two counters per local expert in shared memory. */
    static final int MAX_LOCAL_EXPERTS = 1024;
    /** Threads per block of the routing kernel (one token each). */
    static final int TOPK_THREADS = 64;
    /** Threads per block of the row quantizer and the reduction. */
    static final int ROW_THREADS = 256;
    /** Largest grid y a launch may use on both APIs. */
    static final int MAX_GRID_Y = 65_535;

    AiterPlan {
        if (wave != 32 && wave != 64) {
            throw new IllegalArgumentException("wave size must be 32 or 64, got " + wave);
        }
    }

    /**
     * The most 32-row blocks the alignment can produce: each expert with {@code n > 0} assignments
     * takes {@code ceil(n / BM) = floor((n + BM - 1) / BM)} blocks, and a sum of floors is at most the
     * floor of the sum, so at most {@code floor((slots + min(El, slots) * (BM - 1)) / BM)}.
     *
     * @param slots token-expert assignments ({@code T * k})
     * @param localExperts experts on this rank
     * @return the bound, the GEMMs' grid y
     */
    static int maxBlocks(long slots, int localExperts) {
        long padded = slots + Math.min(localExperts, slots) * (BM - 1L);
        long blocks = padded / BM;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(slots + " assignments are too many for one call");
        }
        return (int) blocks;
    }

    /** @return whether every call up to {@code maxTokensPerCall} fits the launch limits */
    boolean fitsGrid() {
        return maxBlocks((long) spec.maxTokensPerCall() * spec.topK(), spec.localExperts()) <= MAX_GRID_Y;
    }

    /**
     * Bytes of each scratch buffer for a call of {@code tokens} tokens.
     *
     * @param ids routing ids [T*k] I32 (written by the routing kernel, or the caller's copy)
     * @param weights routing weights [T*k] F32
     * @param sorted padded row -> assignment slot [maxBlocks*BM] I32
     * @param blockExpert block -> local expert [maxBlocks] I32
     * @param numBlocks blocks used [1] I32
     * @param inter activated intermediate [maxBlocks*BM, I] F32
     * @param y second GEMM per assignment [T*k, H] F32
     * @param xq FP8 hidden [T, H] (fp8 only, else 0)
     * @param xs FP8 hidden scales [T] F32 (fp8 only)
     * @param interq FP8 intermediate [maxBlocks*BM, I] (fp8 only)
     * @param inters FP8 intermediate scales [maxBlocks*BM] F32 (fp8 only)
     */
    record Scratch(long ids, long weights, long sorted, long blockExpert, long numBlocks, long inter, long y,
                   long xq, long xs, long interq, long inters) {
        /** @return all bytes */
        long total() {
            return ids + weights + sorted + blockExpert + numBlocks + inter + y + xq + xs + interq + inters;
        }
    }

    /**
     * @param tokens T
     * @return the scratch sizes
     */
    Scratch scratch(int tokens) {
        long slots = (long) tokens * spec.topK();
        long rows = (long) maxBlocks(slots, spec.localExperts()) * BM;
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        return new Scratch(4 * slots, 4 * slots, 4 * rows, 4 * (rows / BM), 4, 4 * rows * i, 4 * slots * h,
                fp8 ? tokens * h : 0, fp8 ? 4L * tokens : 0, fp8 ? rows * i : 0, fp8 ? 4 * rows : 0);
    }

    /** One kernel argument. */
    sealed interface Arg {
        /** @param address a device address, 0 for null */
        record Ptr(long address) implements Arg {
        }

        /** @param value an int */
        record I32(int value) implements Arg {
        }

        /** @param value a float */
        record F32(float value) implements Arg {
        }
    }

    /**
     * One launch: 1-D blocks of {@code block} threads on a {@code gridX x gridY} grid.
     *
     * @param kernel the {@code extern "C"} name in aiter_moe.hip
     * @param gridX blocks in x
     * @param gridY blocks in y
     * @param block threads per block
     * @param args the arguments, in the kernel's order
     */
    record Launch(String kernel, int gridX, int gridY, int block, List<Arg> args) {
        Launch {
            args = List.copyOf(args);
        }
    }

    /**
     * Device addresses of one call. {@code logits} is 0 when the caller gives top-k ids and weights
     * (then {@code ids}/{@code weights} are the caller's); biases are 0 without biases.
     */
    record Buffers(long hidden, boolean hiddenF32, long logits, boolean logitsBf16, long out, boolean outF32,
                   long w13, long w13Scales, long b13, boolean b13F32, long w2, long w2Scales, long b2, boolean b2F32,
                   long ids, long weights, long sorted, long blockExpert, long numBlocks, long inter, long y,
                   long xq, long xs, long interq, long inters) {
    }

    /**
     * The launches of one forward over {@code tokens} tokens.
     *
     * @param tokens T, at least 1
     * @param b the addresses
     * @return the launches, in order
     */
    List<Launch> launches(int tokens, Buffers b) {
        int k = spec.topK();
        int el = spec.localExperts();
        int first = spec.expertParallelRank() * el;
        int h = spec.hiddenSize();
        int inter = spec.intermediateSize();
        long slots = (long) tokens * k;
        int maxBlocks = maxBlocks(slots, el);
        List<Launch> out = new ArrayList<>();
        if (b.logits() != 0) {
            out.add(new Launch("moe_topk_softmax", ceilDiv(tokens, TOPK_THREADS), 1, TOPK_THREADS, List.of(
                    ptr(b.logits()), i32(b.logitsBf16() ? 1 : 0), i32(tokens), i32(spec.experts()), i32(k),
                    ptr(b.ids()), ptr(b.weights()))));
        }
        out.add(new Launch("moe_align", 1, 1, ALIGN_THREADS, List.of(ptr(b.ids()), i32((int) slots), i32(first),
                i32(el), ptr(b.sorted()), ptr(b.blockExpert()), ptr(b.numBlocks()))));
        Activation act = spec.activation();
        int actKind = switch (act) {
            case Activation.SwigluOai s -> 0;
            case Activation.Silu s -> 1;
            case Activation.Gelu g -> 2;
        };
        float alpha = act instanceof Activation.SwigluOai s ? (float) s.alpha() : 0f;
        float limit = act instanceof Activation.SwigluOai s ? (float) s.limit() : 0f;
        String suffix = fp8 ? "_fp8" : "_bf16";
        if (fp8) {
            out.add(new Launch("moe_quant_rows", tokens, 1, ROW_THREADS, List.of(ptr(b.hidden()),
                    i32(b.hiddenF32() ? 1 : 0), i32(h), ptr(0), ptr(b.xq()), ptr(b.xs()))));
        }
        out.add(new Launch("moe_gemm1" + suffix, 2 * inter / BN, maxBlocks, wave, List.of(
                ptr(fp8 ? b.xq() : b.hidden()), i32(b.hiddenF32() ? 1 : 0), ptr(fp8 ? b.xs() : 0),
                ptr(b.w13()), ptr(b.w13Scales()), ptr(b.b13()), i32(b.b13F32() ? 1 : 0),
                ptr(b.sorted()), ptr(b.blockExpert()), ptr(b.numBlocks()), i32(h), i32(2 * inter), i32(k),
                i32(actKind), f32(alpha), f32(limit), ptr(b.inter()))));
        if (fp8) {
            out.add(new Launch("moe_quant_rows", maxBlocks * BM, 1, ROW_THREADS, List.of(ptr(b.inter()), i32(1),
                    i32(inter), ptr(b.numBlocks()), ptr(b.interq()), ptr(b.inters()))));
        }
        out.add(new Launch("moe_gemm2" + suffix, h / BN, maxBlocks, wave, List.of(
                ptr(fp8 ? b.interq() : b.inter()), i32(1), ptr(fp8 ? b.inters() : 0),
                ptr(b.w2()), ptr(b.w2Scales()), ptr(b.b2()), i32(b.b2F32() ? 1 : 0),
                ptr(b.sorted()), ptr(b.blockExpert()), ptr(b.numBlocks()), i32(inter), i32(h), i32(k),
                i32(actKind), f32(alpha), f32(limit), ptr(b.y()))));
        out.add(new Launch("moe_reduce", (int) ceilDiv((long) tokens * h, ROW_THREADS), 1, ROW_THREADS, List.of(
                ptr(b.y()), ptr(b.ids()), ptr(b.weights()), i32(tokens), i32(k), i32(h), i32(first), i32(el),
                ptr(b.out()), i32(b.outF32() ? 1 : 0))));
        return List.copyOf(out);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static Arg ptr(long a) {
        return new Arg.Ptr(a);
    }

    private static Arg i32(int v) {
        return new Arg.I32(v);
    }

    private static Arg f32(float v) {
        return new Arg.F32(v);
    }
}
