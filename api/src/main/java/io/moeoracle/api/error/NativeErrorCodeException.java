package io.moeoracle.api.error;

import java.io.Serial;
import java.util.Objects;

/**
 * A native call returned a non-zero status code that its library names and describes (a CUDA
 * {@code CUresult}, a HIP {@code hipError_t}). {@link #driverText()} is {@code "NAME (code): text"}; the
 * message is {@code call(arguments) failed: NAME (code): text} followed by what the driver's exception
 * adds (a remedy for the usual mistakes, a build log). A driver's exception extends it with how it asks
 * its library for the name and the text, and its hints.
 */
public class NativeErrorCodeException extends NativeFailureException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String errorName;
    private final String errorText;

    /**
     * @param call the native function, e.g. {@code cuMemAlloc_v2}
     * @param arguments its arguments as text, e.g. {@code bytesize=1024}
     * @param code the status code it returned
     * @param errorName the library's name for the code, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}
     * @param errorText the library's description of the code
     * @param more appended to the message as it is (a hint in parentheses, a newline and a log), or empty
     */
    protected NativeErrorCodeException(String call, String arguments, int code, String errorName, String errorText,
                                       String more) {
        super(call, arguments, errorName + " (" + code + "): " + errorText,
                call + "(" + arguments + ") failed: " + errorName + " (" + code + "): " + errorText + more, null);
        this.code = code;
        this.errorName = Objects.requireNonNull(errorName, "errorName");
        this.errorText = Objects.requireNonNull(errorText, "errorText");
    }

    /** @return the status code the call returned */
    public int code() {
        return code;
    }

    /** @return the library's name for the code */
    public String errorName() {
        return errorName;
    }

    /** @return the library's description of the code */
    public String errorText() {
        return errorText;
    }
}
