package io.moeoracle.cuda.moe.host;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import java.util.Optional;

/**
 * The parts of a CUDA backend's verdict that concern how the device is reached: a real device must have a
 * CUDA address (its own, or a CUDA alias of the same GPU probed through another driver), and a note says
 * when the kernels launch through such an alias.
 */
public final class CudaReach {
    private CudaReach() {
    }

    /**
     * @param id the provider, for the reason
     * @param device the device (simulated devices pass: they are judged by their arch alone)
     * @return the verdict for a real device the CUDA driver cannot reach, else empty
     */
    public static Optional<SupportVerdict> unreachable(String id, DeviceInfo device) {
        if (device.simulated() || device.address(DeviceAddress.Cuda.class).isPresent()) {
            return Optional.empty();
        }
        return Optional.of(SupportVerdict.unsupported(id + " launches through the CUDA driver; " + device.describe()
                + " is reached through " + driverOf(device.address()) + " and no CUDA device reported the same UUID",
                "use this GPU's CUDA id (cuda:N, listed by `moe-oracle devices`)"));
    }

    /**
     * @param device the device
     * @return {@code "; launched through cuda:N (the same GPU)"} for a real device reached through its CUDA
     *     alias, else empty
     */
    public static Optional<String> aliasNote(DeviceInfo device) {
        return device.address(DeviceAddress.Cuda.class).filter(a -> !device.simulated() && !a.id().equals(device.id()))
                .map(a -> "; launched through " + a.id() + " (the same GPU)");
    }

    /**
     * @param address a device's own address
     * @return the driver it is reached through, in words
     */
    static String driverOf(DeviceAddress address) {
        return switch (address) {
            case DeviceAddress.OpenCl o -> "OpenCL (platform " + o.platform() + ", device " + o.index() + ")";
            case DeviceAddress.Hip h -> "HIP";
            case DeviceAddress.Host h -> "the host";
            case DeviceAddress.Simulated s -> "no driver (simulated)";
            case DeviceAddress.Cuda c -> "CUDA";
            case DeviceAddress.Other o -> "a driver this backend does not use";
        };
    }
}
