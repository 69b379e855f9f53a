package io.moeoracle.api.spec;

import java.util.Locale;

/**
 * How expert weights are stored. {@link #blockSize()} is the number of consecutive values along
 * the reduction dimension that share one scale; both hidden and intermediate sizes must be
 * multiples of it.
 *
 * @param kind the family of the format
 * @param groupSize values per scale group; only meaningful for {@link Kind#INT4_GROUP}
 */
public record WeightFormat(Kind kind, int groupSize) {

    /** The weight format families. */
    public enum Kind {
        /** Unquantized bfloat16. */
        BF16,
        /** OCP MX FP4: E2M1 values with one E8M0 scale per 32. */
        MXFP4,
        /** NVIDIA FP4: E2M1 values with one E4M3 scale per 16 and a global scale. */
        NVFP4,
        /** FP8 E4M3 with one scale per 128x128 block. */
        FP8_BLOCK128,
        /** Integer 4-bit with one scale per {@code groupSize} values. */
        INT4_GROUP
    }

    /** Unquantized bfloat16 weights. */
    public static final WeightFormat BF16 = new WeightFormat(Kind.BF16, 1);
    /** MXFP4 weights (the gpt-oss checkpoints). */
    public static final WeightFormat MXFP4 = new WeightFormat(Kind.MXFP4, 32);
    /** NVFP4 weights. */
    public static final WeightFormat NVFP4 = new WeightFormat(Kind.NVFP4, 16);
    /** FP8 weights with 128x128 block scales. */
    public static final WeightFormat FP8_BLOCK128 = new WeightFormat(Kind.FP8_BLOCK128, 128);

    /** Validates the group size. */
    public WeightFormat {
        if (kind == null) {
            throw new InvalidSpecException("weightFormat", "weightFormat must not be null");
        }
        if (kind == Kind.INT4_GROUP) {
            if (groupSize <= 0 || Integer.bitCount(groupSize) != 1 || groupSize < 16 || groupSize > 1024) {
                throw new InvalidSpecException("groupSize",
                        "groupSize " + groupSize + " must be a power of two between 16 and 1024 for INT4_GROUP");
            }
        }
    }

    /**
     * @param groupSize values per scale, a power of two in [16, 1024]
     * @return the INT4 format with that group size
     */
    public static WeightFormat int4Group(int groupSize) {
        return new WeightFormat(Kind.INT4_GROUP, groupSize);
    }

    /** @return the number of values that share a scale along the reduction dimension */
    public int blockSize() {
        return switch (kind) {
            case BF16 -> 1;
            case MXFP4 -> 32;
            case NVFP4 -> 16;
            case FP8_BLOCK128 -> 128;
            case INT4_GROUP -> groupSize;
        };
    }

    /** @return bits per stored weight value, scales not counted */
    public int bitsPerValue() {
        return switch (kind) {
            case BF16 -> 16;
            case MXFP4, NVFP4, INT4_GROUP -> 4;
            case FP8_BLOCK128 -> 8;
        };
    }

    /** @return whether the weights are quantized */
    public boolean isQuantized() {
        return kind != Kind.BF16;
    }

    /**
     * Parses {@code bf16}, {@code mxfp4}, {@code nvfp4}, {@code fp8-block128} or {@code int4-g128}.
     *
     * @param text the format name, case-insensitive
     * @return the format
     * @throws InvalidSpecException naming the accepted names when the text is none of them
     */
    public static WeightFormat parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        switch (t) {
            case "bf16": return BF16;
            case "mxfp4": return MXFP4;
            case "nvfp4": return NVFP4;
            case "fp8-block128", "fp8": return FP8_BLOCK128;
            default:
                if (t.startsWith("int4-g")) {
                    try {
                        return int4Group(Integer.parseInt(t.substring("int4-g".length())));
                    } catch (NumberFormatException e) {
                        // fall through to the error below
                    }
                }
                throw new InvalidSpecException("weightFormat", "weight format '" + text
                        + "' is unknown; use one of bf16, mxfp4, nvfp4, fp8-block128, int4-g<groupSize>");
        }
    }

    // written out, not bootstrapped through ObjectMethods on first use (see MoeLayerSpec)
    @Override
    public boolean equals(Object o) {
        return o instanceof WeightFormat w && kind == w.kind && groupSize == w.groupSize;
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + groupSize;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case BF16 -> "bf16";
            case MXFP4 -> "mxfp4";
            case NVFP4 -> "nvfp4";
            case FP8_BLOCK128 -> "fp8-block128";
            case INT4_GROUP -> "int4-g" + groupSize;
        };
    }
}
