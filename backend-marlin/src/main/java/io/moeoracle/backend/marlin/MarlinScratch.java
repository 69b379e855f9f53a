package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.launch.RoutedScratch;
import io.moeoracle.driver.cuda.CudaContext;

/**
 * Device scratch of one marlin kernel, grow-only: the buffers of cuda-moe's {@link RoutedScratch}
 * (routing results, the expert-sorted row list, the FP32 accumulator, the BF16 intermediate, the BF16
 * activations and the staging buffers for host tensors), sized for the marlin tiles. Callers hold the
 * kernel's lock.
 */
final class MarlinScratch extends RoutedScratch {
    private final MoeLayerSpec spec;
    private final boolean batched;
    private final int el;
    private final int ip;
    private long rowsCap = -1;
    private long accRowsCap = -1;
    private long inputRowsCap = -1;

    MarlinScratch(CudaContext context, MoeLayerSpec spec, boolean batched) {
        super(context);
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
        long sortedLen = MarlinPlan.sortedRowsMax(rows, el);
        allocate(new Sizes(rows, sortedLen, MarlinPlan.tileListMax(rows, el), accRows, inputRows, spec.hiddenSize(),
                sortedLen * ip * 2, batched ? 0 : inputRows, spec.experts(), el));
        rowsCap = rows;
        accRowsCap = accRows;
        inputRowsCap = inputRows;
    }

    @Override
    public void free() {
        super.free();
        rowsCap = accRowsCap = inputRowsCap = -1;
    }
}
