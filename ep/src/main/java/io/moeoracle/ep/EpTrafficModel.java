package io.moeoracle.ep;

/**
 * The bytes an expert-parallel forward hands to NCCL, per rank: the model (expected bytes per token
 * per layer for uniformly routed tokens, as a function of E, top-k, H and R) and the exact count for
 * one forward (from its token counts, and for all-to-all from the exchanged row counts). On the wire
 * activations are BF16 ({@value #HIDDEN_BYTES} bytes), partial outputs F32 ({@value #PARTIAL_BYTES}),
 * and each dispatched row carries its k ids and k weights (8k bytes).
 *
 * <p>Collectives are counted as the ring algorithm moves them (NVLS is off): an all-gather of
 * {@code n} bytes per rank sends and receives {@code (R-1)n} per rank, a reduce-scatter to {@code n}
 * bytes per rank likewise {@code (R-1)n}, an all-reduce of {@code n} bytes {@code 2(R-1)n/R}.
 * Point-to-point sends count their bytes once; a rank's rows for itself never touch NCCL.
 *
 * <ul>
 *   <li>{@link EpStrategy#ALL_GATHER}: per token {@code (R-1) (2H + 8k)} to gather, {@code 4H}
 *       to reduce-scatter: {@code (R-1)(6H + 8k)}, whatever the routing.</li>
 *   <li>{@link EpStrategy#ALL_TO_ALL}: a token goes once to each other rank holding one of its
 *       experts: {@code D = (R-1)(1 - C(E-E/R, k) / C(E, k))} ranks on average for distinct, uniformly
 *       chosen experts; per token {@code D (2H + 8k)} out and {@code D 4H} back: {@code D (6H + 8k)}.
 *       Plus per forward the count exchange ({@code R} ints all-gathered, {@code E} ints all-reduced).</li>
 * </ul>
 */
public final class EpTrafficModel {
    /** Bytes of one activation on the wire (BF16). */
    public static final int HIDDEN_BYTES = 2;
    /** Bytes of one partial-output element on the wire (F32). */
    public static final int PARTIAL_BYTES = 4;
    /** Bytes of the per-forward error-flag all-reduce (one int). */
    public static final int FLAG_BYTES = 4;

    private EpTrafficModel() {
    }

    /**
     * @param topK k
     * @param hidden H
     * @return bytes of one dispatched row: the BF16 activations, k int32 ids and k float weights
     */
    public static long dispatchRowBytes(int topK, int hidden) {
        return (long) HIDDEN_BYTES * hidden + 8L * topK;
    }

    /**
     * @param hidden H
     * @return bytes of one combined (partial-output) row, F32
     */
    public static long combineRowBytes(int hidden) {
        return (long) PARTIAL_BYTES * hidden;
    }

    /**
     * @param experts E
     * @param topK k (distinct experts per token)
     * @param ranks R, dividing E
     * @return the expected number of other ranks a uniformly routed token is sent to
     */
    public static double expectedRemoteRanks(int experts, int topK, int ranks) {
        int el = experts / ranks;
        double none = 1.0; // probability that a given other rank holds none of the k experts
        for (int i = 0; i < topK; i++) {
            double left = experts - el - i;
            if (left <= 0) {
                none = 0;
                break;
            }
            none *= left / (experts - i);
        }
        return (ranks - 1) * (1 - none);
    }

    /**
     * @param strategy {@link EpStrategy#ALL_GATHER} or {@link EpStrategy#ALL_TO_ALL}
     * @param experts E
     * @param topK k
     * @param hidden H
     * @param ranks R
     * @return expected bytes one rank sends (and receives) over NCCL per token per layer, without the
     *     per-forward constants
     */
    public static double bytesPerToken(EpStrategy strategy, int experts, int topK, int hidden, int ranks) {
        long row = dispatchRowBytes(topK, hidden) + combineRowBytes(hidden);
        return switch (strategy) {
            case ALL_GATHER -> (double) (ranks - 1) * row;
            case ALL_TO_ALL -> expectedRemoteRanks(experts, topK, ranks) * row;
            case AUTO -> throw new IllegalArgumentException("AUTO has no traffic of its own; ask for the strategy it picks");
        };
    }

    /**
     * @param strategy {@link EpStrategy#ALL_GATHER} or {@link EpStrategy#ALL_TO_ALL}
     * @param experts E
     * @param ranks R
     * @return bytes one rank sends per forward whatever the token count: the error-flag all-reduce,
     *     and for all-to-all the count exchange
     */
    public static long fixedBytesPerForward(EpStrategy strategy, int experts, int ranks) {
        long flag = allReduceBytes(FLAG_BYTES, ranks);
        return switch (strategy) {
            case ALL_GATHER -> flag;
            case ALL_TO_ALL -> flag + (long) (ranks - 1) * 4 * ranks + allReduceBytes(4L * experts, ranks);
            case AUTO -> throw new IllegalArgumentException("AUTO has no traffic of its own; ask for the strategy it picks");
        };
    }

    /**
     * @param bytes an all-reduce's buffer
     * @param ranks R
     * @return what one rank sends for it in a ring: {@code ceil(2(R-1) bytes / R)}
     */
    public static long allReduceBytes(long bytes, int ranks) {
        return (2L * (ranks - 1) * bytes + ranks - 1) / ranks;
    }

    /**
     * Exact bytes one rank sends (equal to those it receives) in an all-gather forward.
     *
     * @param paddedTokens tokens per rank the collectives carry (the largest rank's count)
     * @param topK k
     * @param hidden H
     * @param ranks R
     * @return bytes
     */
    public static long allGatherBytes(long paddedTokens, int topK, int hidden, int ranks) {
        return (ranks - 1) * paddedTokens * (dispatchRowBytes(topK, hidden) + combineRowBytes(hidden))
                + fixedBytesPerForward(EpStrategy.ALL_GATHER, 0, ranks);
    }

    /**
     * Exact bytes a rank sends in an all-to-all forward.
     *
     * @param counts {@code counts[s][d]}: rows rank s dispatched to rank d
     * @param rank the rank
     * @param experts E
     * @param topK k
     * @param hidden H
     * @return its dispatched rows to others, the partials it returns to others, and the count exchange
     */
    public static long allToAllSentBytes(int[][] counts, int rank, int experts, int topK, int hidden) {
        int ranks = counts.length;
        long out = 0;
        long back = 0;
        for (int d = 0; d < ranks; d++) {
            if (d != rank) {
                out += counts[rank][d];
                back += counts[d][rank];
            }
        }
        return out * dispatchRowBytes(topK, hidden) + back * combineRowBytes(hidden)
                + fixedBytesPerForward(EpStrategy.ALL_TO_ALL, experts, ranks);
    }

    /**
     * Exact bytes a rank receives in an all-to-all forward.
     *
     * @param counts {@code counts[s][d]}: rows rank s dispatched to rank d
     * @param rank the rank
     * @param experts E
     * @param topK k
     * @param hidden H
     * @return the rows dispatched to it by others, the partials returned to it, and the count exchange
     */
    public static long allToAllReceivedBytes(int[][] counts, int rank, int experts, int topK, int hidden) {
        int ranks = counts.length;
        long in = 0;
        long back = 0;
        for (int s = 0; s < ranks; s++) {
            if (s != rank) {
                in += counts[s][rank];
                back += counts[rank][s];
            }
        }
        return in * dispatchRowBytes(topK, hidden) + back * combineRowBytes(hidden)
                + fixedBytesPerForward(EpStrategy.ALL_TO_ALL, experts, ranks);
    }
}
