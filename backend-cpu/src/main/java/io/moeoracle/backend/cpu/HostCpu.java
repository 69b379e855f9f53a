package io.moeoracle.backend.cpu;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;

/**
 * This machine's CPU as a {@link DeviceInfo}, for hosts and benchmarks that have no device probe
 * at hand: the same description core's probe gives (both read it through {@link HostCpuFeatures}).
 */
public final class HostCpu {
    private HostCpu() {
    }

    /** @return the host CPU, id {@code cpu} */
    public static DeviceInfo device() {
        return HostCpuFeatures.host();
    }
}
