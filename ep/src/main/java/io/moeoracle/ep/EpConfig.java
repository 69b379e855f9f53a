package io.moeoracle.ep;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.driver.nccl.NcclUniqueId;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What an {@link EpEngine} is built from (the public builder fills it).
 *
 * @param spec the whole layer (standard format)
 * @param placement which rank holds which experts
 * @param devices the GPU of every rank this process drives, rank order
 * @param binding for one rank per process: this rank, the number of ranks and the shared id; empty when
 *     this process drives every rank ({@code devices} then lists them all)
 * @param strategy the strategy, or AUTO
 * @param cap the most tokens one rank carries in one forward
 * @param timeout how long a rank waits for its peers
 * @param batchBudget device bytes for the all-to-all path's batches
 * @param allToAllMinTokens AUTO's threshold
 * @param selector chooses each rank's kernels
 * @param standardBackend the backend for the standard-format kernel, if the host insists
 * @param batchedBackend the backend for the batched-format kernel, if the host insists
 */
record EpConfig(MoeLayerSpec spec, ExpertPlacement placement, List<DeviceInfo> devices, Optional<Binding> binding,
                       EpStrategy strategy, int cap, Duration timeout, long batchBudget, int allToAllMinTokens,
                       MoeKernelSelector selector, Optional<String> standardBackend, Optional<String> batchedBackend) {

    /** Rejects nulls. */
    public EpConfig {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(placement, "placement");
        devices = List.copyOf(devices);
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(standardBackend, "standardBackend");
        Objects.requireNonNull(batchedBackend, "batchedBackend");
    }

    /** @return the number of ranks in all */
    public int ranks() {
        return binding.map(Binding::size).orElse(devices.size());
    }

    /**
     * One rank per process.
     *
     * @param rank this rank
     * @param size the number of ranks
     * @param id the communicator's id, made by one rank and handed to all
     */
    public record Binding(int rank, int size, NcclUniqueId id) {
        /** Rejects nulls. */
        public Binding {
            Objects.requireNonNull(id, "id");
        }
    }
}
