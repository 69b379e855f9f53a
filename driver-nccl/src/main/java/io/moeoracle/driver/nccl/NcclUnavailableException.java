package io.moeoracle.driver.nccl;

import java.io.Serial;

/**
 * NCCL cannot be used here: no {@code libnccl.so.2} was found, native access is denied, or the library
 * does not answer {@code ncclGetVersion}. The message says which and what to do; the cause holds
 * every failed attempt.
 */
public final class NcclUnavailableException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message why, and the remedy
     * @param cause the underlying failure, or null
     */
    public NcclUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
