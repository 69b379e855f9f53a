package io.moeoracle.ep;

import io.moeoracle.api.Setting;
import java.time.Duration;
import java.util.List;

/** The settings of expert parallelism; read only through this class. */
public final class EpSettings {
    /** Seconds a rank waits for its peers before it aborts the communicator and throws. */
    public static final Setting TIMEOUT = Setting.propertyOrEnv("moe.ep.timeout", "MOE_EP_TIMEOUT", "120",
            "seconds an expert-parallel rank waits for its peers (communicator setup, a collective) before it aborts"
                    + " the NCCL communicator (ncclCommAbort) and throws");
    /** The token count per rank from which AUTO prefers the all-to-all strategy. */
    public static final Setting ALL_TO_ALL_MIN_TOKENS = Setting.property("moe.ep.allToAllMinTokens", "1024",
            "AUTO strategy: all-to-all from this many tokens per rank on (when the traffic model says it moves fewer"
                    + " bytes), all-gather below");
    /** Device memory for the all-to-all path's per-expert batches. */
    public static final Setting BATCH_BUDGET_MIB = Setting.property("moe.ep.batchBudgetMiB", "24576",
            "MiB of each GPU the all-to-all path's per-expert batches (inputs, outputs, the batched kernel's scratch)"
                    + " may take; a heavier load (a hot expert) runs in several chunks");

    private EpSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(TIMEOUT, ALL_TO_ALL_MIN_TOKENS, BATCH_BUDGET_MIB);
    }

    /** @return {@link #TIMEOUT} as a duration */
    public static Duration timeout() {
        return Duration.ofSeconds(TIMEOUT.parseLong(TIMEOUT.valueOrDefault(), 1, 86_400));
    }

    /** @return {@link #ALL_TO_ALL_MIN_TOKENS} */
    public static int allToAllMinTokens() {
        return (int) ALL_TO_ALL_MIN_TOKENS.parseLong(ALL_TO_ALL_MIN_TOKENS.valueOrDefault(), 0, 1 << 24);
    }

    /** @return {@link #BATCH_BUDGET_MIB} in bytes */
    public static long batchBudgetBytes() {
        return BATCH_BUDGET_MIB.parseLong(BATCH_BUDGET_MIB.valueOrDefault(), 64, 1L << 24) << 20;
    }
}
