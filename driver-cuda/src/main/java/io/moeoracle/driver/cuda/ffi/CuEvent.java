package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Events: create, destroy, record, synchronize, query, elapsed time. */
public final class CuEvent {
    private static final MethodHandle CREATE = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuEventCreate");
    private static final MethodHandle DESTROY = LibCuda.LIBRARY.downcall(result(PTR), "cuEventDestroy_v2");
    private static final MethodHandle RECORD = LibCuda.LIBRARY.downcall(result(PTR, PTR), "cuEventRecord");
    private static final MethodHandle SYNCHRONIZE = LibCuda.LIBRARY.downcall(result(PTR), "cuEventSynchronize");
    private static final MethodHandle QUERY = LibCuda.LIBRARY.downcall(result(PTR), "cuEventQuery");
    // CUDA 12.8+ headers map cuEventElapsedTime to _v2; older drivers export only the first version
    private static final MethodHandle ELAPSED = LibCuda.LIBRARY.downcall(result(PTR, PTR, PTR),
            "cuEventElapsedTime_v2", "cuEventElapsedTime");

    private CuEvent() {
    }

    /** @param event out CUevent @param flags CU_EVENT_* @return CUresult */
    public static int cuEventCreate(MemorySegment event, int flags) {
        try {
            return (int) CREATE.invokeExact(event, flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param event CUevent @return CUresult */
    public static int cuEventDestroy(MemorySegment event) {
        try {
            return (int) DESTROY.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param event CUevent @param stream CUstream @return CUresult */
    public static int cuEventRecord(MemorySegment event, MemorySegment stream) {
        try {
            return (int) RECORD.invokeExact(event, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param event CUevent @return CUresult */
    public static int cuEventSynchronize(MemorySegment event) {
        try {
            return (int) SYNCHRONIZE.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param event CUevent @return CUresult: 0 when complete, CUDA_ERROR_NOT_READY (600) otherwise */
    public static int cuEventQuery(MemorySegment event) {
        try {
            return (int) QUERY.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param millis out float @param start CUevent @param end CUevent @return CUresult */
    public static int cuEventElapsedTime(MemorySegment millis, MemorySegment start, MemorySegment end) {
        try {
            return (int) ELAPSED.invokeExact(millis, start, end);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
