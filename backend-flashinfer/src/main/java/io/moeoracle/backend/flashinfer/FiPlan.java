package io.moeoracle.backend.flashinfer;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/**
 * How one forward call is cut into launches: the M tile (rows of one expert per tile), the bound on
 * tiles that sizes the grids and the scratch, GEMM2's K split, and whether routing and alignment run
 * as one launch. Pure arithmetic, unit-tested on any machine.
 *
 * @param m rows per tile, one of the family's offered M values
 * @param tilesMax upper bound on the number of M tiles (grid y of a non-persistent GEMM)
 * @param splits GEMM2's split-K factor (partials meet in the FP32 atomic epilogue)
 * @param fusedRouting whether routing and alignment run as one single-CTA launch (decode sizes)
 */
record FiPlan(int m, int tilesMax, int splits, boolean fusedRouting) {
    /** The M values Java probes the image for (ABI.md); a family offers some of them. */
    static final int[] M_PROBE = {8, 16, 32, 64, 128, 256};
    /** The grid's y limit (non-persistent GEMMs put the M tiles there). */
    static final int MAX_GRID_Y = 65535;
    /** At most this many tokens use the fused single-CTA routing + alignment kernel. */
    static final int FUSED_ROUTING_MAX_TOKENS = 32;
    /** GEMM2 splits K at most this many ways. */
    static final int MAX_SPLITS = 8;

    /**
     * The M tile: the first offered M whose bound holds the average local expert's rows (by default the
     * bound is M itself: the tile holds them), so that decode calls pad little and prefill calls get the
     * widest tiles; the largest M when none does.
     *
     * @param rows token-expert rows of this call (T * k)
     * @param localExperts E_local
     * @param offered the M values, ascending
     * @param bound the most rows per expert each M is chosen for (a family's measured rule, or M)
     * @return the M tile
     */
    static int chooseM(long rows, int localExperts, int[] offered, IntUnaryOperator bound) {
        double perExpert = (double) rows / localExperts;
        for (int m : offered) {
            if (bound.applyAsInt(m) >= perExpert) {
                return m;
            }
        }
        return offered[offered.length - 1];
    }

    /** {@link #chooseM(long, int, int[], IntUnaryOperator)} with each M holding up to M rows. */
    static int chooseM(long rows, int localExperts, int[] offered) {
        return chooseM(rows, localExperts, offered, m -> m);
    }

    /** @return the most M tiles {@code rows} rows can need when each expert's segment is padded to M */
    static long tilesMax(long rows, int localExperts, int m) {
        return Math.min(localExperts, rows) + (rows + m - 1) / m;
    }

    /** @return the longest sorted-row list any offered M can need (the scratch is sized once, for all) */
    static long sortedRowsMax(long rows, int localExperts, int[] offered) {
        return Arrays.stream(offered).mapToLong(m -> tilesMax(rows, localExperts, m) * m).max().orElseThrow();
    }

    /** @return the longest tile list any offered M can need */
    static long tileListMax(long rows, int localExperts, int[] offered) {
        return Arrays.stream(offered).mapToLong(m -> tilesMax(rows, localExperts, m)).max().orElseThrow();
    }

    /**
     * @param rows token-expert rows of this call (T * k)
     * @param localExperts E_local
     * @param offered the M values, ascending
     * @param bound the most rows per expert each M is chosen for ({@link #chooseM})
     * @param forcedM an offered M to use, or 0 to choose
     * @param gemm2 GEMM2's configuration for an M
     * @param hiddenPad H padded (GEMM2's N)
     * @param interPad I padded (GEMM2's K)
     * @param sms multiprocessors on the device
     * @param tokens T
     * @return the plan
     * @throws IllegalArgumentException when even the largest M needs more tiles than a grid holds
     */
    static FiPlan of(long rows, int localExperts, int[] offered, IntUnaryOperator bound, int forcedM,
                     IntFunction<FiConfig> gemm2, int hiddenPad, int interPad, int sms, int tokens) {
        int m = forcedM != 0 ? forcedM : chooseM(rows, localExperts, offered, bound);
        int at = Arrays.binarySearch(offered, m);
        if (at < 0) {
            throw new IllegalArgumentException("M tile " + m + " is not one of the family's " + Arrays.toString(offered));
        }
        FiConfig c = gemm2.apply(m);
        while (!c.persistent() && tilesMax(rows, localExperts, m) > MAX_GRID_Y && at + 1 < offered.length) {
            m = offered[++at];
            c = gemm2.apply(m);
        }
        long tiles = tilesMax(rows, localExperts, m);
        if (!c.persistent() && tiles > MAX_GRID_Y) {
            throw new IllegalArgumentException(rows + " token-expert rows need " + tiles + " tiles of " + m
                    + " rows, more than a grid holds (" + MAX_GRID_Y + "); pass fewer tokens per call");
        }
        // split GEMM2's K while the CTAs of the tiles likely in use still fit in one wave, each split
        // keeping the family's minimum of K (none for families that never split)
        long expectedTiles = Math.max(Math.min(localExperts, rows), (rows + m - 1) / m);
        long ctas = Math.max(1, expectedTiles * c.nTiles(hiddenPad));
        long resident = (long) Math.max(1, c.persistent() ? c.persistentPerSm() : c.residentPerSm()) * sms;
        int maxSplits = c.minKPerSplit() <= 0 ? 1 : Math.max(1, Math.min(MAX_SPLITS, interPad / c.minKPerSplit()));
        int splits = (int) Math.max(1, Math.min(maxSplits, resident / ctas));
        return new FiPlan(m, (int) tiles, splits, tokens <= FUSED_ROUTING_MAX_TOKENS);
    }
}
