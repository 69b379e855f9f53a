package io.moeoracle.driver.hip;

import java.io.Serial;

/**
 * The HIP runtime cannot be used here: no {@code libamdhip64}, no AMD GPU, native access denied,
 * or {@code hipInit} failed. The message says which and what to do; the cause holds the details.
 */
public final class HipUnavailableException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message why, and the remedy
     * @param cause the underlying failure, or null
     */
    public HipUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
