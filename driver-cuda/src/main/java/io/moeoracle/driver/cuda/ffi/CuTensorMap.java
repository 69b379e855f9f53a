package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Tensor-map descriptors for the Hopper bulk tensor copy engine (TMA): {@code cuTensorMapEncodeTiled}. */
public final class CuTensorMap {
    private static final MethodHandle ENCODE_TILED = LibCuda.LIBRARY.downcall(
            result(PTR, INT, INT, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT), "cuTensorMapEncodeTiled");

    private CuTensorMap() {
    }

    /**
     * @param tensorMap out CUtensorMap (128 bytes, 64-byte aligned) @param dataType CUtensorMapDataType
     * @param rank 1..5 @param globalAddress device address @param globalDim cuuint64_t[rank]
     * @param globalStrides cuuint64_t[rank-1], bytes @param boxDim cuuint32_t[rank]
     * @param elementStrides cuuint32_t[rank] @param interleave CUtensorMapInterleave
     * @param swizzle CUtensorMapSwizzle @param l2Promotion CUtensorMapL2promotion
     * @param oobFill CUtensorMapFloatOOBfill
     * @return CUresult
     */
    public static int cuTensorMapEncodeTiled(MemorySegment tensorMap, int dataType, int rank, MemorySegment globalAddress,
                                             MemorySegment globalDim, MemorySegment globalStrides, MemorySegment boxDim,
                                             MemorySegment elementStrides, int interleave, int swizzle, int l2Promotion,
                                             int oobFill) {
        try {
            return (int) ENCODE_TILED.invokeExact(tensorMap, dataType, rank, globalAddress, globalDim, globalStrides,
                    boxDim, elementStrides, interleave, swizzle, l2Promotion, oobFill);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
