package io.moeoracle.reference;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import java.util.Map;
import java.util.Objects;

/**
 * The LoRA part of one reference forward: the resident adapters by slot and one adapter index per
 * token ({@code -1}: none).
 *
 * @param adapters the adapters by slot, each slot in {@code [0, spec.adapterSlots())}
 * @param adapterIds I32 {@code [T]}
 */
public record LoraInput(Map<Integer, LoraAdapter> adapters, HostTensor adapterIds) {

    /** Copies the map and rejects nulls. */
    public LoraInput {
        adapters = Map.copyOf(Objects.requireNonNull(adapters, "adapters"));
        Objects.requireNonNull(adapterIds, "adapterIds");
    }

    /**
     * Checks the slots, the adapters and the indices against the layer.
     *
     * @param spec the layer
     * @param tokens T
     * @return the per-token indices
     * @throws BadInputException naming what does not fit
     */
    int[] validate(MoeLayerSpec spec, int tokens) {
        adapters.forEach((slot, a) -> {
            LoraArgs.checkSlot(EmulationProvider.ID, spec, slot);
            a.validate(spec);
        });
        LoraArgs.checkIds(EmulationProvider.ID, spec, adapterIds, tokens, adapters::containsKey);
        return LoraArgs.read(adapterIds);
    }
}
