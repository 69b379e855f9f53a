package io.moeoracle.driver.opencl;

/**
 * An OpenCL call returned an error. The message names the call, its arguments and the error
 * (e.g. {@code clCreateBuffer(size=1073741824, flags=0x1) failed: CL_INVALID_BUFFER_SIZE (-61)}).
 */
public class OpenClException extends RuntimeException {
    private final String call;
    private final int code;

    /**
     * @param call the function and its arguments, e.g. {@code clSetKernelArg(kernel=gemm1, index=3, size=8)}
     * @param code the cl_int error code
     * @param detail what to add (a build log, a hint), or empty
     */
    public OpenClException(String call, int code, String detail) {
        super(call + " failed: " + ClErrorNames.name(code) + " (" + code + ")"
                + (detail == null || detail.isEmpty() ? "" : "\n" + detail));
        this.call = call;
        this.code = code;
    }

    /** @return the call and its arguments */
    public String call() {
        return call;
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
