package io.moeoracle.core.select;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default order: higher {@code priority(spec, device)} first; at equal priority, when the
 * spec leaves the activation type to {@link ActivationType#AUTO}, providers that keep BF16
 * activations before those that quantize them; then by id. A provider whose {@code priority} or
 * {@code activationType} throws is left out (the selector reports it as an error).
 */
public final class DefaultSelectionPolicy implements SelectionPolicy {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultSelectionPolicy.class);

    /** Creates the policy; it has no state. */
    public DefaultSelectionPolicy() {
    }

    private record Ranked(MoeKernelProvider provider, int priority, boolean quantizesActivations, String id) {
    }

    @Override
    public List<MoeKernelProvider> order(List<MoeKernelProvider> candidates, MoeLayerSpec spec, DeviceInfo device) {
        boolean auto = spec.quant().activations() == ActivationType.AUTO;
        List<Ranked> ranked = new ArrayList<>();
        for (MoeKernelProvider p : candidates) {
            try {
                String id = p.id();
                int priority = p.priority(spec, device);
                boolean quantized = false;
                if (auto) {
                    ActivationType t = p.activationType(spec, device);
                    quantized = t != null && t.isQuantized();
                }
                ranked.add(new Ranked(p, priority, quantized, id == null ? "" : id));
            } catch (RuntimeException | LinkageError e) {
                LOG.debug("provider {} left out of the order: {}", p.getClass().getName(), e.toString());
            }
        }
        ranked.sort(Comparator.comparingInt(Ranked::priority).reversed()
                .thenComparing(r -> r.quantizesActivations() ? 1 : 0)
                .thenComparing(Ranked::id));
        return ranked.stream().map(Ranked::provider).toList();
    }

    @Override
    public String toString() {
        return "DefaultSelectionPolicy";
    }
}
