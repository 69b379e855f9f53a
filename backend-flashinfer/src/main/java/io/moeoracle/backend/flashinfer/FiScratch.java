package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.launch.RoutedScratch;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;

/**
 * Device scratch of one flashinfer kernel, allocated once in {@code prepare} for maxTokensPerCall
 * (never inside a forward that is being captured): the buffers of cuda-moe's {@link RoutedScratch}
 * (routing results, the expert-sorted row list, the FP32 accumulator {@code [T][H]}, the intermediate,
 * BF16 activations, the staging buffers for host tensors) and the MXFP8 activations and scales of the
 * FP8 provider. Callers hold the kernel's lock.
 */
final class FiScratch extends RoutedScratch {
    private final MoeLayerSpec spec;
    private final boolean fp8;

    /** MXFP8 hidden rows {@code [T][Hp]} and their scales {@code [T][Hp/32]} (FP8 provider). */
    DeviceBuffer hiddenQ;
    DeviceBuffer hiddenS;
    /** MXFP8 intermediate rows {@code [sorted][Ip]} and scales (FP8 provider). */
    DeviceBuffer interQ;
    DeviceBuffer interS;
    private long tokensCap = -1;

    FiScratch(CudaContext context, MoeLayerSpec spec, boolean fp8) {
        super(context);
        this.spec = spec;
        this.fp8 = fp8;
    }

    /**
     * Device bytes of the scratch for maxTokensPerCall (the verdict's memory check uses it too, with an
     * F32 intermediate for the FP8 provider: the larger of the two).
     *
     * @param spec the layer
     * @param offered the M values the sorted-row list must hold
     * @param fp8 whether the MXFP8 buffers are included
     * @return bytes
     */
    static long bytes(MoeLayerSpec spec, int[] offered, boolean fp8) {
        long b = sizes(spec, spec.maxTokensPerCall(), offered, fp8).total();
        for (long x : fp8Sizes(spec, spec.maxTokensPerCall(), offered, fp8)) {
            b += Math.max(MIN_BYTES, x);
        }
        return b;
    }

    /** The shared buffers' sizes; GEMM1 writes an F32 intermediate with {@code f32Inter}, else BF16. */
    private static Sizes sizes(MoeLayerSpec spec, long tokens, int[] offered, boolean f32Inter) {
        int el = spec.localExperts();
        int ip = FiLayout.pad(spec.intermediateSize());
        long rows = tokens * spec.topK();
        long sortedLen = FiPlan.sortedRowsMax(rows, el, offered);
        return new Sizes(rows, sortedLen, FiPlan.tileListMax(rows, el, offered), tokens, tokens, spec.hiddenSize(),
                sortedLen * ip * (f32Inter ? 4 : 2), tokens, spec.experts(), el);
    }

    /** The MXFP8 buffers' sizes in the order {@link #ensure} allocates them (0 without {@code fp8}). */
    private static long[] fp8Sizes(MoeLayerSpec spec, long tokens, int[] offered, boolean fp8) {
        if (!fp8) {
            return new long[4];
        }
        int hp = FiLayout.pad(spec.hiddenSize());
        int ip = FiLayout.pad(spec.intermediateSize());
        long sortedLen = FiPlan.sortedRowsMax(tokens * spec.topK(), spec.localExperts(), offered);
        return new long[] {tokens * hp, tokens * hp / FiLayout.BLOCK, sortedLen * ip, sortedLen * ip / FiLayout.BLOCK};
    }

    /**
     * Allocates the scratch for up to {@code tokens} tokens per call (grow-only).
     *
     * @param tokens T
     * @param offered the M values the family offers
     * @param f32Inter whether GEMM1 writes an F32 intermediate (else BF16)
     */
    void ensure(long tokens, int[] offered, boolean f32Inter) {
        if (tokens <= tokensCap) {
            return;
        }
        allocate(sizes(spec, tokens, offered, f32Inter));
        long[] q = fp8Sizes(spec, tokens, offered, fp8);
        hiddenQ = allocate(q[0]);
        hiddenS = allocate(q[1]);
        interQ = allocate(q[2]);
        interS = allocate(q[3]);
        tokensCap = tokens;
    }

    @Override
    public void free() {
        super.free();
        hiddenQ = hiddenS = interQ = interS = null;
        tokensCap = -1;
    }
}
