package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Initialization, version and error text: {@code cuInit}, {@code cuDriverGetVersion}, {@code cuGetError*}. */
public final class CuInit {
    private static final MethodHandle CU_INIT = LibCuda.LIBRARY.downcall(result(INT), "cuInit");
    private static final MethodHandle CU_DRIVER_GET_VERSION = LibCuda.LIBRARY.downcall(result(PTR), "cuDriverGetVersion");

    /** The error-text functions, linked when an error is first described: the probe of a working driver needs neither. */
    private static final class Errors {
        static final MethodHandle CU_GET_ERROR_NAME = LibCuda.LIBRARY.downcall(result(INT, PTR), "cuGetErrorName");
        static final MethodHandle CU_GET_ERROR_STRING = LibCuda.LIBRARY.downcall(result(INT, PTR), "cuGetErrorString");
    }

    private CuInit() {
    }

    /** @param flags must be 0 @return CUresult */
    public static int cuInit(int flags) {
        try {
            return (int) CU_INIT.invokeExact(flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param version out int @return CUresult */
    public static int cuDriverGetVersion(MemorySegment version) {
        try {
            return (int) CU_DRIVER_GET_VERSION.invokeExact(version);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param error a CUresult @param str out const char* @return CUresult */
    public static int cuGetErrorName(int error, MemorySegment str) {
        try {
            return (int) Errors.CU_GET_ERROR_NAME.invokeExact(error, str);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param error a CUresult @param str out const char* @return CUresult */
    public static int cuGetErrorString(int error, MemorySegment str) {
        try {
            return (int) Errors.CU_GET_ERROR_STRING.invokeExact(error, str);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
