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
     * @param flopsPerSecond the matmul / FMA peak for the data type the kernels use (BF16 on GPUs)
     * @param bandwidthMethod how the bandwidth was measured, one line
     * @param flopsMethod how the flop rate was measured, one line
     * @param fp8FlopsPerSecond the FP8 (E4M3) matmul peak, for kernels with FP8 / MXFP8 activations;
     *        NaN when not measured (then those kernels are held to {@code flopsPerSecond})
     * @param fp8FlopsMethod how the FP8 rate was measured, or why not, one line
     */
    record Ceilings(double bytesPerSecond, double flopsPerSecond, String bandwidthMethod, String flopsMethod,
                    double fp8FlopsPerSecond, String fp8FlopsMethod) {

        /**
         * Ceilings without an FP8 rate.
         *
         * @param bytesPerSecond bandwidth
         * @param flopsPerSecond matmul rate
         * @param bandwidthMethod how the bandwidth was measured
         * @param flopsMethod how the rate was measured
         */
        public Ceilings(double bytesPerSecond, double flopsPerSecond, String bandwidthMethod, String flopsMethod) {
            this(bytesPerSecond, flopsPerSecond, bandwidthMethod, flopsMethod, Double.NaN, "not measured");
        }

        /** @return whether an FP8 rate was measured */
        public boolean hasFp8Rate() {
            return !Double.isNaN(fp8FlopsPerSecond) && fp8FlopsPerSecond > 0;
        }

        /**
         * The compute ceiling for a kernel: the FP8 rate for FP8 / MXFP8 activations when measured,
         * else the (BF16) matmul rate.
         *
         * @param fp8Activations whether the kernel multiplies FP8 activations
         * @return flop/s
         */
        public double computeRate(boolean fp8Activations) {
            return fp8Activations && hasFp8Rate() ? fp8FlopsPerSecond : flopsPerSecond;
        }
    }
}
