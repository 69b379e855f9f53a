package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Contexts: primary context retain/release, current context, synchronize, memory info. */
public final class CuContext {
    private static final MethodHandle PRIMARY_RETAIN = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuDevicePrimaryCtxRetain");
    private static final MethodHandle PRIMARY_RELEASE = LibCuda.LIBRARY.downcall(result(INT), "cuDevicePrimaryCtxRelease_v2");
    private static final MethodHandle SET_CURRENT = LibCuda.LIBRARY.downcall(result(PTR), "cuCtxSetCurrent");
    private static final MethodHandle GET_CURRENT = LibCuda.LIBRARY.downcall(result(PTR), "cuCtxGetCurrent");
    private static final MethodHandle SYNCHRONIZE = LibCuda.LIBRARY.downcall(result(), "cuCtxSynchronize");
    private static final MethodHandle MEM_GET_INFO = LibCuda.LIBRARY.downcall(result(PTR, PTR), "cuMemGetInfo_v2");

    private CuContext() {
    }

    /** @param ctx out CUcontext @param device CUdevice @return CUresult */
    public static int cuDevicePrimaryCtxRetain(MemorySegment ctx, int device) {
        try {
            return (int) PRIMARY_RETAIN.invokeExact(ctx, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param device CUdevice @return CUresult */
    public static int cuDevicePrimaryCtxRelease(int device) {
        try {
            return (int) PRIMARY_RELEASE.invokeExact(device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param ctx CUcontext @return CUresult */
    public static int cuCtxSetCurrent(MemorySegment ctx) {
        try {
            return (int) SET_CURRENT.invokeExact(ctx);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param ctx out CUcontext @return CUresult */
    public static int cuCtxGetCurrent(MemorySegment ctx) {
        try {
            return (int) GET_CURRENT.invokeExact(ctx);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @return CUresult */
    public static int cuCtxSynchronize() {
        try {
            return (int) SYNCHRONIZE.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param free out size_t @param total out size_t @return CUresult */
    public static int cuMemGetInfo(MemorySegment free, MemorySegment total) {
        try {
            return (int) MEM_GET_INFO.invokeExact(free, total);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
