package io.moeoracle.core.select;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.ArrayList;
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
        List<Candidate> sorted = new ArrayList<>(candidates);
        sorted.sort(new Order(spec.quant().activations() == ActivationType.AUTO));
        return List.copyOf(sorted);
    }

    /** The order as a class rather than composed lambdas, which a cold JVM's first select would spin up one by one. */
    private record Order(boolean auto) implements Comparator<Candidate> {
        @Override
        public int compare(Candidate a, Candidate b) {
            if (a.priority() != b.priority()) {
                return Integer.compare(b.priority(), a.priority());
            }
            int qa = auto && a.quantizesActivations() ? 1 : 0;
            int qb = auto && b.quantizesActivations() ? 1 : 0;
            if (qa != qb) {
                return Integer.compare(qa, qb);
            }
            return a.id().compareTo(b.id());
        }
    }

    @Override
    public String toString() {
        return "DefaultSelectionPolicy";
    }
}
