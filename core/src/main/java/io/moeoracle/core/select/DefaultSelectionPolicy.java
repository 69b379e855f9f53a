package io.moeoracle.core.select;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Comparator;
import java.util.List;

/**
 * The default order: higher {@code priority(spec, device)} first; at equal priority, when the
 * spec leaves the activation type to {@link ActivationType#AUTO}, providers that keep BF16
 * activations before those that quantize them; then by id ({@link String#compareTo}). This is the
 * tie rule the api documents beside the priority bands ({@link io.moeoracle.api.Priority}), which
 * backend authors rely on; a policy a host binds may order otherwise.
 */
public final class DefaultSelectionPolicy implements SelectionPolicy {

    /** Creates the policy; it has no state. */
    public DefaultSelectionPolicy() {
    }

    @Override
    public List<Candidate> order(List<Candidate> candidates, MoeLayerSpec spec, DeviceInfo device) {
        boolean auto = spec.quant().activations() == ActivationType.AUTO;
        return candidates.stream().sorted(Comparator.comparingInt(Candidate::priority).reversed()
                .thenComparing(c -> auto && c.quantizesActivations() ? 1 : 0)
                .thenComparing(Candidate::id)).toList();
    }

    @Override
    public String toString() {
        return "DefaultSelectionPolicy";
    }
}
