package io.moeoracle.nativeload;

import io.moeoracle.api.error.NativeFailureException;
import java.util.Arrays;

/**
 * A native library could not be found, extracted, opened or verified. Every failed attempt is
 * attached as a suppressed exception; the message says what to do (e.g. which setting to set).
 * It is the api's {@link NativeFailureException} with call {@value #CALL}, so a backend's
 * {@code create} that cannot load its library fails with the api's type.
 */
public final class NativeLibraryException extends NativeFailureException {
    private static final long serialVersionUID = 1L;
    /** The "call" this failure names. */
    public static final String CALL = "load native library";

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

    /**
     * @return whether an attempt failed because native access is not enabled for the calling module
     *     (then every attempt fails the same way; the remedy is a JVM flag, not a file)
     */
    public boolean nativeAccessDenied() {
        return deniedIn(this) || nativeAccessDenied(Arrays.asList(getSuppressed()));
    }

    /**
     * @param failures failed attempts
     * @return whether one of them failed because native access is not enabled for the calling module
     */
    public static boolean nativeAccessDenied(Iterable<? extends Throwable> failures) {
        for (Throwable t : failures) {
            if (deniedIn(t)) {
                return true;
            }
        }
        return false;
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
