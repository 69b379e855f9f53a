package io.moeoracle.driver.hip;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code hip} device probe: one {@link DeviceInfo} ({@code hip:N}, arch {@code gfxNNN}) per HIP
 * device, or no devices and the reason (no ROCm runtime, no AMD GPU, native access denied) without
 * throwing. Registered for {@link java.util.ServiceLoader}.
 */
public final class HipDeviceProbe implements DeviceProbe {
    /** The probe id. */
    public static final String ID = "hip";

    /** For {@link java.util.ServiceLoader}. */
    public HipDeviceProbe() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Result probe() {
        if (!HipRuntime.isAvailable()) {
            Optional<HipUnavailableException> cause = HipRuntime.unavailabilityCause();
            return Result.none(ID, cause.isPresent() ? cause.get().getMessage() : "unknown");
        }
        HipRuntime runtime = HipRuntime.load();
        List<DeviceInfo> devices = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < runtime.deviceCount(); i++) {
            try {
                devices.add(runtime.device(i).toDeviceInfo());
            } catch (HipException | IllegalStateException | IllegalArgumentException e) {
                problems.add("hip:" + i + " could not be read: " + e.getMessage());
            }
        }
        return problems.isEmpty() ? Result.found(ID, devices)
                : new Result(ID, devices, Optional.of(String.join("; ", problems)));
    }
}
