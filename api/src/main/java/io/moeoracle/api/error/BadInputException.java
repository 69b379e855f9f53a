package io.moeoracle.api.error;

import java.io.Serial;

/**
 * The caller passed something a kernel cannot take: a tensor of the wrong shape, dtype or size, a
 * tensor on another device, weights that do not match the spec, routing ids out of range, or a
 * call for the other activation format. Always thrown in Java before any native call, so the
 * kernel stays usable.
 */
public final class BadInputException extends MoeKernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message the argument, what it is, and what it must be */
    public BadInputException(String message) {
        super(message, null);
    }

    /**
     * @param message the argument, what it is, and what it must be
     * @param cause the underlying failure
     */
    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
