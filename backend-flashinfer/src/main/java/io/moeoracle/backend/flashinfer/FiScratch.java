package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Device scratch of one flashinfer kernel, allocated once in {@code prepare} for maxTokensPerCall
 * (never inside a forward that is being captured): routing results, the expert-sorted row list, the
 * FP32 accumulator {@code [T][H]}, the BF16 intermediate, the MXFP8 activations and scales (the FP8
 * provider) and the staging buffers for host tensors. Callers hold the kernel's lock.
 */
final class FiScratch {
    private final CudaContext context;
    private final MoeLayerSpec spec;
    private final boolean fp8;
    private final List<DeviceBuffer> all = new ArrayList<>();

    DeviceBuffer topkIds;
    DeviceBuffer topkW;
    DeviceBuffer sorted;
    DeviceBuffer tileExpert;
    DeviceBuffer numTiles;
    DeviceBuffer acc;
    /** GEMM1's output {@code [sorted][Ip]}: BF16, or F32 where the family's configuration says so. */
    DeviceBuffer inter;
    /** BF16 activations: F32 input converted (bf16 provider), or host BF16 input staged. */
    DeviceBuffer hiddenBf16;
    /** MXFP8 hidden rows {@code [T][Hp]} and their scales {@code [T][Hp/32]} (FP8 provider). */
    DeviceBuffer hiddenQ;
    DeviceBuffer hiddenS;
    /** MXFP8 intermediate rows {@code [sorted][Ip]} and scales (FP8 provider). */
    DeviceBuffer interQ;
    DeviceBuffer interS;
    DeviceBuffer stageLogits;
    DeviceBuffer stageIds;
    DeviceBuffer stageW;
    /** F32 {@code [T][H]}: host outputs, and host F32 activations on their way in. */
    DeviceBuffer stageOut;
    private long tokensCap = -1;

    FiScratch(CudaContext context, MoeLayerSpec spec, boolean fp8) {
        this.context = context;
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
        long b = 0;
        for (long x : sizes(spec, spec.maxTokensPerCall(), offered, fp8, fp8)) {
            b += Math.max(256, x);
        }
        return b;
    }

    /** Sizes in the order of {@link #ensure}'s allocations. */
    private static long[] sizes(MoeLayerSpec spec, long tokens, int[] offered, boolean fp8, boolean f32Inter) {
        int el = spec.localExperts();
        int h = spec.hiddenSize();
        int hp = FiLayout.pad(h);
        int ip = FiLayout.pad(spec.intermediateSize());
        long rows = tokens * spec.topK();
        long sortedLen = FiPlan.sortedRowsMax(rows, el, offered);
        return new long[] {rows * 4, rows * 4, sortedLen * 4, FiPlan.tileListMax(rows, el, offered) * 4, 4,
                tokens * h * 4, sortedLen * ip * (f32Inter ? 4 : 2), tokens * h * 2,
                fp8 ? tokens * hp : 0, fp8 ? tokens * hp / FiLayout.BLOCK : 0,
                fp8 ? sortedLen * ip : 0, fp8 ? sortedLen * ip / FiLayout.BLOCK : 0,
                tokens * spec.experts() * 4, Math.max(rows, el) * 4, rows * 4, tokens * h * 4};
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
        free();
        long[] s = sizes(spec, tokens, offered, fp8, f32Inter);
        int i = 0;
        topkIds = alloc(s[i++]);
        topkW = alloc(s[i++]);
        sorted = alloc(s[i++]);
        tileExpert = alloc(s[i++]);
        numTiles = alloc(s[i++]);
        acc = alloc(s[i++]);
        inter = alloc(s[i++]);
        hiddenBf16 = alloc(s[i++]);
        hiddenQ = alloc(s[i++]);
        hiddenS = alloc(s[i++]);
        interQ = alloc(s[i++]);
        interS = alloc(s[i++]);
        stageLogits = alloc(s[i++]);
        stageIds = alloc(s[i++]);
        stageW = alloc(s[i++]);
        stageOut = alloc(s[i]);
        tokensCap = tokens;
    }

    private DeviceBuffer alloc(long bytes) {
        DeviceBuffer b = context.allocate(Math.max(256, bytes));
        all.add(b);
        return b;
    }

    void free() {
        all.forEach(DeviceBuffer::close);
        all.clear();
        topkIds = topkW = sorted = tileExpert = numTiles = acc = inter = hiddenBf16 = null;
        hiddenQ = hiddenS = interQ = interS = stageLogits = stageIds = stageW = stageOut = null;
        tokensCap = -1;
    }
}
