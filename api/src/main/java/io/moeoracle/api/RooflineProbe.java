package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;

/**
 * Optionally implemented by a {@link MoeKernelProvider} whose device has ceilings worth measuring:
 * the benchmark divides every row by the floor these give, measured in the same run.
 */
public interface RooflineProbe {

    /**
     * Measures the device's ceilings now (takes a second or so).
     *
     * @param device a real device this provider runs on
     * @return the measured ceilings
     */
    Ceilings measureCeilings(DeviceInfo device);

    /**
     * What the device can do at best, measured.
     *
     * @param bytesPerSecond sustained read (or copy) bandwidth of memory far larger than the caches
     * @param flopsPerSecond the matmul / FMA peak for the data type the kernels use
     * @param bandwidthMethod how the bandwidth was measured, one line
     * @param flopsMethod how the flop rate was measured, one line
     */
    record Ceilings(double bytesPerSecond, double flopsPerSecond, String bandwidthMethod, String flopsMethod) {
    }
}
