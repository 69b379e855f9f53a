package io.moeoracle.ep;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The error bits the dispatch kernels raise on the device ({@code ep_kernels.cu}) and the one a rank
 * sets when it refused its input but took part with no tokens; all-reduced (max) at the end of every
 * forward so every rank sees that some rank failed, and read when the forward is synchronized.
 */
final class EpFlags {
    /** A given top-k id outside [0, E) reached the device; those choices were dropped. */
    static final int BAD_ID = 1;
    /** More rows than a buffer holds (rows dropped). */
    static final int OVERFLOW = 2;
    /** The expanded per-expert counts disagree with the exchanged ones. */
    static final int COUNTS = 4;
    /** A rank refused its input on the host and took part with no tokens. */
    static final int PEER_INPUT = 8;

    private EpFlags() {
    }

    /**
     * @param bits error bits
     * @return what they mean, in words
     */
    static String describe(int bits) {
        List<String> what = new ArrayList<>();
        if ((bits & BAD_ID) != 0) {
            what.add("a top-k id outside [0, E) reached the device (device routing tensors are not checked on the"
                    + " host); those choices were dropped");
        }
        if ((bits & OVERFLOW) != 0) {
            what.add("more rows than a buffer holds (rows were dropped; this is a bug of the exact counts)");
        }
        if ((bits & COUNTS) != 0) {
            what.add("the per-expert counts after the exchange disagree with the exchanged ones");
        }
        if ((bits & PEER_INPUT) != 0) {
            what.add("a rank refused its input and took part with no tokens (its own exception names the problem)");
        }
        if (what.isEmpty()) {
            what.add("unknown error bits 0x" + Integer.toHexString(bits));
        }
        return String.join("; ", what);
    }

    /**
     * Clears every rank's bits without reading them (the rank that raised them throws its own exception).
     *
     * @param ios the ranks of the forward
     */
    static void clear(List<EpIo> ios) {
        for (EpIo io : ios) {
            io.rank.context.setCurrent();
            io.rank.buf.flags.fill((byte) 0);
        }
    }

    /**
     * Reads every rank's bits (its own and the all-reduced ones), clears them, and throws when any is set.
     *
     * @param ios the ranks of the forward
     * @param shape the layer's shape
     * @throws BadInputException when only input problems were flagged
     * @throws NativeFailureException for anything else
     */
    static void check(List<EpIo> ios, EpShape shape) {
        StringBuilder sb = new StringBuilder();
        int all = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(8, 4);
            for (EpIo io : ios) {
                EpRank r = io.rank;
                r.context.setCurrent();
                r.buf.flags.slice(0, 8).copyToHost(host);
                int own = host.get(ValueLayout.JAVA_INT, 0);
                int group = host.get(ValueLayout.JAVA_INT, 4);
                if (own != 0 || group != 0) {
                    r.buf.flags.fill((byte) 0);
                }
                if (own != 0) {
                    sb.append("; rank ").append(r.rank).append(" (").append(r.device.id()).append("): ").append(describe(own));
                }
                all |= own | group;
            }
        }
        if (all == 0) {
            return;
        }
        String msg = "expert-parallel forward over " + shape.ranks() + " ranks failed" + (sb.isEmpty()
                ? ": another rank reported: " + describe(all) : sb.toString())
                + "; every rank that took part throws this; the output of this forward is incomplete";
        if ((all & ~(BAD_ID | PEER_INPUT)) == 0) {
            throw new BadInputException(msg);
        }
        throw new NativeFailureException("ep forward", "ranks=" + shape.ranks(), describe(all), msg, null);
    }
}
