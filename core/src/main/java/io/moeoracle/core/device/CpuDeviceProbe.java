package io.moeoracle.core.device;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Describes the host CPU as a device ({@code cpu}). The reading itself is
 * {@link HostCpuFeatures}, shared with the cpu backend so both see the same CPU.
 */
public final class CpuDeviceProbe implements DeviceProbe {
    /** Arch of an x86-64 CPU with AVX-512 F and BW. */
    public static final String ARCH_AVX512 = HostCpuFeatures.ARCH_AVX512;
    /** Arch of an x86-64 CPU with AVX2 and FMA. */
    public static final String ARCH_AVX2 = HostCpuFeatures.ARCH_AVX2;
    /** Arch of any other x86-64 CPU. */
    public static final String ARCH_X86_64 = HostCpuFeatures.ARCH_X86_64;
    /** Arch of a 64-bit ARM CPU. */
    public static final String ARCH_AARCH64 = HostCpuFeatures.ARCH_AARCH64;

    /** Creates the probe; it does its work in {@link #probe()}. */
    public CpuDeviceProbe() {
    }

    @Override
    public String id() {
        return "cpu";
    }

    @Override
    public Result probe() {
        try {
            return Result.found(id(), List.of(HostCpuFeatures.host()));
        } catch (RuntimeException e) {
            return Result.none(id(), "could not describe the CPU: " + e);
        }
    }

    /**
     * Builds the device from what was read (see {@link HostCpuFeatures#describe}).
     *
     * @param osArch the {@code os.arch} property
     * @param cpuinfo the text of {@code /proc/cpuinfo}, if readable
     * @param memTotalBytes MemTotal from {@code /proc/meminfo}, if readable
     * @param cores available processors
     * @param maxHeap the JVM's max heap, the memory figure when MemTotal is unknown
     * @return the device
     */
    static DeviceInfo describe(String osArch, Optional<String> cpuinfo, OptionalLong memTotalBytes, int cores,
                               long maxHeap) {
        return HostCpuFeatures.describe(osArch, cpuinfo, memTotalBytes, cores, maxHeap);
    }
}
