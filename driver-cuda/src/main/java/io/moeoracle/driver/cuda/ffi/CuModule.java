package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Modules and functions: load from an image, unload, look up a kernel, its attributes, and launch it. */
public final class CuModule {
    private static final MethodHandle LOAD_DATA_EX = LibCuda.LIBRARY.downcall(result(PTR, PTR, INT, PTR, PTR), "cuModuleLoadDataEx");
    private static final MethodHandle UNLOAD = LibCuda.LIBRARY.downcall(result(PTR), "cuModuleUnload");
    private static final MethodHandle GET_FUNCTION = LibCuda.LIBRARY.downcall(result(PTR, PTR, PTR), "cuModuleGetFunction");
    private static final MethodHandle FUNC_GET_ATTRIBUTE = LibCuda.LIBRARY.downcall(result(PTR, INT, PTR), "cuFuncGetAttribute");
    private static final MethodHandle FUNC_SET_ATTRIBUTE = LibCuda.LIBRARY.downcall(result(PTR, INT, INT), "cuFuncSetAttribute");
    private static final MethodHandle LAUNCH_KERNEL = LibCuda.LIBRARY.downcall(
            result(PTR, INT, INT, INT, INT, INT, INT, INT, PTR, PTR, PTR), "cuLaunchKernel");

    private static final MethodHandle OCCUPANCY = LibCuda.LIBRARY.downcall(
            result(PTR, PTR, INT, CuTypes.LONG), "cuOccupancyMaxActiveBlocksPerMultiprocessor");

    private CuModule() {
    }

    /**
     * @param module out CUmodule @param image the image bytes (PTX NUL-terminated)
     * @param numOptions option count @param options CUjit_option[] @param values void*[]
     * @return CUresult
     */
    public static int cuModuleLoadDataEx(MemorySegment module, MemorySegment image, int numOptions,
                                         MemorySegment options, MemorySegment values) {
        try {
            return (int) LOAD_DATA_EX.invokeExact(module, image, numOptions, options, values);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param module CUmodule @return CUresult */
    public static int cuModuleUnload(MemorySegment module) {
        try {
            return (int) UNLOAD.invokeExact(module);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param function out CUfunction @param module CUmodule @param name C string @return CUresult */
    public static int cuModuleGetFunction(MemorySegment function, MemorySegment module, MemorySegment name) {
        try {
            return (int) GET_FUNCTION.invokeExact(function, module, name);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param value out int @param attribute CUfunction_attribute @param function CUfunction @return CUresult */
    public static int cuFuncGetAttribute(MemorySegment value, int attribute, MemorySegment function) {
        try {
            return (int) FUNC_GET_ATTRIBUTE.invokeExact(value, attribute, function);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param function CUfunction @param attribute CUfunction_attribute @param value value @return CUresult */
    public static int cuFuncSetAttribute(MemorySegment function, int attribute, int value) {
        try {
            return (int) FUNC_SET_ATTRIBUTE.invokeExact(function, attribute, value);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * {@code cuLaunchKernel(f, grid xyz, block xyz, sharedMemBytes, stream, kernelParams, extra)}.
     *
     * @param function CUfunction @param gx grid x @param gy grid y @param gz grid z
     * @param bx block x @param by block y @param bz block z @param sharedMemBytes dynamic shared memory
     * @param stream CUstream (NULL: the legacy default stream) @param params void** @param extra void** (NULL)
     * @return CUresult
     */
    public static int cuLaunchKernel(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz,
                                     int sharedMemBytes, MemorySegment stream, MemorySegment params,
                                     MemorySegment extra) {
        try {
            return (int) LAUNCH_KERNEL.invokeExact(function, gx, gy, gz, bx, by, bz, sharedMemBytes, stream, params, extra);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param numBlocks out int @param function CUfunction @param blockSize threads per block
     * @param dynamicSmem dynamic shared memory per block, bytes
     * @return CUresult
     */
    public static int cuOccupancyMaxActiveBlocksPerMultiprocessor(MemorySegment numBlocks, MemorySegment function,
                                                                  int blockSize, long dynamicSmem) {
        try {
            return (int) OCCUPANCY.invokeExact(numBlocks, function, blockSize, dynamicSmem);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
