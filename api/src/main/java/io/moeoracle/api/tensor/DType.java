package io.moeoracle.api.tensor;

/** Element types of tensors crossing the SPI. Packed 4-bit data travels as {@link #U8}, two values a byte. */
public enum DType {
    /** bfloat16. */
    BF16(2),
    /** IEEE half. */
    F16(2),
    /** IEEE single. */
    F32(4),
    /** IEEE double. */
    F64(8),
    /** unsigned byte (also packed FP4 pairs, E8M0 scales, FP8 codes). */
    U8(1),
    /** signed 8-bit. */
    I8(1),
    /** signed 32-bit. */
    I32(4),
    /** signed 64-bit. */
    I64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** @return bytes per element */
    public int byteSize() {
        return bytes;
    }
}
