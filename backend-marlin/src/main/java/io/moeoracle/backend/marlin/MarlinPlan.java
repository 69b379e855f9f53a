package io.moeoracle.backend.marlin;

/**
 * How one forward call is cut into launches: the M tile (rows of one expert per CTA), the grid
 * bound on tiles, and how far GEMM2 splits K. Pure arithmetic, so it is unit-tested on any machine.
 *
 * @param m rows per tile: 8 (the GEMV-style decode kernels), 16, 32, 64 or 128
 * @param tilesMax upper bound on the number of M tiles (grid y of both GEMMs)
 * @param splits GEMM2 split-K factor (partials meet in the FP32 atomic epilogue)
 * @param fusedRouting whether routing and alignment run as one single-CTA launch (decode sizes)
 */
record MarlinPlan(int m, int tilesMax, int splits, boolean fusedRouting) {
    /** The M tiles the fatbin has kernels for. */
    static final int[] M_TILES = {8, 16, 32, 64, 128};
    /** Warps per CTA of the M=8 (GEMV) kernels: {@code MOE_GEMV_WARPS} in marlin_moe.cu. */
    static final int GEMV_WARPS = 4;
    /** Up to this many rows per local expert on average, the M=8 (GEMV) kernels run. */
    static final double GEMV_MAX_ROWS_PER_EXPERT = 4;
    static final int M_MAX = 128;
    static final int MAX_GRID_Y = 65535;
    /** At most this many tokens use the fused single-CTA routing + alignment kernel. */
    static final int FUSED_ROUTING_MAX_TOKENS = 32;

    /**
     * @param rows token-expert rows (T * k, or E_local * maxTokens for the batched format)
     * @param localExperts E_local
     * @return the M tile, from timings on an H100 (gpt-oss-120b layer): 8 (GEMV kernels) up to 4 rows
     *     per expert on average, 16 up to 16, 32 up to 64, 128 beyond
     */
    static int chooseM(long rows, int localExperts) {
        double perExpert = (double) rows / localExperts;
        if (perExpert <= GEMV_MAX_ROWS_PER_EXPERT) {
            return 8;
        }
        if (perExpert <= 16) {
            return 16;
        }
        return perExpert <= 64 ? 32 : 128;
    }

    /** @return the most M tiles {@code rows} rows can need when each expert's segment is padded to M */
    static long tilesMax(long rows, int localExperts, int m) {
        return Math.min(localExperts, rows) + (rows + m - 1) / m;
    }

    /** @return the longest sorted-row list any M tile can need */
    static long sortedRowsMax(long rows, int localExperts) {
        long max = 0;
        for (int m : M_TILES) {
            max = Math.max(max, tilesMax(rows, localExperts, m) * m);
        }
        return max;
    }

    /** @return the longest tile list any M tile can need */
    static long tileListMax(long rows, int localExperts) {
        long max = 0;
        for (int m : M_TILES) {
            max = Math.max(max, tilesMax(rows, localExperts, m));
        }
        return max;
    }

    /**
     * @param rows token-expert rows of this call
     * @param localExperts E_local
     * @param hiddenPad H padded to the tile
     * @param interPad I padded to the tile
     * @param smemBytes dynamic shared memory of the chosen GEMM2 variant
     * @param sms multiprocessors on the device
     * @param standardTokens T for the standard format, -1 for batched
     * @param forcedM an M tile to use, or 0 to choose
     * @return the plan
     */
    static MarlinPlan of(long rows, int localExperts, int hiddenPad, int interPad, int smemBytes, int sms,
                         int standardTokens, int forcedM) {
        int m = forcedM != 0 ? forcedM : chooseM(rows, localExperts);
        while (tilesMax(rows, localExperts, m) > MAX_GRID_Y && m < M_MAX) {
            m *= 2;
        }
        long tiles = tilesMax(rows, localExperts, m);
        if (tiles > MAX_GRID_Y) {
            throw new IllegalArgumentException(rows + " rows need " + tiles + " tiles, more than the grid allows ("
                    + MAX_GRID_Y + "); pass fewer tokens per call");
        }
        // split GEMM2's K only while every CTA stays resident in one wave
        int perSm = Math.max(1, Math.min(16, (227 * 1024) / (smemBytes + 1024)));
        long est = Math.max(1, Math.min(localExperts, rows) * (hiddenPad / MarlinLayout.TILE));
        int maxSplits = Math.min(8, interPad / MarlinLayout.TILE);
        int splits = (int) Math.max(1, Math.min(maxSplits, (long) perSm * sms / est));
        if (m == 8) {
            // GEMV: keep at least two K chunks per warp, aim at about four CTAs per multiprocessor
            int gemvMax = Math.max(1, interPad / MarlinLayout.TILE / (2 * GEMV_WARPS));
            splits = (int) Math.max(1, Math.min(gemvMax, 4L * sms / est));
        }
        boolean fused = standardTokens >= 0 && standardTokens <= FUSED_ROUTING_MAX_TOKENS;
        return new MarlinPlan(m, (int) tiles, splits, fused);
    }
}
