package io.moeoracle.ep;

import java.util.List;
import java.util.Locale;

/**
 * What one expert-parallel forward did: the strategy, and per rank its kernel, tokens, the bytes it
 * handed to NCCL (see {@link EpTrafficModel} for how they are counted) and the time split measured
 * with CUDA events on its stream.
 *
 * @param strategy the strategy that ran (never AUTO)
 * @param ranks one entry per rank this process drives
 * @param hostSyncs host waits inside the forward (all-to-all reads its counts once; a kernel without
 *     a stream to order against adds more)
 * @param timed whether the time split was measured (not for replays of a captured graph)
 */
public record EpReport(EpStrategy strategy, List<Rank> ranks, int hostSyncs, boolean timed) {

    /** Copies the list. */
    public EpReport {
        ranks = List.copyOf(ranks);
    }

    /**
     * One rank's part.
     *
     * @param rank the rank
     * @param device e.g. {@code cuda:1}
     * @param kernel the provider id that ran the rank's experts
     * @param tokens the rank's own tokens
     * @param bytesSent bytes the rank handed to NCCL to send
     * @param bytesReceived bytes it received
     * @param dispatchMs routing, copies, dispatch collectives (and for all-to-all the count round trip)
     * @param expertsMs the local experts
     * @param combineMs return collectives, the weighted sum, the output conversion
     */
    public record Rank(int rank, String device, String kernel, int tokens, long bytesSent, long bytesReceived,
                       double dispatchMs, double expertsMs, double combineMs) {
        /** @return dispatch + experts + combine */
        public double totalMs() {
            return dispatchMs + expertsMs + combineMs;
        }
    }

    /** @return the slowest rank's total, the layer's time when ranks run in parallel */
    public double layerMs() {
        return ranks.stream().mapToDouble(Rank::totalMs).max().orElse(0);
    }

    /** @return bytes sent by all ranks together */
    public long totalBytesSent() {
        return ranks.stream().mapToLong(Rank::bytesSent).sum();
    }

    /** @return tokens of all ranks together */
    public long totalTokens() {
        return ranks.stream().mapToLong(Rank::tokens).sum();
    }

    /** @return a table, one row per rank */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "strategy %s%s%n", strategy, hostSyncs > 0 ? ", host syncs " + hostSyncs : ""));
        sb.append(String.format(Locale.ROOT, "%-5s %-8s %-16s %7s %12s %12s %10s %10s %10s%n", "rank", "device", "kernel",
                "tokens", "NCCL sent", "NCCL recv", "dispatch", "experts", "combine"));
        for (Rank r : ranks) {
            sb.append(String.format(Locale.ROOT, "%-5d %-8s %-16s %7d %12s %12s %10s %10s %10s%n", r.rank, r.device,
                    r.kernel, r.tokens, bytes(r.bytesSent), bytes(r.bytesReceived), ms(r.dispatchMs), ms(r.expertsMs),
                    ms(r.combineMs)));
        }
        return sb.toString();
    }

    private String ms(double v) {
        return timed ? String.format(Locale.ROOT, "%.3f ms", v) : "-";
    }

    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.2f MiB", b / (double) (1L << 20));
        }
        if (b >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", b / (double) (1L << 10));
        }
        return b + " B";
    }
}
