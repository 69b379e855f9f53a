package io.moeoracle.ep;

import io.moeoracle.api.spec.MoeLayerSpec;

/**
 * The sizes every rank agrees on.
 *
 * @param experts E
 * @param topK k
 * @param hidden H
 * @param intermediate I
 * @param ranks R
 * @param localExperts E / R
 * @param cap the most tokens one rank carries in one forward (its buffers' rows)
 */
public record EpShape(int experts, int topK, int hidden, int intermediate, int ranks, int localExperts, int cap) {

    /**
     * @param spec the whole layer
     * @param ranks R
     * @param cap tokens per rank
     * @return the shape
     */
    public static EpShape of(MoeLayerSpec spec, int ranks, int cap) {
        return new EpShape(spec.experts(), spec.topK(), spec.hiddenSize(), spec.intermediateSize(), ranks,
                spec.experts() / ranks, cap);
    }
}
