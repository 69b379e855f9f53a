package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;

/**
 * Device scratch of one marlin kernel, grow-only: routing results, the expert-sorted row list, the
 * FP32 accumulator, the intermediate activations and the staging buffers for host tensors.
 * Callers hold the kernel's lock.
 */
final class MarlinScratch {
    private final CudaContext context;
    private final MoeLayerSpec spec;
    private final boolean batched;
    private final int el;
    private final int ip;

    DeviceBuffer topkIds;
    DeviceBuffer topkW;
    DeviceBuffer sorted;
    DeviceBuffer tileExpert;
    DeviceBuffer numTiles;
    DeviceBuffer acc;
    DeviceBuffer inter;
    DeviceBuffer hiddenBf16;
    DeviceBuffer stageLogits;
    DeviceBuffer stageIds;
    DeviceBuffer stageW;
    DeviceBuffer stageOut;
    private long rowsCap = -1;
    private long accRowsCap = -1;
    private long inputRowsCap = -1;

    MarlinScratch(CudaContext context, MoeLayerSpec spec, boolean batched) {
        this.context = context;
        this.spec = spec;
        this.batched = batched;
        this.el = spec.localExperts();
        this.ip = MarlinLayout.pad(spec.intermediateSize());
    }

    /**
     * @param inputRows rows of hidden / out (T, or E_local * Tb)
     * @param rows token-expert rows (T * k, or E_local * Tb)
     * @param accRows rows of the FP32 accumulator
     */
    void ensure(long inputRows, long rows, long accRows) {
        if (rows <= rowsCap && accRows <= accRowsCap && inputRows <= inputRowsCap) {
            return;
        }
        free();
        int h = spec.hiddenSize();
        long sortedLen = MarlinPlan.sortedRowsMax(rows, el);
        topkIds = alloc(rows * 4);
        topkW = alloc(rows * 4);
        sorted = alloc(sortedLen * 4);
        tileExpert = alloc(MarlinPlan.tileListMax(rows, el) * 4);
        numTiles = alloc(4);
        acc = alloc(accRows * h * 4);
        inter = alloc(sortedLen * ip * 2);
        hiddenBf16 = alloc(inputRows * h * 2);
        long tokens = batched ? 0 : inputRows;
        stageLogits = alloc(tokens * spec.experts() * 4);
        stageIds = alloc(Math.max(rows, el) * 4);
        stageW = alloc(rows * 4);
        stageOut = alloc(inputRows * h * 4);
        rowsCap = rows;
        accRowsCap = accRows;
        inputRowsCap = inputRows;
    }

    private DeviceBuffer alloc(long bytes) {
        return context.allocate(Math.max(256, bytes));
    }

    void free() {
        for (DeviceBuffer b : new DeviceBuffer[] {topkIds, topkW, sorted, tileExpert, numTiles, acc, inter,
                hiddenBf16, stageLogits, stageIds, stageW, stageOut}) {
            if (b != null) {
                b.close();
            }
        }
        topkIds = topkW = sorted = tileExpert = numTiles = acc = inter = hiddenBf16 = null;
        stageLogits = stageIds = stageW = stageOut = null;
        rowsCap = accRowsCap = inputRowsCap = -1;
    }
}
