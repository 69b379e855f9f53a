package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import java.util.List;
import java.util.Optional;

/**
 * Finds the devices of one kind on this host (CUDA GPUs, HIP GPUs, OpenCL devices, the CPU).
 * Registered with {@link java.util.ServiceLoader}. A probe never throws for a missing driver or
 * device: it returns a {@link Result} with no devices and the reason.
 */
public interface DeviceProbe {

    /** @return a short id such as {@code cuda}, {@code hip}, {@code opencl}, {@code cpu} */
    String id();

    /** @return what was found, or why nothing was */
    Result probe();

    /**
     * What one probe found.
     *
     * @param probeId the probe's id
     * @param devices the devices found, possibly none
     * @param reason why nothing (or less than expected) was found, if anything is to be said
     */
    record Result(String probeId, List<DeviceInfo> devices, Optional<String> reason) {
        /** Copies the list. */
        public Result {
            devices = List.copyOf(devices);
        }

        /**
         * @param probeId the probe's id
         * @param devices the devices
         * @return a result with devices and no remark
         */
        public static Result found(String probeId, List<DeviceInfo> devices) {
            return new Result(probeId, devices, Optional.empty());
        }

        /**
         * @param probeId the probe's id
         * @param reason why there is none
         * @return a result with no devices
         */
        public static Result none(String probeId, String reason) {
            return new Result(probeId, List.of(), Optional.of(reason));
        }
    }
}
