package io.moeoracle.driver.cuda;

import java.io.Serial;

/**
 * The CUDA driver cannot be used here: no {@code libcuda}, no device, native access denied, or
 * {@code cuInit} failed. The message says which and what to do; the cause holds the details.
 */
public final class CudaUnavailableException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message why, and the remedy
     * @param cause the underlying failure
     */
    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
