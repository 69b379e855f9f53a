package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Streams: create, destroy, synchronize, query. */
public final class CuStream {
    private static final MethodHandle CREATE = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuStreamCreate");
    private static final MethodHandle DESTROY = LibCuda.LIBRARY.downcall(result(PTR), "cuStreamDestroy_v2");
    private static final MethodHandle SYNCHRONIZE = LibCuda.LIBRARY.downcall(result(PTR), "cuStreamSynchronize");
    private static final MethodHandle QUERY = LibCuda.LIBRARY.downcall(result(PTR), "cuStreamQuery");
    private static final MethodHandle WAIT_EVENT = LibCuda.LIBRARY.downcall(result(PTR, PTR, INT), "cuStreamWaitEvent");

    private CuStream() {
    }

    /** @param stream out CUstream @param flags CU_STREAM_* @return CUresult */
    public static int cuStreamCreate(MemorySegment stream, int flags) {
        try {
            return (int) CREATE.invokeExact(stream, flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param stream CUstream @return CUresult */
    public static int cuStreamDestroy(MemorySegment stream) {
        try {
            return (int) DESTROY.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param stream CUstream @return CUresult */
    public static int cuStreamSynchronize(MemorySegment stream) {
        try {
            return (int) SYNCHRONIZE.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param stream CUstream @return CUresult: 0 when idle, CUDA_ERROR_NOT_READY (600) when busy */
    public static int cuStreamQuery(MemorySegment stream) {
        try {
            return (int) QUERY.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param stream CUstream @param event CUevent @param flags 0 @return CUresult */
    public static int cuStreamWaitEvent(MemorySegment stream, MemorySegment event, int flags) {
        try {
            return (int) WAIT_EVENT.invokeExact(stream, event, flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
