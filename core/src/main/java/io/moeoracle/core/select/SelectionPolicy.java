package io.moeoracle.core.select;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;

/**
 * The order in which the selector asks providers; the first that supports the layer wins. A host
 * replaces the default ({@link DefaultSelectionPolicy}) through Guice or the selector's
 * constructor. The user's {@code moe.priority} and {@code moe.exclude} are applied by the selector
 * on top of whatever order the policy returns. A policy works on plain values: it never calls a
 * provider, so it cannot be broken by one.
 */
@FunctionalInterface
public interface SelectionPolicy {

    /**
     * Orders the candidates. A candidate left out of the result is not asked; the explanation lists
     * it as left out by the policy.
     *
     * @param candidates every provider not excluded by the user, sorted by id, with its priority and
     *     activation type for this layer and device
     * @param spec the layer
     * @param device the device
     * @return the candidates to ask, first first (matched to providers by id)
     */
    List<Candidate> order(List<Candidate> candidates, MoeLayerSpec spec, DeviceInfo device);
}
