package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Lists OpenCL devices (id {@code opencl}). Never throws: with no ICD loader, no registered
 * platform or no device it returns the reason.
 */
public final class OpenClDeviceProbe implements DeviceProbe {

    /** Creates the probe; nothing native happens until {@link #probe()}. */
    public OpenClDeviceProbe() {
    }

    @Override
    public String id() {
        return "opencl";
    }

    @Override
    public Result probe() {
        if (!OpenCl.isAvailable()) {
            Optional<Throwable> cause = OpenCl.unavailabilityCause();
            return Result.none(id(), cause.isPresent() ? cause.get().getMessage() : "OpenCL is unavailable");
        }
        try {
            List<DeviceInfo> out = new ArrayList<>();
            for (ClDevice d : OpenCl.devices()) {
                out.add(d.toDeviceInfo());
            }
            if (out.isEmpty()) {
                return Result.none(id(), "no OpenCL device on the platforms "
                        + OpenCl.allPlatforms().stream().map(ClPlatform::name).toList()
                        + OpenCl.platformFilter().map(f -> " matching " + OpenClSettings.PLATFORM.name() + "=" + f).orElse(""));
            }
            return Result.found(id(), out);
        } catch (OpenClException | IllegalStateException e) {
            return Result.none(id(), "OpenCL probing failed: " + e.getMessage());
        }
    }
}
