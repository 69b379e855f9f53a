package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.LONG;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Device memory: allocation, copies (synchronous and stream-ordered), memset, page-locked host
 * memory. Device pointers ({@code CUdeviceptr}) travel as {@code long}.
 */
public final class CuMemory {
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final MethodHandle ALLOC = LibCuda.LIBRARY.downcall(result(PTR, LONG), "cuMemAlloc_v2");
    private static final MethodHandle FREE = LibCuda.LIBRARY.downcall(result(LONG), "cuMemFree_v2");
    private static final MethodHandle HOST_ALLOC = LibCuda.LIBRARY.downcall(result(PTR, LONG, INT), "cuMemHostAlloc");
    private static final MethodHandle FREE_HOST = LibCuda.LIBRARY.downcall(result(PTR), "cuMemFreeHost");
    private static final MethodHandle HTOD = LibCuda.LIBRARY.downcall(result(LONG, PTR, LONG), "cuMemcpyHtoD_v2");
    private static final MethodHandle DTOH = LibCuda.LIBRARY.downcall(result(PTR, LONG, LONG), "cuMemcpyDtoH_v2");
    private static final MethodHandle DTOD = LibCuda.LIBRARY.downcall(result(LONG, LONG, LONG), "cuMemcpyDtoD_v2");
    private static final MethodHandle HTOD_ASYNC = LibCuda.LIBRARY.downcall(result(LONG, PTR, LONG, PTR), "cuMemcpyHtoDAsync_v2");
    private static final MethodHandle DTOH_ASYNC = LibCuda.LIBRARY.downcall(result(PTR, LONG, LONG, PTR), "cuMemcpyDtoHAsync_v2");
    private static final MethodHandle DTOD_ASYNC = LibCuda.LIBRARY.downcall(result(LONG, LONG, LONG, PTR), "cuMemcpyDtoDAsync_v2");
    private static final MethodHandle MEMSET_D8 = LibCuda.LIBRARY.downcall(result(LONG, BYTE, LONG), "cuMemsetD8_v2");
    private static final MethodHandle MEMSET_D8_ASYNC = LibCuda.LIBRARY.downcall(result(LONG, BYTE, LONG, PTR), "cuMemsetD8Async");
    private static final MethodHandle MEMSET_D32 = LibCuda.LIBRARY.downcall(result(LONG, INT, LONG), "cuMemsetD32_v2");
    private static final MethodHandle MEMSET_D32_ASYNC = LibCuda.LIBRARY.downcall(result(LONG, INT, LONG, PTR), "cuMemsetD32Async");

    private CuMemory() {
    }

    /** @param dptr out CUdeviceptr @param bytes size @return CUresult */
    public static int cuMemAlloc(MemorySegment dptr, long bytes) {
        try {
            return (int) ALLOC.invokeExact(dptr, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dptr device pointer @return CUresult */
    public static int cuMemFree(long dptr) {
        try {
            return (int) FREE.invokeExact(dptr);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param pp out void* @param bytes size @param flags CU_MEMHOSTALLOC_* @return CUresult */
    public static int cuMemHostAlloc(MemorySegment pp, long bytes, int flags) {
        try {
            return (int) HOST_ALLOC.invokeExact(pp, bytes, flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param p host pointer from cuMemHostAlloc @return CUresult */
    public static int cuMemFreeHost(MemorySegment p) {
        try {
            return (int) FREE_HOST.invokeExact(p);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param src host @param bytes size @return CUresult */
    public static int cuMemcpyHtoD(long dst, MemorySegment src, long bytes) {
        try {
            return (int) HTOD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst host @param src device @param bytes size @return CUresult */
    public static int cuMemcpyDtoH(MemorySegment dst, long src, long bytes) {
        try {
            return (int) DTOH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param src device @param bytes size @return CUresult */
    public static int cuMemcpyDtoD(long dst, long src, long bytes) {
        try {
            return (int) DTOD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param src host @param bytes size @param stream CUstream @return CUresult */
    public static int cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            return (int) HTOD_ASYNC.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst host @param src device @param bytes size @param stream CUstream @return CUresult */
    public static int cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            return (int) DTOH_ASYNC.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param src device @param bytes size @param stream CUstream @return CUresult */
    public static int cuMemcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try {
            return (int) DTOD_ASYNC.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param value byte @param count bytes @return CUresult */
    public static int cuMemsetD8(long dst, byte value, long count) {
        try {
            return (int) MEMSET_D8.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device @param value byte @param count bytes @param stream CUstream @return CUresult */
    public static int cuMemsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        try {
            return (int) MEMSET_D8_ASYNC.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device, 4-byte aligned @param value word @param count words @return CUresult */
    public static int cuMemsetD32(long dst, int value, long count) {
        try {
            return (int) MEMSET_D32.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param dst device, 4-byte aligned @param value word @param count words @param stream CUstream @return CUresult */
    public static int cuMemsetD32Async(long dst, int value, long count, MemorySegment stream) {
        try {
            return (int) MEMSET_D32_ASYNC.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
