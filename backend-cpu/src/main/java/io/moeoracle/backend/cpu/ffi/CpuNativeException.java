package io.moeoracle.backend.cpu.ffi;

/**
 * A call into libmoeoracle_cpu returned an error code. The message names the call, its arguments,
 * the code and the library's own error text.
 */
public final class CpuNativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;

    /**
     * @param message the call, its arguments and the library's error text
     * @param code the return code (negative)
     */
    public CpuNativeException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** @return the library's return code */
    public int code() {
        return code;
    }
}
