package io.moeoracle.core.select;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;

/**
 * The order in which the selector asks providers; the first that supports the layer wins. A host
 * replaces the default ({@link DefaultSelectionPolicy}) through Guice or the selector's
 * constructor. The user's {@code moe.priority} and {@code moe.exclude} are applied by the selector
 * on top of whatever order the policy returns.
 */
@FunctionalInterface
public interface SelectionPolicy {

    /**
     * Orders the candidates. A provider left out of the result is not asked; the explanation lists
     * it as left out by the policy (or as an error, when its {@code priority} throws).
     *
     * @param candidates every available provider, sorted by id
     * @param spec the layer
     * @param device the device
     * @return the providers to ask, first first; must not throw for a throwing provider
     */
    List<MoeKernelProvider> order(List<MoeKernelProvider> candidates, MoeLayerSpec spec, DeviceInfo device);
}
