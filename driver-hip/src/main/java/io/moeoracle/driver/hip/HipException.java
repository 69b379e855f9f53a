package io.moeoracle.driver.hip;

import io.moeoracle.api.error.NativeErrorCodeException;
import io.moeoracle.driver.hip.ffi.HipCalls;
import io.moeoracle.driver.hip.ffi.LibHip;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Optional;

/**
 * A HIP runtime call returned a non-zero {@code hipError_t}. The message names the call, its
 * arguments, the runtime's error name and text ({@code hipGetErrorName}/{@code hipGetErrorString})
 * and, for the usual mistakes, what to do. It is the api's {@link NativeErrorCodeException}, as CUDA's
 * exception is: {@code code()} is the {@code hipError_t}, {@code driverText()} {@code "NAME (code): text"}.
 */
public class HipException extends NativeErrorCodeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** {@code hipErrorOutOfMemory}. */
    public static final int OUT_OF_MEMORY = 2;
    /** {@code hipErrorNoDevice}. */
    public static final int NO_DEVICE = 100;
    /** {@code hipErrorInvalidImage}. */
    public static final int INVALID_IMAGE = 200;
    /** {@code hipErrorNoBinaryForGpu}. */
    public static final int NO_BINARY_FOR_GPU = 209;
    /** {@code hipErrorNotFound}. */
    public static final int NOT_FOUND = 500;

    // names for when the runtime cannot be asked (no libamdhip64 here)
    private static final Map<Integer, String> KNOWN = Map.ofEntries(
            Map.entry(1, "hipErrorInvalidValue"), Map.entry(2, "hipErrorOutOfMemory"),
            Map.entry(3, "hipErrorNotInitialized"), Map.entry(35, "hipErrorInsufficientDriver"),
            Map.entry(100, "hipErrorNoDevice"), Map.entry(101, "hipErrorInvalidDevice"),
            Map.entry(200, "hipErrorInvalidImage"), Map.entry(201, "hipErrorInvalidContext"),
            Map.entry(209, "hipErrorNoBinaryForGpu"), Map.entry(218, "hipErrorInvalidKernelFile"),
            Map.entry(400, "hipErrorInvalidHandle"), Map.entry(500, "hipErrorNotFound"),
            Map.entry(600, "hipErrorNotReady"), Map.entry(700, "hipErrorIllegalAddress"),
            Map.entry(701, "hipErrorLaunchOutOfResources"), Map.entry(719, "hipErrorLaunchFailure"),
            Map.entry(801, "hipErrorNotSupported"), Map.entry(999, "hipErrorUnknown"));

    /**
     * @param call the runtime function, e.g. {@code hipMalloc}
     * @param arguments its arguments as text
     * @param code the hipError_t
     * @param errorName e.g. {@code hipErrorOutOfMemory}
     * @param errorText the runtime's description
     */
    protected HipException(String call, String arguments, int code, String errorName, String errorText) {
        super(call, arguments, code, errorName, errorText, hint(code));
    }

    /**
     * Builds the exception for a failed call, asking the runtime for the error's name and text.
     *
     * @param code the non-zero hipError_t
     * @param call the runtime function
     * @param arguments its arguments as text
     * @return the exception (to throw)
     */
    public static HipException of(int code, String call, String arguments) {
        return new HipException(call, arguments, code, nameOf(code),
                runtimeString(code, false).orElse("(no description: the HIP runtime could not be asked)"));
    }

    /**
     * @param code a hipError_t
     * @return the runtime's name for it, else a built-in name, else {@code hipError_t N}
     */
    public static String nameOf(int code) {
        return runtimeString(code, true).orElseGet(() -> KNOWN.getOrDefault(code, "hipError_t " + code));
    }

    /**
     * Throws when a call failed.
     *
     * @param code what the call returned
     * @param call the runtime function
     * @param arguments its arguments as text
     */
    static void check(int code, String call, String arguments) {
        if (code != 0) {
            throw of(code, call, arguments);
        }
    }

    @SuppressWarnings("restricted")
    private static Optional<String> runtimeString(int code, boolean name) {
        if (!LibHip.library().isLoaded()) {
            return Optional.empty();
        }
        try {
            MemorySegment str = name ? HipCalls.hipGetErrorName(code) : HipCalls.hipGetErrorString(code);
            return str.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(str.reinterpret(4096).getString(0));
        } catch (LinkageError | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String hint(int code) {
        return switch (code) {
            case NO_BINARY_FOR_GPU, INVALID_IMAGE ->
                    " (the code object is not for this GPU's gfx target: build it for this arch)";
            case OUT_OF_MEMORY -> " (free device memory or use smaller tensors)";
            case 700, 719 -> " (a kernel faulted: the device state is now unusable; restart the process)";
            default -> "";
        };
    }
}
