package io.moeoracle.api.quant;

/**
 * OCP MX E8M0 shared scales: an unsigned biased exponent, value {@code 2^(code - 127)} for codes
 * 0..254 and NaN for 0xFF. There is no zero, no sign and no infinity.
 */
public final class E8m0 {
    /** The exponent bias. */
    public static final int BIAS = 127;
    /** The code of NaN. */
    public static final int NAN_CODE = 0xFF;
    /** The smallest exponent a code can hold ({@code 2^-127}, code 0). */
    public static final int MIN_EXPONENT = -127;
    /** The largest exponent a code can hold ({@code 2^127}, code 254). */
    public static final int MAX_EXPONENT = 127;

    private static final double[] VALUES = new double[256];

    static {
        for (int c = 0; c < 255; c++) {
            VALUES[c] = Math.scalb(1.0, c - BIAS);
        }
        VALUES[NAN_CODE] = Double.NaN;
    }

    private E8m0() {
    }

    /**
     * @param code an E8M0 code in the low 8 bits (higher bits are ignored)
     * @return {@code 2^(code - 127)}, or NaN for 0xFF
     */
    public static double toDouble(int code) {
        return VALUES[code & 0xFF];
    }

    /**
     * The value as a float; exact for every code ({@code 2^-127} is a float subnormal).
     *
     * @param code an E8M0 code in the low 8 bits
     * @return {@code 2^(code - 127)}, or NaN for 0xFF
     */
    public static float toFloat(int code) {
        return (float) VALUES[code & 0xFF];
    }

    /**
     * @param code an E8M0 code in the low 8 bits
     * @return whether it is the NaN code 0xFF
     */
    public static boolean isNaN(int code) {
        return (code & 0xFF) == NAN_CODE;
    }

    /**
     * The code of {@code 2^exponent}, clamped to the representable range {@code [-127, 127]}.
     *
     * @param exponent a power of two
     * @return the code, 0..254
     */
    public static int fromExponent(int exponent) {
        int e = Math.max(MIN_EXPONENT, Math.min(MAX_EXPONENT, exponent));
        return e + BIAS;
    }

    /**
     * @param code a non-NaN code, 0..254
     * @return its exponent, {@code code - 127}
     * @throws IllegalArgumentException for 0xFF or codes outside 0..255
     */
    public static int exponent(int code) {
        if (code < 0 || code >= NAN_CODE) {
            throw new IllegalArgumentException("E8M0 code " + code + " has no exponent; valid codes are 0..254 (255 is NaN)");
        }
        return code - BIAS;
    }
}
