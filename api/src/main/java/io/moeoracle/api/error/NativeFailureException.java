package io.moeoracle.api.error;

import java.io.Serial;
import java.util.Objects;

/**
 * A native call failed (a driver call, a kernel launch, a native library's function, loading the
 * library itself). Names the call, its arguments and the driver's or library's own error text.
 * Drivers' exception types (CUDA's, OpenCL's) extend it, so a host catches one type whatever the
 * backend.
 */
public non-sealed class NativeFailureException extends MoeKernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final String arguments;
    private final String driverText;

    /**
     * Message {@code call(arguments) failed: driverText}.
     *
     * @param call the native function, e.g. {@code cuMemAlloc_v2} or {@code moe_cpu_forward}
     * @param arguments its arguments as text, e.g. {@code bytesize=1024}
     * @param driverText the driver's or library's own description of the error
     */
    public NativeFailureException(String call, String arguments, String driverText) {
        this(call, arguments, driverText, call + "(" + arguments + ") failed: " + driverText, null);
    }

    /**
     * For subclasses and callers with more to say (a hint, a build log).
     *
     * @param call the native function
     * @param arguments its arguments as text
     * @param driverText the driver's or library's own description of the error
     * @param message the full message (it should contain the three above)
     * @param cause the underlying failure, or null
     */
    public NativeFailureException(String call, String arguments, String driverText, String message,
                                  Throwable cause) {
        super(message, cause);
        this.call = Objects.requireNonNull(call, "call");
        this.arguments = Objects.requireNonNull(arguments, "arguments");
        this.driverText = Objects.requireNonNull(driverText, "driverText");
    }

    /** @return the native function that failed */
    public String call() {
        return call;
    }

    /** @return its arguments as text */
    public String arguments() {
        return arguments;
    }

    /** @return the driver's or library's own error text */
    public String driverText() {
        return driverText;
    }
}
