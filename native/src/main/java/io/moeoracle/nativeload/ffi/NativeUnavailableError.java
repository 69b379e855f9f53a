package io.moeoracle.nativeload.ffi;

import java.io.Serial;

/**
 * Thrown by a downcall whose library or symbol could not be found. The facade never lets it escape
 * when a driver facade is loaded (e.g. {@code CudaDriver.load()}): the driver refuses to load first,
 * naming the cause.
 */
public final class NativeUnavailableError extends LinkageError {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is missing and where it was looked for
     */
    public NativeUnavailableError(String message) {
        super(message);
    }
}
