package io.moeoracle.ep;

/**
 * How the all-to-all path runs its local experts in the batched format {@code [E_local, tc, H]}: the
 * busiest local expert has {@code maxLoad} rows; batches hold {@code tc} rows per expert, at most as
 * many as fit the memory budget, and {@code chunks} calls of the batched kernel cover the busiest
 * expert (one call unless an expert is hot). Pure arithmetic, tested on any machine.
 *
 * @param maxLoad rows of the busiest local expert this forward
 * @param tableRows slots per expert in the row table ({@code maxLoad} rounded up)
 * @param chunkRows rows per expert of one batched call ({@code tc})
 * @param chunks batched calls
 */
public record EpBatchPlan(int maxLoad, int tableRows, int chunkRows, int chunks) {
    /** Batches are sized in multiples of this many rows, so that a little more load reuses the buffers. */
    public static final int GRANULE = 64;

    /**
     * @param maxLoad rows of the busiest local expert
     * @param localExperts E_local
     * @param bytesPerRow device bytes one batch row costs (inputs, outputs and the kernel's scratch)
     * @param budgetBytes device bytes the batches may take
     * @param maxRows the most rows per expert one call may take (the batched kernel's {@code maxTokensPerCall})
     * @return the plan; no chunks when no row came to this rank
     */
    public static EpBatchPlan of(int maxLoad, int localExperts, long bytesPerRow, long budgetBytes, int maxRows) {
        if (maxLoad < 0 || localExperts < 1 || bytesPerRow < 1 || maxRows < 1) {
            throw new IllegalArgumentException("maxLoad " + maxLoad + ", localExperts " + localExperts + ", bytesPerRow "
                    + bytesPerRow + ", maxRows " + maxRows + ": need maxLoad >= 0 and the rest >= 1");
        }
        if (maxLoad == 0) {
            return new EpBatchPlan(0, 0, 0, 0);
        }
        int table = roundUp(maxLoad);
        long fit = budgetBytes / ((long) localExperts * bytesPerRow);
        long byBudget = Math.max(GRANULE, fit / GRANULE * GRANULE);
        int tc = (int) Math.min(Math.min(table, byBudget), maxRows);
        int chunks = (maxLoad + tc - 1) / tc;
        return new EpBatchPlan(maxLoad, table, tc, chunks);
    }

    /**
     * Device bytes one row of the batched format costs: the BF16 input and F32 output rows of the
     * batch, and what a marlin-style batched kernel keeps per row (F32 accumulator, BF16 copy of the
     * input, F32 staging, the BF16 intermediate); an estimate for other kernels.
     *
     * @param hidden H
     * @param intermediate I
     * @return bytes
     */
    public static long bytesPerRow(int hidden, int intermediate) {
        return 16L * hidden + 2L * intermediate + 64;
    }

    static int roundUp(int n) {
        return (int) Math.min(Integer.MAX_VALUE, ((long) n + GRANULE - 1) / GRANULE * GRANULE);
    }
}
