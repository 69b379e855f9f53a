package io.moeoracle.driver.nccl;

import io.moeoracle.api.tensor.DType;

/** {@code ncclDataType_t}: the element types NCCL moves and reduces. */
public enum NcclDataType {
    /** {@code ncclInt8}. */
    INT8(0, 1),
    /** {@code ncclUint8}. */
    UINT8(1, 1),
    /** {@code ncclInt32}. */
    INT32(2, 4),
    /** {@code ncclUint32}. */
    UINT32(3, 4),
    /** {@code ncclInt64}. */
    INT64(4, 8),
    /** {@code ncclUint64}. */
    UINT64(5, 8),
    /** {@code ncclFloat16}. */
    FLOAT16(6, 2),
    /** {@code ncclFloat32}. */
    FLOAT32(7, 4),
    /** {@code ncclFloat64}. */
    FLOAT64(8, 8),
    /** {@code ncclBfloat16} (NCCL 2.10+). */
    BFLOAT16(9, 2);

    private final int code;
    private final int byteSize;

    NcclDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** @return NCCL's enum value */
    public int code() {
        return code;
    }

    /** @return bytes per element */
    public int byteSize() {
        return byteSize;
    }

    /**
     * @param dtype a tensor element type
     * @return the NCCL type of the same bits
     */
    public static NcclDataType of(DType dtype) {
        return switch (dtype) {
            case F32 -> FLOAT32;
            case BF16 -> BFLOAT16;
            case F16 -> FLOAT16;
            case F64 -> FLOAT64;
            case I32 -> INT32;
            case U8 -> UINT8;
            case I8 -> INT8;
            case I64 -> INT64;
        };
    }
}
