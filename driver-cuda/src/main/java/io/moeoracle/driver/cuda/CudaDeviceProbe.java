package io.moeoracle.driver.cuda;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code cuda} device probe: one {@link DeviceInfo} ({@code cuda:N}, arch {@code sm_XY}) per
 * CUDA device, or no devices and the reason (no driver, no device, native access denied) without
 * throwing. Registered for {@link java.util.ServiceLoader}.
 */
public final class CudaDeviceProbe implements DeviceProbe {
    /** The probe id. */
    public static final String ID = "cuda";

    /** For {@link java.util.ServiceLoader}. */
    public CudaDeviceProbe() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Result probe() {
        if (!CudaDriver.isAvailable()) {
            Optional<CudaUnavailableException> cause = CudaDriver.unavailabilityCause();
            return Result.none(ID, cause.isPresent() ? cause.get().getMessage() : "unknown");
        }
        CudaDriver driver = CudaDriver.load();
        List<DeviceInfo> devices = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < driver.deviceCount(); i++) {
            try {
                devices.add(driver.device(i).toDeviceInfo());
            } catch (CudaException e) {
                problems.add("cuda:" + i + " could not be read: " + e.getMessage());
            }
        }
        return problems.isEmpty()
                ? Result.found(ID, devices)
                : new Result(ID, devices, Optional.of(String.join("; ", problems)));
    }
}
