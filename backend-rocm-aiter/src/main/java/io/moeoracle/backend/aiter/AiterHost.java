package io.moeoracle.backend.aiter;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.driver.hip.HipDevice;
import io.moeoracle.driver.hip.HipRuntime;
import io.moeoracle.driver.hip.HipUnavailableException;
import java.util.List;

/** What this host has: the code objects in the jar, the HIP runtime, the device behind a {@link DeviceInfo}. */
final class AiterHost {
    private AiterHost() {
    }

    static HostAvailability availability(List<String> archs) {
        List<String> built = archs.stream().filter(AiterImage::isPresent).toList();
        List<String> missing = archs.stream().filter(a -> !AiterImage.isPresent(a)).toList();
        String objects = built.isEmpty() ? "no code object" : "code objects " + String.join("/", built)
                + (missing.isEmpty() ? "" : "; " + String.join("/", missing) + " not built");
        if (built.isEmpty()) {
            return HostAvailability.no(AiterImage.missing(String.join("/", archs)));
        }
        if (!HipRuntime.isAvailable()) {
            return HostAvailability.no("ROCm HIP runtime unavailable: " + HipRuntime.unavailabilityCause()
                    .map(Throwable::getMessage).orElse("unknown cause") + " (" + objects + ")");
        }
        HipRuntime hip = HipRuntime.load();
        return HostAvailability.yes("HIP " + hip.versionString() + ", " + hip.deviceCount() + " device(s), " + objects);
    }

    /**
     * The runtime's device behind a device's HIP address: its own ({@code hip:N}) or, for the same GPU
     * probed through another driver (OpenCL), its HIP alias. Never parses the id.
     *
     * @param device a real device reachable through HIP (the verdict checks that)
     * @return the runtime's device
     * @throws BadInputException for a simulated device, one without a HIP address, or an ordinal the runtime lacks
     * @throws NativeFailureException when the HIP runtime cannot be used or reading the device fails
     */
    static HipDevice hipDevice(DeviceInfo device) {
        if (device.simulated()) {
            throw new BadInputException(device.describe() + " is simulated; aiter kernels need a real AMD GPU"
                    + " (probe one with the hip DeviceProbe)");
        }
        DeviceAddress.Hip address = device.address(DeviceAddress.Hip.class).orElseThrow(() ->
                new BadInputException(device.describe() + " has no HIP address; aiter launches through the HIP"
                        + " runtime: use the GPU's hip:N device (moe-oracle devices lists them)"));
        try {
            HipRuntime runtime = HipRuntime.load();
            if (address.ordinal() >= runtime.deviceCount()) {
                throw new BadInputException("device " + address.id() + " does not exist; the HIP runtime sees "
                        + runtime.deviceCount() + " device(s)");
            }
            return runtime.device(address.ordinal());
        } catch (HipUnavailableException e) {
            throw new NativeFailureException("hipInit", "", e.getMessage(), "aiter cannot run on " + address.id()
                    + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            // the runtime's device properties were not in a layout driver-hip knows
            throw new NativeFailureException("hipGetDeviceProperties", "device=" + address.ordinal(), e.getMessage(),
                    "aiter cannot read " + address.id() + ": " + e.getMessage(), e);
        }
    }
}
