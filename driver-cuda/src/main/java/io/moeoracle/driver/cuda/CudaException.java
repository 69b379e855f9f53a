package io.moeoracle.driver.cuda;

import io.moeoracle.api.error.NativeErrorCodeException;
import io.moeoracle.driver.cuda.ffi.CuInit;
import io.moeoracle.driver.cuda.ffi.LibCuda;
import java.io.Serial;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Optional;

/**
 * A CUDA driver call returned a non-zero {@code CUresult}. The message names the call, its
 * arguments, the driver's error name and text ({@code cuGetErrorName}/{@code cuGetErrorString}),
 * and, for the usual mistakes, what to do. It is the api's {@link NativeErrorCodeException}: {@code code()}
 * is the {@code CUresult}, {@code driverText()} {@code "NAME (code): text"}.
 */
public class CudaException extends NativeErrorCodeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** {@code CUDA_ERROR_INVALID_VALUE}. */
    public static final int INVALID_VALUE = 1;
    /** {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public static final int OUT_OF_MEMORY = 2;
    /** {@code CUDA_ERROR_NO_DEVICE}. */
    public static final int NO_DEVICE = 100;
    /** {@code CUDA_ERROR_INVALID_CONTEXT}. */
    public static final int INVALID_CONTEXT = 201;
    /** {@code CUDA_ERROR_NO_BINARY_FOR_GPU}. */
    public static final int NO_BINARY_FOR_GPU = 209;
    /** {@code CUDA_ERROR_INVALID_PTX}. */
    public static final int INVALID_PTX = 218;
    /** {@code CUDA_ERROR_NOT_FOUND}. */
    public static final int NOT_FOUND = 500;
    /** {@code CUDA_ERROR_NOT_READY}. */
    public static final int NOT_READY = 600;

    // names for when the driver cannot be asked (no libcuda here, or the driver is in a bad state)
    private static final Map<Integer, String> KNOWN = Map.ofEntries(
            Map.entry(1, "CUDA_ERROR_INVALID_VALUE"), Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
            Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"), Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
            Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"), Map.entry(35, "CUDA_ERROR_INSUFFICIENT_DRIVER"),
            Map.entry(36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER"), Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"),
            Map.entry(100, "CUDA_ERROR_NO_DEVICE"), Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"),
            Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"), Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"),
            Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"), Map.entry(218, "CUDA_ERROR_INVALID_PTX"),
            Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
            Map.entry(401, "CUDA_ERROR_ILLEGAL_STATE"), Map.entry(500, "CUDA_ERROR_NOT_FOUND"),
            Map.entry(600, "CUDA_ERROR_NOT_READY"), Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"),
            Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"), Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"),
            Map.entry(709, "CUDA_ERROR_CONTEXT_IS_DESTROYED"), Map.entry(716, "CUDA_ERROR_MISALIGNED_ADDRESS"),
            Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"), Map.entry(801, "CUDA_ERROR_NOT_SUPPORTED"),
            Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"), Map.entry(900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"),
            Map.entry(901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"), Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    /**
     * @param call the driver function, e.g. {@code cuMemAlloc_v2}
     * @param arguments its arguments as text, e.g. {@code bytesize=1024}
     * @param code the CUresult
     * @param errorName e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}
     * @param errorText the driver's description
     * @param detail more to say (a JIT log, a remedy), or empty
     */
    protected CudaException(String call, String arguments, int code, String errorName, String errorText,
                            String detail) {
        super(call, arguments, code, errorName, errorText, hint(code) + (detail.isEmpty() ? "" : "\n" + detail));
    }

    /**
     * Builds the exception for a failed call, asking the driver for the error's name and text.
     *
     * @param code the non-zero CUresult
     * @param call the driver function
     * @param arguments its arguments as text
     * @return the exception (to throw)
     */
    public static CudaException of(int code, String call, String arguments) {
        return of(code, call, arguments, "");
    }

    /**
     * As {@link #of(int, String, String)}, with more detail appended to the message.
     *
     * @param code the non-zero CUresult
     * @param call the driver function
     * @param arguments its arguments as text
     * @param detail more to say (a JIT error log, say), or empty
     * @return the exception (to throw)
     */
    public static CudaException of(int code, String call, String arguments, String detail) {
        String name = nameOf(code);
        String text = driverString(code, false).orElse("(no description: the driver could not be asked)");
        return new CudaException(call, arguments, code, name, text, detail);
    }

    /**
     * The driver's error name for a code, or a built-in name when the driver is absent.
     *
     * @param code a CUresult
     * @return e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}, or {@code CUresult N} when unknown
     */
    public static String nameOf(int code) {
        return driverString(code, true).orElseGet(() -> KNOWN.getOrDefault(code, "CUresult " + code));
    }

    @SuppressWarnings("restricted")
    private static Optional<String> driverString(int code, boolean name) {
        if (!LibCuda.library().isLoaded()) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int rc = name ? CuInit.cuGetErrorName(code, out) : CuInit.cuGetErrorString(code, out);
            MemorySegment str = out.get(ValueLayout.ADDRESS, 0);
            if (rc != 0 || str.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            return Optional.of(str.reinterpret(4096).getString(0));
        } catch (LinkageError | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String hint(int code) {
        return switch (code) {
            case INVALID_CONTEXT -> " (no CUDA context is current on this thread: call CudaContext.setCurrent() first)";
            case NO_BINARY_FOR_GPU -> " (the image has no code for this GPU: build it for this arch or include PTX)";
            case OUT_OF_MEMORY -> " (free device memory or use smaller tensors; CudaContext.memoryInfo() tells what is free)";
            case 700, 716, 719 -> " (a kernel faulted: the context is now unusable; run under compute-sanitizer to find it)";
            default -> "";
        };
    }
}
