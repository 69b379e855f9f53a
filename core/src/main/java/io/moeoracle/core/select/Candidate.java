package io.moeoracle.core.select;

import io.moeoracle.api.spec.ActivationType;
import java.util.Objects;
import java.util.Optional;

/**
 * One provider as a {@link SelectionPolicy} sees it for one decision: plain values, each asked of
 * the provider once per decision by the selector (a provider whose {@code priority},
 * {@code activationType} or {@code runsOnHost} throws is not a candidate; it becomes an error row).
 *
 * @param id the provider's id (unique in its registry)
 * @param priority its {@code priority(spec, device)}
 * @param activationType its {@code activationType(spec, device)}, if it named one
 * @param runsOnHost whether it runs on the host CPU whatever the device (e.g. {@code emulation})
 * @param origin where it came from: a jar or folder path, a module, or {@code bound}
 */
public record Candidate(String id, int priority, Optional<ActivationType> activationType, boolean runsOnHost,
                        String origin) {
    /** Checks for nulls. */
    public Candidate {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(activationType, "activationType");
        Objects.requireNonNull(origin, "origin");
    }

    /** @return whether it quantizes activations (e.g. to MXFP8) rather than keeping BF16 */
    public boolean quantizesActivations() {
        return activationType.isPresent() && activationType.get().isQuantized();
    }
}
