package io.moeoracle.cuda.moe.host;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import java.util.Optional;

/**
 * The parts of a verdict that the CUDA backends give alike: the device must be an NVIDIA GPU that the CUDA
 * driver reaches (its own CUDA address, or a CUDA alias of the same GPU probed through another driver),
 * the weights MXFP4; a note says when the kernels launch through such an alias.
 */
public final class CudaVerdicts {
    private CudaVerdicts() {
    }

    /**
     * @param id the provider, for the reason
     * @param device the device (a simulated NVIDIA device passes: it is judged by its arch alone)
     * @return the verdict for a device of another vendor, or a real one the CUDA driver cannot reach; else empty
     */
    public static Optional<SupportVerdict> unreachable(String id, DeviceInfo device) {
        if (device.vendor() != Vendor.NVIDIA) {
            return Optional.of(SupportVerdict.unsupported(id + " runs on NVIDIA GPUs only; " + device.describe()
                    + " is " + device.vendor().device(), "use a backend for this device (e.g. cpu)"));
        }
        if (device.simulated() || device.address(DeviceAddress.Cuda.class).isPresent()) {
            return Optional.empty();
        }
        return Optional.of(SupportVerdict.unsupported(id + " launches through the CUDA driver; " + device.describe()
                + " is reached through " + driverOf(device.address()) + " and no CUDA device reported the same UUID",
                "use this GPU's CUDA id (cuda:N, listed by `moe-oracle devices`)"));
    }

    /**
     * @param id the provider, for the reason
     * @param spec the layer
     * @return the verdict for weights other than MXFP4, else empty
     */
    public static Optional<SupportVerdict> notMxfp4(String id, MoeLayerSpec spec) {
        if (spec.quant().weights().kind() == WeightFormat.Kind.MXFP4) {
            return Optional.empty();
        }
        return Optional.of(SupportVerdict.unsupported(id + " implements MXFP4 weights only; the spec has "
                + spec.quant().weights() + " weights", "use another backend (e.g. emulation) for "
                + spec.quant().weights() + " weights"));
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
