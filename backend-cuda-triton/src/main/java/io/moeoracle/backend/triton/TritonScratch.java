package io.moeoracle.backend.triton;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;

/**
 * Device scratch of one {@link TritonKernel}, sized once in prepare for {@code maxTokensPerCall}
 * (never allocated inside a forward that may be captured).
 */
final class TritonScratch implements AutoCloseable {
    final DeviceBuffer ids;
    final DeviceBuffer weights;
    final DeviceBuffer sorted;
    final DeviceBuffer tileExpert;
    final DeviceBuffer info;
    final DeviceBuffer inter;
    final DeviceBuffer gateUp;
    final DeviceBuffer y;
    final DeviceBuffer partial1;
    final DeviceBuffer partial2;
    final DeviceBuffer hiddenBf16;
    final DeviceBuffer stageLogits;
    final DeviceBuffer stageIds;
    final DeviceBuffer stageWeights;
    final DeviceBuffer stageOut;
    private final DeviceBuffer[] all;

    /**
     * @param context the kernel's context
     * @param tokens maxTokensPerCall
     * @param topK k
     * @param experts E (router logits width)
     * @param hidden H
     * @param interPad I padded to 64
     * @param tilesMax the most M tiles any bucket can need
     * @param infoLen ints of the per-expert info block (3 x the alignment kernel's bins)
     * @param unfused whether the gate/up intermediate of the unfused activation is needed
     * @param splitElems FP32 elements of the GEMM1 and GEMM2 split-K partial slabs
     */
    TritonScratch(CudaContext context, long tokens, int topK, int experts, int hidden, int interPad, long tilesMax,
                  int infoLen, boolean unfused, long[] splitElems) {
        long rows = tokens * topK;
        ids = alloc(context, rows * 4);
        weights = alloc(context, rows * 4);
        sorted = alloc(context, rows * 4);
        tileExpert = alloc(context, tilesMax * 4);
        info = alloc(context, infoLen * 4L);
        inter = alloc(context, rows * interPad * 2);
        gateUp = alloc(context, unfused ? rows * interPad * 4 : 0);
        y = alloc(context, rows * hidden * 2);
        partial1 = alloc(context, splitElems[0] * 4);
        partial2 = alloc(context, splitElems[1] * 4);
        hiddenBf16 = alloc(context, tokens * hidden * 2);
        stageLogits = alloc(context, tokens * experts * 4);
        stageIds = alloc(context, rows * 4);
        stageWeights = alloc(context, rows * 4);
        stageOut = alloc(context, tokens * hidden * 4);
        all = new DeviceBuffer[] {ids, weights, sorted, tileExpert, info, inter, gateUp, y, partial1, partial2,
                hiddenBf16, stageLogits,
                stageIds, stageWeights, stageOut};
    }

    private static DeviceBuffer alloc(CudaContext context, long bytes) {
        return context.allocate(Math.max(256, bytes));
    }

    @Override
    public void close() {
        for (DeviceBuffer b : all) {
            b.close();
        }
    }
}
