package io.moeoracle.driver.nccl;

import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.driver.nccl.ffi.LibNccl;
import io.moeoracle.driver.nccl.ffi.NcclComms;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * An NCCL call returned an error ({@code ncclResult_t} other than success and "in progress"), or a
 * communicator reported one asynchronously. The message names the call, its arguments, NCCL's name
 * and text for the code ({@code ncclGetErrorString}) and NCCL's last error message
 * ({@code ncclGetLastError}), with a hint for the usual causes. It is the api's
 * {@link NativeFailureException}.
 */
public class NcclException extends NativeFailureException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** {@code ncclSuccess}. */
    public static final int SUCCESS = 0;
    /** {@code ncclUnhandledCudaError}. */
    public static final int UNHANDLED_CUDA_ERROR = 1;
    /** {@code ncclSystemError}. */
    public static final int SYSTEM_ERROR = 2;
    /** {@code ncclInternalError}. */
    public static final int INTERNAL_ERROR = 3;
    /** {@code ncclInvalidArgument}. */
    public static final int INVALID_ARGUMENT = 4;
    /** {@code ncclInvalidUsage}. */
    public static final int INVALID_USAGE = 5;
    /** {@code ncclRemoteError}. */
    public static final int REMOTE_ERROR = 6;
    /** {@code ncclInProgress}: a non-blocking communicator is still working (not an error). */
    public static final int IN_PROGRESS = 7;
    /** {@code ncclTimeout}. */
    public static final int TIMEOUT = 8;

    private static final String[] NAMES = {"ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError",
        "ncclInternalError", "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress",
        "ncclTimeout"};

    private final int code;
    private final String lastError;

    /**
     * @param call the NCCL function, e.g. {@code ncclAllGather}
     * @param arguments its arguments as text
     * @param code the ncclResult_t
     * @param errorText NCCL's text for the code
     * @param lastError NCCL's last error message, or empty
     */
    protected NcclException(String call, String arguments, int code, String errorText, String lastError) {
        super(call, arguments, nameOf(code) + " (" + code + "): " + errorText,
                call + "(" + arguments + ") failed: " + nameOf(code) + " (" + code + "): " + errorText
                        + (lastError.isBlank() ? "" : "; NCCL's last error: " + lastError.strip()) + hint(code), null);
        this.code = code;
        this.lastError = lastError;
    }

    /**
     * Builds the exception for a failed call, asking NCCL for its texts.
     *
     * @param code the ncclResult_t
     * @param call the function
     * @param arguments its arguments as text
     * @param comm the communicator, for {@code ncclGetLastError} ({@code NULL} when there is none)
     * @return the exception (to throw)
     */
    public static NcclException of(int code, String call, String arguments, MemorySegment comm) {
        return new NcclException(call, arguments, code, errorString(code).orElse("(no text: NCCL could not be asked)"),
                lastError(comm).orElse(""));
    }

    /**
     * @param code an ncclResult_t
     * @return its enum name, e.g. {@code ncclRemoteError}, or {@code ncclResult_t N} when unknown
     */
    public static String nameOf(int code) {
        return code >= 0 && code < NAMES.length ? NAMES[code] : "ncclResult_t " + code;
    }

    static String hint(int code) {
        return switch (code) {
            case UNHANDLED_CUDA_ERROR -> " (a CUDA call inside NCCL failed: the context may be unusable; run with"
                    + " NCCL_DEBUG=WARN to see which)";
            case SYSTEM_ERROR -> " (a system call or the network failed: check NCCL_SOCKET_IFNAME and that every rank"
                    + " can reach rank 0; NCCL_DEBUG=INFO tells more)";
            case INVALID_USAGE, INVALID_ARGUMENT -> " (the ranks disagree on a call or an argument is wrong: every rank"
                    + " must issue the same collectives in the same order with matching counts)";
            case REMOTE_ERROR -> " (another rank failed or went away; its own log says why)";
            case TIMEOUT -> " (a peer did not answer in time)";
            default -> "";
        };
    }

    @SuppressWarnings("restricted")
    static Optional<String> errorString(int code) {
        if (!LibNccl.library().isLoaded()) {
            return Optional.empty();
        }
        try {
            MemorySegment s = NcclComms.ncclGetErrorString(code);
            return s.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(s.reinterpret(4096).getString(0));
        } catch (LinkageError | RuntimeException e) {
            return Optional.empty();
        }
    }

    @SuppressWarnings("restricted")
    static Optional<String> lastError(MemorySegment comm) {
        if (!LibNccl.library().isLoaded()) {
            return Optional.empty();
        }
        try {
            MemorySegment s = NcclComms.ncclGetLastError(comm);
            if (s.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            String text = s.reinterpret(8192).getString(0);
            return text.isBlank() ? Optional.empty() : Optional.of(text);
        } catch (LinkageError | RuntimeException e) {
            return Optional.empty(); // an NCCL older than 2.13 has no ncclGetLastError
        }
    }

    /** @return the ncclResult_t */
    public int code() {
        return code;
    }

    /** @return NCCL's last error message at the time of the failure, or empty */
    public String lastError() {
        return lastError;
    }
}
