package io.moeoracle.nativeload;

import java.util.Arrays;

/**
 * A native library could not be found, extracted, opened or verified. Every failed attempt is
 * attached as a suppressed exception; the message says what to do (e.g. which setting to set).
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

    /**
     * @return whether an attempt failed because native access is not enabled for the calling module
     *     (then every attempt fails the same way; the remedy is a JVM flag, not a file)
     */
    public boolean nativeAccessDenied() {
        return deniedIn(this) || Arrays.stream(getSuppressed()).anyMatch(NativeLibraryException::deniedIn);
    }

    private static boolean deniedIn(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IllegalCallerException) {
                return true;
            }
        }
        return false;
    }
}
