package io.moeoracle.api.device;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
 * @param address how its driver reaches it; its {@link DeviceAddress#id()} is {@code id}
 * @param aliases the addresses of the same physical device through other drivers (e.g. the
 *     {@code cuda:0} of a GPU probed as {@code opencl:1:0}), found by matching UUIDs; may be empty
 * @param driverVersion the version of the driver the probe reached it through, as that driver
 *     reports it (e.g. {@code CUDA 13.0 (cuDriverGetVersion 13000), NVIDIA kernel module 580.65.06}),
 *     the operating system for the host CPU; empty for a simulated device or when the probe does not say
 */
public record DeviceInfo(String id, Vendor vendor, String arch, String name, int computeUnits, long memoryBytes,
                         Set<String> features, boolean simulated, DeviceAddress address, List<DeviceAddress> aliases,
                         Optional<String> driverVersion) {

    /** Copies the collections, rejects nulls and an address that does not match the id. */
    public DeviceInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vendor, "vendor");
        Objects.requireNonNull(arch, "arch");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(driverVersion, "driverVersion");
        features = Set.copyOf(features);
        aliases = List.copyOf(aliases);
        if (!address.id().equals(id)) {
            throw new IllegalArgumentException("device id '" + id + "' and its address " + address.id()
                    + " differ; build the address from the same ordinal or indices");
        }
        for (DeviceAddress a : aliases) {
            if (a.id().equals(id)) {
                throw new IllegalArgumentException("device " + id + " lists its own address among its aliases");
            }
        }
    }

    // equals and hashCode written out: a record's generated ones bootstrap through ObjectMethods on first use
    // (~10 ms in a fresh JVM, paid by the first select); RecordEqualityTest holds them to every component
    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceInfo d && computeUnits == d.computeUnits && memoryBytes == d.memoryBytes
                && simulated == d.simulated && id.equals(d.id) && vendor == d.vendor && arch.equals(d.arch)
                && name.equals(d.name) && features.equals(d.features) && address.equals(d.address)
                && aliases.equals(d.aliases) && driverVersion.equals(d.driverVersion);
    }

    @Override
    public int hashCode() {
        int h = id.hashCode();
        h = 31 * h + vendor.hashCode();
        h = 31 * h + arch.hashCode();
        h = 31 * h + name.hashCode();
        h = 31 * h + computeUnits;
        h = 31 * h + Long.hashCode(memoryBytes);
        h = 31 * h + features.hashCode();
        h = 31 * h + Boolean.hashCode(simulated);
        h = 31 * h + address.hashCode();
        h = 31 * h + aliases.hashCode();
        return 31 * h + driverVersion.hashCode();
    }

    /**
     * A device with no driver version given (a simulated one, or a probe that does not say).
     *
     * @param id a stable id such as {@code cuda:0}, {@code cpu} or {@code sim:sm_90}
     * @param vendor who made it
     * @param arch the architecture
     * @param name the marketing or driver name
     * @param computeUnits SMs, CUs, EUs or CPU cores
     * @param memoryBytes device memory
     * @param features feature flags ({@link DeviceFeatures})
     * @param simulated true for a what-if device
     * @param address how its driver reaches it
     * @param aliases the addresses of the same device through other drivers
     */
    public DeviceInfo(String id, Vendor vendor, String arch, String name, int computeUnits, long memoryBytes,
                      Set<String> features, boolean simulated, DeviceAddress address, List<DeviceAddress> aliases) {
        this(id, vendor, arch, name, computeUnits, memoryBytes, features, simulated, address, aliases, Optional.empty());
    }

    /**
     * A device whose address is read from its id ({@link DeviceAddress#parse}), with no aliases.
     *
     * @param id a stable id such as {@code cuda:0}, {@code cpu} or {@code sim:sm_90}
     * @param vendor who made it
     * @param arch the architecture
     * @param name the marketing or driver name
     * @param computeUnits SMs, CUs, EUs or CPU cores
     * @param memoryBytes device memory
     * @param features feature flags ({@link DeviceFeatures})
     * @param simulated true for a what-if device
     */
    public DeviceInfo(String id, Vendor vendor, String arch, String name, int computeUnits, long memoryBytes,
                      Set<String> features, boolean simulated) {
        this(id, vendor, arch, name, computeUnits, memoryBytes, features, simulated,
                DeviceAddress.parse(Objects.requireNonNull(id, "id")), List.of(), Optional.empty());
    }

    /**
     * The address to use with a driver of one kind: this device's own, else an alias of that kind.
     *
     * @param kind e.g. {@code DeviceAddress.Cuda.class}
     * @param <T> the address type
     * @return the address, or empty when this device is not reachable through that driver
     */
    public <T extends DeviceAddress> Optional<T> address(Class<T> kind) {
        if (kind.isInstance(address)) {
            return Optional.of(kind.cast(address));
        }
        for (DeviceAddress a : aliases) {
            if (kind.isInstance(a)) {
                return Optional.of(kind.cast(a));
            }
        }
        return Optional.empty();
    }

    /**
     * @param more addresses of the same physical device through other drivers
     * @return a copy with these aliases (replacing any it had)
     */
    public DeviceInfo withAliases(List<DeviceAddress> more) {
        return new DeviceInfo(id, vendor, arch, name, computeUnits, memoryBytes, features, simulated, address, more,
                driverVersion);
    }

    /**
     * @param version the driver's version as it reports it (blank: none)
     * @return a copy with that driver version
     */
    public DeviceInfo withDriverVersion(String version) {
        Objects.requireNonNull(version, "version");
        return new DeviceInfo(id, vendor, arch, name, computeUnits, memoryBytes, features, simulated, address, aliases,
                version.isBlank() ? Optional.empty() : Optional.of(version.strip()));
    }

    /** @return the physical device's UUID, from its address or an alias, when a driver reported one */
    public Optional<String> uuid() {
        if (address.uuid().isPresent()) {
            return address.uuid();
        }
        for (DeviceAddress a : aliases) {
            if (a.uuid().isPresent()) {
                return a.uuid();
            }
        }
        return Optional.empty();
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
