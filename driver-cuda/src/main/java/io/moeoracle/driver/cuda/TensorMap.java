package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuTensorMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A tiled tensor-map descriptor ({@code CUtensorMap}, 128 bytes) for the Hopper bulk tensor copy
 * engine, encoded by {@code cuTensorMapEncodeTiled}. Pass it by value to a kernel parameter
 * declared {@code const __grid_constant__ CUtensorMap} with {@link KernelArgs.Builder#tensorMap}.
 * The driver's rules are checked in Java first, so a bad shape fails with a message, not
 * {@code CUDA_ERROR_INVALID_VALUE}. Dimensions are given innermost (contiguous) first, as the driver takes them.
 */
public final class TensorMap {
    /** Size of a {@code CUtensorMap}. */
    public static final int BYTES = 128;

    /** {@code CUtensorMapDataType} (the common ones). */
    public enum DataType {
        /** 1-byte elements (also FP8 and packed FP4 bytes). */
        UINT8(0, 1),
        /** 2-byte unsigned. */
        UINT16(1, 2),
        /** 4-byte unsigned. */
        UINT32(2, 4),
        /** 4-byte signed. */
        INT32(3, 4),
        /** IEEE half. */
        FLOAT16(6, 2),
        /** IEEE single. */
        FLOAT32(7, 4),
        /** bfloat16. */
        BFLOAT16(9, 2);

        private final int code;
        private final int bytes;

        DataType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        /** @return bytes per element */
        public int byteSize() {
            return bytes;
        }
    }

    /** {@code CUtensorMapSwizzle}: how the tile is laid out in shared memory. */
    public enum Swizzle {
        /** Row-major, no swizzle. */
        NONE(0, 0),
        /** 32-byte swizzle (inner box ≤ 32 bytes). */
        B32(1, 32),
        /** 64-byte swizzle (inner box ≤ 64 bytes). */
        B64(2, 64),
        /** 128-byte swizzle (inner box ≤ 128 bytes), what wgmma tiles usually want. */
        B128(3, 128);

        private final int code;
        private final int span;

        Swizzle(int code, int span) {
            this.code = code;
            this.span = span;
        }
    }

    /** {@code CUtensorMapL2promotion}. */
    public enum L2Promotion {
        /** None. */
        NONE(0),
        /** 64 bytes. */
        B64(1),
        /** 128 bytes. */
        B128(2),
        /** 256 bytes. */
        B256(3);

        private final int code;

        L2Promotion(int code) {
            this.code = code;
        }
    }

    private final byte[] bytes;
    private final String description;

    private TensorMap(byte[] bytes, String description) {
        this.bytes = bytes;
        this.description = description;
    }

    /**
     * Encodes a tiled map over device memory. Out-of-bounds parts of a box read as zeros.
     *
     * @param address the tensor's device address, 16-byte aligned
     * @param type element type
     * @param globalDims extents, innermost first (rank 1..5), each 1 .. 2^32
     * @param globalStridesBytes strides of dims 1..rank-1 in bytes (rank-1 entries), multiples of 16, &lt; 2^40
     * @param boxDims the tile, innermost first, each 1..256; the inner extent times the element size a multiple of 16
     * @param swizzle shared-memory layout of the tile
     * @param l2 L2 promotion
     * @return the descriptor
     */
    public static TensorMap encodeTiled(long address, DataType type, long[] globalDims, long[] globalStridesBytes,
                                        int[] boxDims, Swizzle swizzle, L2Promotion l2) {
        int rank = globalDims.length;
        String what = "tensor map " + type + " dims " + Arrays.toString(globalDims) + " strides "
                + Arrays.toString(globalStridesBytes) + " box " + Arrays.toString(boxDims) + " swizzle " + swizzle;
        if (rank < 1 || rank > 5) {
            throw new IllegalArgumentException(what + ": rank must be 1..5");
        }
        if (globalStridesBytes.length != rank - 1 || boxDims.length != rank) {
            throw new IllegalArgumentException(what + ": needs " + (rank - 1) + " strides and " + rank + " box extents");
        }
        if (address % 16 != 0) {
            throw new IllegalArgumentException(what + ": the address 0x" + Long.toHexString(address) + " is not 16-byte aligned");
        }
        for (long d : globalDims) {
            if (d < 1 || d > (1L << 32)) {
                throw new IllegalArgumentException(what + ": every extent must be 1 .. 2^32");
            }
        }
        long previous = globalDims[0] * type.bytes;
        for (int i = 0; i < globalStridesBytes.length; i++) {
            long s = globalStridesBytes[i];
            if (s % 16 != 0 || s >= (1L << 40)) {
                throw new IllegalArgumentException(what + ": stride " + i + " (" + s + " bytes) must be a multiple of 16 below 2^40");
            }
            if (s < previous) {
                throw new IllegalArgumentException(what + ": stride " + i + " (" + s + " bytes) is smaller than the "
                        + previous + " bytes of the dimensions inside it");
            }
            previous = s * globalDims[i + 1];
        }
        for (int b : boxDims) {
            if (b < 1 || b > 256) {
                throw new IllegalArgumentException(what + ": every box extent must be 1..256");
            }
        }
        long innerBytes = (long) boxDims[0] * type.bytes;
        if (innerBytes % 16 != 0) {
            throw new IllegalArgumentException(what + ": the inner box extent is " + innerBytes + " bytes, not a multiple of 16");
        }
        if (swizzle != Swizzle.NONE && innerBytes > swizzle.span) {
            throw new IllegalArgumentException(what + ": with " + swizzle + " swizzle the inner box may span at most "
                    + swizzle.span + " bytes, it spans " + innerBytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(BYTES, 128);
            MemorySegment dims = arena.allocateFrom(ValueLayout.JAVA_LONG, globalDims);
            MemorySegment strides = arena.allocateFrom(ValueLayout.JAVA_LONG,
                    globalStridesBytes.length == 0 ? new long[] {0} : globalStridesBytes);
            MemorySegment box = arena.allocateFrom(ValueLayout.JAVA_INT, boxDims);
            int[] ones = new int[rank];
            Arrays.fill(ones, 1);
            MemorySegment elementStrides = arena.allocateFrom(ValueLayout.JAVA_INT, ones);
            int rc = CuTensorMap.cuTensorMapEncodeTiled(map, type.code, rank, MemorySegment.ofAddress(address), dims,
                    strides, box, elementStrides, 0, swizzle.code, l2.code, 0);
            if (rc != 0) {
                throw CudaException.of(rc, "cuTensorMapEncodeTiled", what + ", address=0x" + Long.toHexString(address));
            }
            return new TensorMap(map.toArray(ValueLayout.JAVA_BYTE), what);
        }
    }

    /** @return a copy of the 128 descriptor bytes */
    public MemorySegment bytes() {
        return MemorySegment.ofArray(bytes.clone());
    }

    @Override
    public String toString() {
        return description;
    }
}
