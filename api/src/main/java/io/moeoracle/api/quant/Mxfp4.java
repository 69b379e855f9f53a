package io.moeoracle.api.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * OCP MX FP4: blocks of 32 E2M1 values sharing one E8M0 scale (OCP Microscaling Formats v1.0).
 * E2M1 is one sign bit, two exponent bits (bias 1) and one mantissa bit: magnitudes
 * {@code 0, 0.5, 1, 1.5, 2, 3, 4, 6}, no infinities, no NaN. Two values pack into a byte, the
 * first in the low nibble. A block is 16 packed bytes plus one scale code.
 */
public final class Mxfp4 {
    /** Values sharing one scale. */
    public static final int BLOCK = 32;
    /** Packed bytes per block. */
    public static final int BLOCK_BYTES = BLOCK / 2;
    /** The largest E2M1 magnitude. */
    public static final float MAX = 6.0f;
    /** The exponent of the largest E2M1 normal, {@code emax_elem} in the spec. */
    public static final int EMAX_ELEM = 2;

    private static final float[] E2M1 = {
        0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
    };

    private Mxfp4() {
    }

    /** @return a copy of the 16 E2M1 values indexed by nibble (8..15 are the negatives) */
    public static float[] valueTable() {
        return E2M1.clone();
    }

    /**
     * @param nibble an E2M1 code in the low 4 bits (higher bits are ignored)
     * @return its value, unscaled
     */
    public static float decode(int nibble) {
        return E2M1[nibble & 0xF];
    }

    /**
     * Rounds to the nearest E2M1 value, ties to even, saturating at ±6. NaN gives +0 (E2M1 has no
     * NaN; {@link #encode} marks blocks holding a NaN with the NaN scale instead).
     *
     * @param value an unscaled value
     * @return the nibble, 0..15
     */
    public static int encodeElement(double value) {
        if (Double.isNaN(value)) {
            return 0;
        }
        int sign = (Double.doubleToRawLongBits(value) < 0) ? 8 : 0;
        double x = Math.abs(value);
        int code;
        // thresholds are the midpoints; at a midpoint the even code (mantissa bit 0) wins
        if (x <= 0.25) {
            code = 0;
        } else if (x < 0.75) {
            code = 1;
        } else if (x <= 1.25) {
            code = 2;
        } else if (x < 1.75) {
            code = 3;
        } else if (x <= 2.5) {
            code = 4;
        } else if (x < 3.5) {
            code = 5;
        } else if (x <= 5.0) {
            code = 6;
        } else {
            code = 7;
        }
        return sign | code;
    }

    /**
     * Decodes one block of 32 values.
     *
     * @param packed packed nibbles
     * @param packedOffset index of the block's first byte (16 bytes are read)
     * @param scaleCode the block's E8M0 code
     * @param out destination
     * @param outOffset index of the first value written (32 are written)
     */
    public static void decodeBlock(byte[] packed, int packedOffset, int scaleCode, float[] out, int outOffset) {
        float s = E8m0.toFloat(scaleCode);
        for (int i = 0; i < BLOCK_BYTES; i++) {
            int b = packed[packedOffset + i];
            out[outOffset + 2 * i] = E2M1[b & 0xF] * s;
            out[outOffset + 2 * i + 1] = E2M1[(b >>> 4) & 0xF] * s;
        }
    }

    /**
     * Decodes one block of 32 values into doubles (exact for every scale, even {@code 6 * 2^127}).
     *
     * @param packed packed nibbles
     * @param packedOffset index of the block's first byte (16 bytes are read)
     * @param scaleCode the block's E8M0 code
     * @param out destination
     * @param outOffset index of the first value written (32 are written)
     */
    public static void decodeBlock(byte[] packed, int packedOffset, int scaleCode, double[] out, int outOffset) {
        double s = E8m0.toDouble(scaleCode);
        for (int i = 0; i < BLOCK_BYTES; i++) {
            int b = packed[packedOffset + i];
            out[outOffset + 2 * i] = E2M1[b & 0xF] * s;
            out[outOffset + 2 * i + 1] = E2M1[(b >>> 4) & 0xF] * s;
        }
    }

    /**
     * Decodes one block of 32 values from memory.
     *
     * @param packed packed nibbles
     * @param byteOffset offset of the block's first byte (16 bytes are read)
     * @param scaleCode the block's E8M0 code
     * @param out destination
     * @param outOffset index of the first value written (32 are written)
     */
    public static void decodeBlock(MemorySegment packed, long byteOffset, int scaleCode, float[] out, int outOffset) {
        float s = E8m0.toFloat(scaleCode);
        for (int i = 0; i < BLOCK_BYTES; i++) {
            int b = packed.get(ValueLayout.JAVA_BYTE, byteOffset + i);
            out[outOffset + 2 * i] = E2M1[b & 0xF] * s;
            out[outOffset + 2 * i + 1] = E2M1[(b >>> 4) & 0xF] * s;
        }
    }

    /**
     * Quantizes one block of 32 values per OCP MX v1.0: shared exponent
     * {@code X = floor(log2(max|v|)) - 2} (clamped to the E8M0 range), each {@code v / 2^X} rounded
     * to the nearest E2M1 value, ties to even, saturating at ±6. An all-zero block gets code 0
     * ({@code 2^-127}); a block holding a NaN or an infinity gets the NaN scale 0xFF and zero nibbles.
     *
     * @param values source
     * @param offset index of the block's first value (32 are read)
     * @param packedOut destination of the 16 packed bytes, low nibble first
     * @param packedOffset index of the first byte written
     * @return the E8M0 scale code
     */
    public static int encode(float[] values, int offset, byte[] packedOut, int packedOffset) {
        double amax = 0;
        for (int i = 0; i < BLOCK; i++) {
            float v = values[offset + i];
            if (!Float.isFinite(v)) {
                for (int j = 0; j < BLOCK_BYTES; j++) {
                    packedOut[packedOffset + j] = 0;
                }
                return E8m0.NAN_CODE;
            }
            amax = Math.max(amax, Math.abs(v));
        }
        int code = sharedScaleCode(amax, EMAX_ELEM);
        int x = code - E8m0.BIAS;
        for (int i = 0; i < BLOCK_BYTES; i++) {
            // dividing by a power of two in double is exact, so only the E2M1 rounding rounds
            int lo = encodeElement(Math.scalb((double) values[offset + 2 * i], -x));
            int hi = encodeElement(Math.scalb((double) values[offset + 2 * i + 1], -x));
            packedOut[packedOffset + i] = (byte) (lo | (hi << 4));
        }
        return code;
    }

    /**
     * The OCP MX shared scale for a block: {@code floor(log2(amax)) - emaxElem}, clamped to the
     * E8M0 range; code 0 for an all-zero block.
     *
     * @param amax the largest magnitude in the block, finite and non-negative
     * @param emaxElem the element format's largest normal exponent
     * @return the E8M0 code
     */
    static int sharedScaleCode(double amax, int emaxElem) {
        if (amax == 0) {
            return 0;
        }
        return E8m0.fromExponent(Math.getExponent(amax) - emaxElem);
    }
}
