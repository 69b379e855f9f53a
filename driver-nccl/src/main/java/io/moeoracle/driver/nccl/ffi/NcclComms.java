package io.moeoracle.driver.nccl.ffi;

import static io.moeoracle.driver.nccl.ffi.LibNccl.INT;
import static io.moeoracle.driver.nccl.ffi.LibNccl.PTR;
import static io.moeoracle.driver.nccl.ffi.LibNccl.UNIQUE_ID;
import static io.moeoracle.driver.nccl.ffi.LibNccl.result;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Version, unique ids, communicators (init, abort, finalize, destroy, state) and error text:
 * {@code ncclGetVersion}, {@code ncclGetUniqueId}, {@code ncclCommInitRank},
 * {@code ncclCommInitRankConfig}, {@code ncclCommInitAll}, {@code ncclCommAbort},
 * {@code ncclCommFinalize}, {@code ncclCommDestroy}, {@code ncclCommGetAsyncError},
 * {@code ncclCommCount}, {@code ncclCommCuDevice}, {@code ncclCommUserRank},
 * {@code ncclGetErrorString}, {@code ncclGetLastError}.
 */
public final class NcclComms {
    private static final MethodHandle GET_VERSION = LibNccl.LIBRARY.downcall(result(PTR), "ncclGetVersion");
    private static final MethodHandle GET_UNIQUE_ID = LibNccl.LIBRARY.downcall(result(PTR), "ncclGetUniqueId");
    private static final MethodHandle INIT_RANK = LibNccl.LIBRARY.downcall(result(PTR, INT, UNIQUE_ID, INT),
            "ncclCommInitRank");
    private static final MethodHandle INIT_RANK_CONFIG = LibNccl.LIBRARY.downcall(
            result(PTR, INT, UNIQUE_ID, INT, PTR), "ncclCommInitRankConfig");
    private static final MethodHandle INIT_ALL = LibNccl.LIBRARY.downcall(result(PTR, INT, PTR), "ncclCommInitAll");
    private static final MethodHandle ABORT = LibNccl.LIBRARY.downcall(result(PTR), "ncclCommAbort");
    private static final MethodHandle FINALIZE = LibNccl.LIBRARY.downcall(result(PTR), "ncclCommFinalize");
    private static final MethodHandle DESTROY = LibNccl.LIBRARY.downcall(result(PTR), "ncclCommDestroy");
    private static final MethodHandle GET_ASYNC_ERROR = LibNccl.LIBRARY.downcall(result(PTR, PTR),
            "ncclCommGetAsyncError");
    private static final MethodHandle COUNT = LibNccl.LIBRARY.downcall(result(PTR, PTR), "ncclCommCount");
    private static final MethodHandle CU_DEVICE = LibNccl.LIBRARY.downcall(result(PTR, PTR), "ncclCommCuDevice");
    private static final MethodHandle USER_RANK = LibNccl.LIBRARY.downcall(result(PTR, PTR), "ncclCommUserRank");
    private static final MethodHandle GET_ERROR_STRING = LibNccl.LIBRARY.downcall(FunctionDescriptor.of(PTR, INT),
            "ncclGetErrorString");
    private static final MethodHandle GET_LAST_ERROR = LibNccl.LIBRARY.downcall(FunctionDescriptor.of(PTR, PTR),
            "ncclGetLastError");

    private NcclComms() {
    }

    /** @param version out int, e.g. 22703 for 2.27.3 @return ncclResult_t */
    public static int ncclGetVersion(MemorySegment version) {
        try {
            return (int) GET_VERSION.invokeExact(version);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param uniqueId out ncclUniqueId (128 bytes) @return ncclResult_t */
    public static int ncclGetUniqueId(MemorySegment uniqueId) {
        try {
            return (int) GET_UNIQUE_ID.invokeExact(uniqueId);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param comm out ncclComm_t @param nranks ranks @param commId ncclUniqueId by value (128 bytes)
     * @param rank this rank @return ncclResult_t
     */
    public static int ncclCommInitRank(MemorySegment comm, int nranks, MemorySegment commId, int rank) {
        try {
            return (int) INIT_RANK.invokeExact(comm, nranks, commId, rank);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param comm out ncclComm_t @param nranks ranks @param commId ncclUniqueId by value (128 bytes)
     * @param rank this rank @param config ncclConfig_t* ({@link NcclConfig}) @return ncclResult_t
     */
    public static int ncclCommInitRankConfig(MemorySegment comm, int nranks, MemorySegment commId, int rank,
                                             MemorySegment config) {
        try {
            return (int) INIT_RANK_CONFIG.invokeExact(comm, nranks, commId, rank, config);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comms out ncclComm_t[ndev] @param ndev devices @param devlist int[ndev] CUDA ordinals @return ncclResult_t */
    public static int ncclCommInitAll(MemorySegment comms, int ndev, MemorySegment devlist) {
        try {
            return (int) INIT_ALL.invokeExact(comms, ndev, devlist);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @return ncclResult_t */
    public static int ncclCommAbort(MemorySegment comm) {
        try {
            return (int) ABORT.invokeExact(comm);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @return ncclResult_t (ncclInProgress for a non-blocking communicator) */
    public static int ncclCommFinalize(MemorySegment comm) {
        try {
            return (int) FINALIZE.invokeExact(comm);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @return ncclResult_t */
    public static int ncclCommDestroy(MemorySegment comm) {
        try {
            return (int) DESTROY.invokeExact(comm);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @param asyncError out ncclResult_t @return ncclResult_t */
    public static int ncclCommGetAsyncError(MemorySegment comm, MemorySegment asyncError) {
        try {
            return (int) GET_ASYNC_ERROR.invokeExact(comm, asyncError);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @param count out int @return ncclResult_t */
    public static int ncclCommCount(MemorySegment comm, MemorySegment count) {
        try {
            return (int) COUNT.invokeExact(comm, count);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @param device out int (CUDA ordinal) @return ncclResult_t */
    public static int ncclCommCuDevice(MemorySegment comm, MemorySegment device) {
        try {
            return (int) CU_DEVICE.invokeExact(comm, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t @param rank out int @return ncclResult_t */
    public static int ncclCommUserRank(MemorySegment comm, MemorySegment rank) {
        try {
            return (int) USER_RANK.invokeExact(comm, rank);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param result an ncclResult_t @return const char* (static text) */
    public static MemorySegment ncclGetErrorString(int result) {
        try {
            return (MemorySegment) GET_ERROR_STRING.invokeExact(result);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param comm ncclComm_t or NULL @return const char* (the last error message of this thread) */
    public static MemorySegment ncclGetLastError(MemorySegment comm) {
        try {
            return (MemorySegment) GET_LAST_ERROR.invokeExact(comm);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
