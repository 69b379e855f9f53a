package io.moeoracle.api.spec;

import java.util.Objects;

/**
 * Weight format plus activation type: the two axes a kernel is chosen on.
 *
 * @param weights how the expert weights are stored
 * @param activations the activation type inside the GEMMs, or {@link ActivationType#AUTO}
 */
public record QuantScheme(WeightFormat weights, ActivationType activations) {

    /** MXFP4 weights, activation type left to the selector. */
    public static final QuantScheme MXFP4_AUTO = new QuantScheme(WeightFormat.MXFP4, ActivationType.AUTO);
    /** MXFP4 weights with BF16 activations. */
    public static final QuantScheme MXFP4_BF16 = new QuantScheme(WeightFormat.MXFP4, ActivationType.BF16);
    /** MXFP4 weights with MXFP8 activations. */
    public static final QuantScheme MXFP4_MXFP8 = new QuantScheme(WeightFormat.MXFP4, ActivationType.MXFP8);
    /** BF16 weights and activations. */
    public static final QuantScheme BF16 = new QuantScheme(WeightFormat.BF16, ActivationType.BF16);

    /** Rejects nulls and combinations no kernel could mean. */
    public QuantScheme {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(activations, "activations");
        if (weights.kind() == WeightFormat.Kind.BF16 && activations.isQuantized()) {
            throw new InvalidSpecException("activationType", "activation type " + activations
                    + " with bf16 weights is not a scheme: quantized activations need quantized weights");
        }
    }

    /**
     * Parses {@code "mxfp4"} or {@code "mxfp4/mxfp8"} (weights, then optional activation type).
     *
     * @param text the scheme
     * @return the scheme
     */
    public static QuantScheme parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return new QuantScheme(WeightFormat.parse(text), ActivationType.AUTO);
        }
        return new QuantScheme(WeightFormat.parse(text.substring(0, slash)),
                ActivationType.parse(text.substring(slash + 1)));
    }

    /**
     * @param type the activation type
     * @return this scheme with another activation type
     */
    public QuantScheme withActivations(ActivationType type) {
        return new QuantScheme(weights, type);
    }

    // written out, not bootstrapped through ObjectMethods on first use (see MoeLayerSpec)
    @Override
    public boolean equals(Object o) {
        return o instanceof QuantScheme q && weights.equals(q.weights) && activations == q.activations;
    }

    @Override
    public int hashCode() {
        return 31 * weights.hashCode() + activations.hashCode();
    }

    @Override
    public String toString() {
        return weights + "/" + activations;
    }
}
