package io.moeoracle.backend.cpu.ffi;

/**
 * The native library could not be found, extracted, opened or verified. Earlier failed attempts
 * are attached as suppressed exceptions; the message says what to do (e.g. which property to set).
 */
public final class NativeLibraryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed and what to do */
    public NativeLibraryException(String message) {
        super(message);
    }

    /**
     * @param message what failed and what to do
     * @param cause the underlying error
     */
    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
