package io.moeoracle.api.quant;

/** bfloat16: the upper 16 bits of an IEEE single. Conversion from float rounds to nearest even. */
public final class Bf16 {
    private Bf16() {
    }

    /**
     * @param bits a bf16 bit pattern in the low 16 bits
     * @return its value
     */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Rounds to nearest even; NaN stays a (quiet) NaN, infinities stay infinities.
     *
     * @param value a float
     * @return the nearest bf16 bit pattern
     */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF) != 0) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
