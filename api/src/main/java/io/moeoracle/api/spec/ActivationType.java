package io.moeoracle.api.spec;

import java.util.Locale;

/** The type activations take inside the expert GEMMs. */
public enum ActivationType {
    /** Let the selector choose; BF16-activation variants come first at equal priority. */
    AUTO,
    /** Activations stay bfloat16. */
    BF16,
    /** Activations quantized to OCP MXFP8 (E4M3 with one E8M0 scale per 32). */
    MXFP8,
    /** Activations quantized to FP8 E4M3 with one scale per token. */
    FP8_PER_TOKEN;

    /** @return whether this type quantizes activations */
    public boolean isQuantized() {
        return this == MXFP8 || this == FP8_PER_TOKEN;
    }

    /**
     * @param text {@code auto}, {@code bf16}, {@code mxfp8} or {@code fp8-per-token}
     * @return the activation type
     */
    public static ActivationType parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (t) {
            case "auto" -> AUTO;
            case "bf16" -> BF16;
            case "mxfp8" -> MXFP8;
            case "fp8-per-token", "fp8" -> FP8_PER_TOKEN;
            default -> throw new InvalidSpecException("activationType", "activation type '" + text
                    + "' is unknown; use one of auto, bf16, mxfp8, fp8-per-token");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
