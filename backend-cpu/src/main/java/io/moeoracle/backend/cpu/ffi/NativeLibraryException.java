package io.moeoracle.backend.cpu.ffi;

import io.moeoracle.api.error.NativeFailureException;

/**
 * The native library could not be found, extracted, opened or verified: the api's
 * {@link NativeFailureException} with call {@code load libmoeoracle_cpu}. Earlier failed attempts
 * are attached as suppressed exceptions; the message says what to do (e.g. which property to set).
 */
public final class NativeLibraryException extends NativeFailureException {
    private static final long serialVersionUID = 1L;
    private static final String CALL = "load libmoeoracle_cpu";

    /** @param message what failed and what to do */
    public NativeLibraryException(String message) {
        super(CALL, "", message, message, null);
    }

    /**
     * @param message what failed and what to do
     * @param cause the underlying error
     */
    public NativeLibraryException(String message, Throwable cause) {
        super(CALL, "", message, message, cause);
    }
}
