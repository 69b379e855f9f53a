package io.moeoracle.driver.nccl;

import java.io.Serial;
import java.time.Duration;

/**
 * NCCL work did not finish in time: a communicator stayed "in progress" (initialization, a group
 * that needs its peers) or a collective's stream never drained, typically because another rank
 * failed or never called it. By the time this is thrown the communicators involved were aborted
 * ({@code ncclCommAbort}), so nothing hangs; they cannot be used again.
 */
public final class NcclTimeoutException extends NcclException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final Duration timeout;

    /**
     * @param call what was waited for, e.g. {@code ncclCommInitRankConfig} or {@code ncclAllGather}
     * @param arguments the ranks and what they were doing
     * @param timeout how long was waited
     * @param remedy what to do
     */
    public NcclTimeoutException(String call, String arguments, Duration timeout, String remedy) {
        super(call, arguments, TIMEOUT, "not finished after " + timeout.toMillis() + " ms; the communicators were"
                + " aborted (ncclCommAbort)" + (remedy.isEmpty() ? "" : "; " + remedy), "");
        this.timeout = timeout;
    }

    /** @return how long was waited */
    public Duration timeout() {
        return timeout;
    }
}
