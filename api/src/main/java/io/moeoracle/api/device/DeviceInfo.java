package io.moeoracle.api.device;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A device a kernel may run on, real or simulated.
 *
 * @param id a stable id such as {@code cuda:0}, {@code cpu} or {@code sim:sm_90}
 * @param vendor who made it
 * @param arch the architecture: {@code sm_90}, {@code gfx942}, {@code xe-hpc}, {@code x86-64-avx512}, ...
 * @param name the marketing or driver name
 * @param computeUnits SMs, CUs, EUs or CPU cores
 * @param memoryBytes device memory (host memory for a CPU)
 * @param features feature flags (e.g. {@code avx512_bf16}, {@code fp8}, {@code cl_khr_subgroups})
 * @param simulated true when no such hardware was probed: a what-if device for planning and tests
 */
public record DeviceInfo(String id, Vendor vendor, String arch, String name, int computeUnits, long memoryBytes,
                         Set<String> features, boolean simulated) {

    /** Copies the feature set and rejects nulls. */
    public DeviceInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vendor, "vendor");
        Objects.requireNonNull(arch, "arch");
        Objects.requireNonNull(name, "name");
        features = Set.copyOf(features);
    }

    /**
     * @return the CUDA compute capability as an integer ({@code sm_90 -> 90}, {@code sm_90a -> 90}),
     *     empty for non-NVIDIA devices
     */
    public OptionalInt smVersion() {
        if (vendor != Vendor.NVIDIA || !arch.startsWith("sm_")) {
            return OptionalInt.empty();
        }
        String digits = arch.substring(3).replaceAll("[^0-9]", "");
        return digits.isEmpty() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(digits));
    }

    /**
     * @param feature a feature flag
     * @return whether the device has it
     */
    public boolean hasFeature(String feature) {
        return features.contains(feature);
    }

    /** @return a one-line summary for logs and tables */
    public String describe() {
        return id + " (" + arch + ", " + name + (simulated ? ", simulated" : "") + ")";
    }
}
