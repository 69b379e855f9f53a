package io.moeoracle.api.quant;

/**
 * OCP MX FP8 with E4M3 elements: blocks of 32 one-byte values sharing one E8M0 scale (OCP
 * Microscaling Formats v1.0, OFP8 E4M3). E4M3 is one sign bit, four exponent bits (bias 7) and
 * three mantissa bits; the largest magnitude is 448, there are no infinities and
 * {@code S.1111.111} is NaN. Conversions here saturate: anything beyond ±448 becomes ±448.
 */
public final class Mxfp8 {
    /** Values sharing one scale. */
    public static final int BLOCK = 32;
    /** The largest E4M3 magnitude. */
    public static final float MAX = 448.0f;
    /** The exponent of the largest E4M3 normal, {@code emax_elem} in the spec. */
    public static final int EMAX_ELEM = 8;
    /** The positive NaN code, {@code 0.1111.111}. */
    public static final int NAN_CODE = 0x7F;
    /** The code of +448, {@code 0.1111.110}. */
    public static final int MAX_CODE = 0x7E;

    private static final float[] E4M3 = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            int e = (c >>> 3) & 0xF;
            int m = c & 7;
            double v = e == 0 ? Math.scalb(m / 8.0, -6) : Math.scalb(1 + m / 8.0, e - 7);
            if ((c & 0x7F) == NAN_CODE) {
                v = Double.NaN;
            }
            E4M3[c] = (float) ((c & 0x80) != 0 ? -v : v);
        }
    }

    private Mxfp8() {
    }

    /**
     * @param code an E4M3 code in the low 8 bits
     * @return its value, unscaled (NaN for {@code S.1111.111})
     */
    public static float decode(int code) {
        return E4M3[code & 0xFF];
    }

    /**
     * Rounds to the nearest E4M3 value, ties to even, saturating at ±448; NaN gives the NaN code.
     *
     * @param value an unscaled value
     * @return the E4M3 code, 0..255
     */
    public static int encodeElement(double value) {
        int sign = (Double.doubleToRawLongBits(value) < 0) ? 0x80 : 0;
        if (Double.isNaN(value)) {
            return NAN_CODE;
        }
        double x = Math.abs(value);
        if (x >= MAX) {
            return sign | MAX_CODE;
        }
        int code;
        if (x < 0x1p-6) {
            // subnormals (and the smallest normal, reached by rounding up): steps of 2^-9
            code = (int) Math.rint(x * 0x1p9);
        } else {
            int e = Math.getExponent(x);
            int r = (int) Math.rint(Math.scalb(x, 3 - e)); // 8..16
            code = ((e + 7) << 3) + (r - 8);
        }
        return sign | Math.min(code, MAX_CODE);
    }

    /**
     * Quantizes one block of 32 floats: shared exponent {@code X = floor(log2(max|v|)) - 8}
     * (clamped to the E8M0 range), each {@code v / 2^X} rounded to E4M3, ties to even, saturating.
     * An all-zero block gets code 0; a block holding a NaN or an infinity gets the NaN scale 0xFF
     * and zero elements.
     *
     * @param values source
     * @param offset index of the block's first value (32 are read)
     * @param out destination of the 32 E4M3 codes
     * @param outOffset index of the first code written
     * @return the E8M0 scale code
     */
    public static int encode(float[] values, int offset, byte[] out, int outOffset) {
        double amax = 0;
        for (int i = 0; i < BLOCK; i++) {
            float v = values[offset + i];
            if (!Float.isFinite(v)) {
                return nanBlock(out, outOffset);
            }
            amax = Math.max(amax, Math.abs(v));
        }
        int code = Mxfp4.sharedScaleCode(amax, EMAX_ELEM);
        int x = code - E8m0.BIAS;
        for (int i = 0; i < BLOCK; i++) {
            out[outOffset + i] = (byte) encodeElement(Math.scalb((double) values[offset + i], -x));
        }
        return code;
    }

    /**
     * As {@link #encode(float[], int, byte[], int)} for doubles (the scaled value is rounded to
     * E4M3 once, directly from the double).
     *
     * @param values source
     * @param offset index of the block's first value (32 are read)
     * @param out destination of the 32 E4M3 codes
     * @param outOffset index of the first code written
     * @return the E8M0 scale code
     */
    public static int encode(double[] values, int offset, byte[] out, int outOffset) {
        double amax = 0;
        for (int i = 0; i < BLOCK; i++) {
            double v = values[offset + i];
            if (!Double.isFinite(v)) {
                return nanBlock(out, outOffset);
            }
            amax = Math.max(amax, Math.abs(v));
        }
        int code = Mxfp4.sharedScaleCode(amax, EMAX_ELEM);
        int x = code - E8m0.BIAS;
        for (int i = 0; i < BLOCK; i++) {
            out[outOffset + i] = (byte) encodeElement(Math.scalb(values[offset + i], -x));
        }
        return code;
    }

    private static int nanBlock(byte[] out, int outOffset) {
        for (int i = 0; i < BLOCK; i++) {
            out[outOffset + i] = 0;
        }
        return E8m0.NAN_CODE;
    }

    /**
     * Decodes one block of 32 values.
     *
     * @param codes E4M3 codes
     * @param offset index of the block's first code (32 are read)
     * @param scaleCode the block's E8M0 code
     * @param out destination
     * @param outOffset index of the first value written (32 are written)
     */
    public static void decodeBlock(byte[] codes, int offset, int scaleCode, float[] out, int outOffset) {
        double s = E8m0.toDouble(scaleCode);
        for (int i = 0; i < BLOCK; i++) {
            out[outOffset + i] = (float) (E4M3[codes[offset + i] & 0xFF] * s);
        }
    }

    /**
     * Decodes one block of 32 values into doubles (exact for every scale).
     *
     * @param codes E4M3 codes
     * @param offset index of the block's first code (32 are read)
     * @param scaleCode the block's E8M0 code
     * @param out destination
     * @param outOffset index of the first value written (32 are written)
     */
    public static void decodeBlock(byte[] codes, int offset, int scaleCode, double[] out, int outOffset) {
        double s = E8m0.toDouble(scaleCode);
        for (int i = 0; i < BLOCK; i++) {
            out[outOffset + i] = E4M3[codes[offset + i] & 0xFF] * s;
        }
    }

    /**
     * Quantizes {@code values[offset, offset + n)} to MXFP8 block by block (n a multiple of 32) and
     * writes the dequantized values back in place: what a kernel with MXFP8 activations sees.
     *
     * @param values the values, overwritten
     * @param offset first index
     * @param n count, a multiple of 32
     */
    public static void quantizeDequantize(double[] values, int offset, int n) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("MXFP8 quantizes blocks of " + BLOCK + "; " + n + " values is not a multiple");
        }
        byte[] codes = new byte[BLOCK];
        for (int b = 0; b < n; b += BLOCK) {
            int scale = encode(values, offset + b, codes, 0);
            decodeBlock(codes, 0, scale, values, offset + b);
        }
    }
}
