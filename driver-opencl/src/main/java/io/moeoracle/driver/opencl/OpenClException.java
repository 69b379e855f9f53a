package io.moeoracle.driver.opencl;

import io.moeoracle.api.error.NativeFailureException;

/**
 * An OpenCL call returned an error. The message names the call, its arguments and the error
 * (e.g. {@code clCreateBuffer(size=1073741824, flags=0x1) failed: CL_INVALID_BUFFER_SIZE (-61)}).
 * It is the api's {@link NativeFailureException}: {@link #call()} is the function alone,
 * {@link #arguments()} what stood in its parentheses, {@code driverText()} {@code "NAME (code)"}.
 */
public class OpenClException extends NativeFailureException {
    private final String callWithArguments;
    private final int code;

    /**
     * @param call the function and its arguments, e.g. {@code clSetKernelArg(kernel=gemm1, index=3, size=8)}
     * @param code the cl_int error code
     * @param detail what to add (a build log, a hint), or empty
     */
    public OpenClException(String call, int code, String detail) {
        super(function(call), arguments(call), ClErrorNames.name(code) + " (" + code + ")",
                call + " failed: " + ClErrorNames.name(code) + " (" + code + ")"
                + (detail == null || detail.isEmpty() ? "" : "\n" + detail), null);
        this.callWithArguments = call;
        this.code = code;
    }

    private static String function(String call) {
        int open = call.indexOf('(');
        return open < 0 ? call : call.substring(0, open);
    }

    private static String arguments(String call) {
        int open = call.indexOf('(');
        int close = call.lastIndexOf(')');
        return open < 0 || close < open ? "" : call.substring(open + 1, close);
    }

    /** @return the call and its arguments as one text, e.g. {@code clFinish(queue=0x..)} */
    public String callWithArguments() {
        return callWithArguments;
    }

    /** @return the cl_int error code */
    public int code() {
        return code;
    }

    /** @return the error's name, e.g. {@code CL_INVALID_VALUE} */
    public String errorName() {
        return ClErrorNames.name(code);
    }

    /**
     * Throws when {@code code} is not CL_SUCCESS.
     *
     * @param code the returned code
     * @param call the call and arguments, for the message
     */
    static void check(int code, String call) {
        if (code != 0) {
            throw new OpenClException(call, code, "");
        }
    }
}
