package io.moeoracle.cuda.moe.launch;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * The launches around the GEMMs that the CUDA backends' images share, with the same arguments under
 * each backend's prefix ({@code moe_}, {@code fi_}): routing (top-k + softmax of the logits, or given
 * top-k), alignment (rows sorted by expert, padded to the M tile), both fused for decode-sized calls,
 * zeroing and finalizing the FP32 accumulator, and the F32-to-BF16 conversion of the activations. Each
 * writes into the kernel's {@link RoutedScratch}; callers hold the kernel's lock.
 */
public final class RoutingLaunches {
    /** The functions' full names, made once: a forward launches them without building strings. */
    private final String route;
    private final String align;
    private final String routeAlign;
    private final String finalizeFn;
    private final String zero;
    private final String f32ToBf16;
    private final MoeLayerSpec spec;
    private final RoutedScratch scratch;
    private final Launcher launcher;
    private final int el;
    private final int e0;

    /** Launches a function of the kernel's loaded image on the kernel's stream. */
    @FunctionalInterface
    public interface Launcher {
        /**
         * @param function the function's name in the image
         * @param config grid, block and shared memory
         * @param args the packed arguments
         */
        void launch(String function, LaunchConfig config, KernelArgs args);
    }

    /**
     * @param prefix the image's prefix of these functions ({@code moe_}, {@code fi_})
     * @param spec the layer
     * @param scratch the kernel's scratch
     * @param launcher the kernel's launcher (it has looked up {@link #functions})
     */
    public RoutingLaunches(String prefix, MoeLayerSpec spec, RoutedScratch scratch, Launcher launcher) {
        Objects.requireNonNull(prefix, "prefix");
        this.route = prefix + "route";
        this.align = prefix + "align";
        this.routeAlign = prefix + "route_align";
        this.finalizeFn = prefix + "finalize";
        this.zero = prefix + "zero";
        this.f32ToBf16 = prefix + "f32_to_bf16";
        this.spec = Objects.requireNonNull(spec, "spec");
        this.scratch = Objects.requireNonNull(scratch, "scratch");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.el = spec.localExperts();
        this.e0 = spec.expertParallelRank() * el;
    }

    /**
     * @param prefix the image's prefix
     * @return the functions these launches need from the image
     */
    public static List<String> functions(String prefix) {
        return List.of(prefix + "route", prefix + "align", prefix + "route_align", prefix + "finalize", prefix + "zero",
                prefix + "f32_to_bf16");
    }

    /** Routing (top-k + softmax, or given top-k) and alignment in one launch, for decode-sized calls. */
    public void routeAlign(Arena arena, long logits, int logitsBf16, long ids, long weights, int t, int m) {
        launcher.launch(routeAlign, LaunchConfig.of(1, 1024), KernelArgs.builder().pointer(logits)
                .i32(logitsBf16).pointer(ids).pointer(weights).i32(t).i32(spec.experts()).i32(spec.topK())
                .pointer(scratch.topkIds()).pointer(scratch.topkW()).pointer(scratch.acc()).i32(spec.hiddenSize())
                .i32(el).i32(e0).i32(m).pointer(scratch.sorted()).pointer(scratch.tileExpert())
                .pointer(scratch.numTiles()).build(arena));
    }

    /** Routing into the top-k scratch (and zeroing the accumulator rows of these tokens). */
    public void route(Arena arena, long logits, int logitsBf16, long ids, long weights, int t) {
        launcher.launch(route, LaunchConfig.of((t + 3) / 4, 128), KernelArgs.builder().pointer(logits)
                .i32(logitsBf16).pointer(ids).pointer(weights).i32(t).i32(spec.experts()).i32(spec.topK())
                .pointer(scratch.topkIds()).pointer(scratch.topkW()).pointer(scratch.acc()).i32(spec.hiddenSize())
                .build(arena));
    }

    /**
     * Alignment: rows sorted by expert and padded to the M tile, from top-k ids or from per-expert batch counts.
     *
     * @param topkIds the routed experts (0 for the batched format)
     * @param nIds token-expert rows
     * @param batchCounts the batched format's counts per local expert (else 0)
     * @param maxT the batched format's tokens per expert (else 0)
     * @param m the M tile
     */
    public void align(Arena arena, long topkIds, int nIds, long batchCounts, int maxT, int m) {
        launcher.launch(align, LaunchConfig.of(1, 1024), KernelArgs.builder().pointer(topkIds).i32(nIds)
                .pointer(batchCounts).i32(maxT).i32(el).i32(e0).i32(m).pointer(scratch.sorted())
                .pointer(scratch.tileExpert()).pointer(scratch.numTiles()).build(arena));
    }

    /** Zeroes {@code n} floats of the accumulator. */
    public void zeroAcc(Arena arena, long n) {
        launcher.launch(zero, LaunchConfig.covering(n / 4, 256), KernelArgs.builder().pointer(scratch.acc())
                .i64(n).build(arena));
    }

    /** Converts {@code n} floats of the accumulator into the output (F32 or BF16) at {@code out}. */
    public void finalizeOut(Arena arena, long n, long out, boolean outBf16) {
        launcher.launch(finalizeFn, LaunchConfig.covering(n / 4, 256), KernelArgs.builder()
                .pointer(scratch.acc()).pointer(out).i32(outBf16 ? 1 : 0).i64(n).build(arena));
    }

    /** Converts {@code n} F32 activations at {@code src} into the BF16 scratch. */
    public void convertHidden(long src, long n) {
        try (Arena arena = Arena.ofConfined()) {
            launcher.launch(f32ToBf16, LaunchConfig.covering(n, 256), KernelArgs.builder().pointer(src)
                    .pointer(scratch.hiddenBf16()).i64(n).build(arena));
        }
    }
}
