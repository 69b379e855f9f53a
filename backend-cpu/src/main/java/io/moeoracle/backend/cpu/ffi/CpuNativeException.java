package io.moeoracle.backend.cpu.ffi;

import io.moeoracle.api.error.NativeFailureException;

/**
 * A call into libmoeoracle_cpu returned an error code: the api's {@link NativeFailureException},
 * naming the call, its arguments, the code and the library's own error text.
 */
public final class CpuNativeException extends NativeFailureException {
    private static final long serialVersionUID = 1L;

    private final int code;

    /**
     * @param call the library function
     * @param arguments its arguments as text
     * @param code the return code (negative, or -1 for a failed measurement)
     * @param libraryText the library's own error text
     */
    public CpuNativeException(String call, String arguments, int code, String libraryText) {
        super(call, arguments, libraryText, call + "(" + arguments + ") returned " + code + ": " + libraryText, null);
        this.code = code;
    }

    /** @return the library's return code */
    public int code() {
        return code;
    }
}
