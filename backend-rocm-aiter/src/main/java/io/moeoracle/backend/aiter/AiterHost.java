package io.moeoracle.backend.aiter;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceInfo;
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
     * @param device a real device with an id {@code hip:N}
     * @return the runtime's device
     */
    static HipDevice hipDevice(DeviceInfo device) {
        if (device.simulated()) {
            throw new IllegalArgumentException(device.describe() + " is simulated; aiter kernels need a real AMD GPU"
                    + " (probe one with the hip DeviceProbe)");
        }
        String id = device.id();
        int ordinal;
        try {
            if (!id.startsWith("hip:")) {
                throw new NumberFormatException(id);
            }
            ordinal = Integer.parseInt(id.substring("hip:".length()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("device id '" + id + "' is not a HIP device id (hip:N)", e);
        }
        try {
            return HipRuntime.load().device(ordinal);
        } catch (HipUnavailableException e) {
            throw new IllegalStateException("aiter cannot run on " + id + ": " + e.getMessage(), e);
        }
    }
}
