package io.moeoracle.backend.triton;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.driver.cuda.CudaCeilings;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaUnavailableException;

/** What this host has: the CUDA driver, the kernel image, the device behind a {@link DeviceInfo}. */
final class TritonHost {
    private TritonHost() {
    }

    static HostAvailability availability() {
        if (!TritonImage.isPresent()) {
            return HostAvailability.no("kernel image not built: " + TritonImage.FOLDER + "/manifest.json"
                    + " is missing from the jar (nvcc was not found when backend.triton was built)");
        }
        if (!CudaDriver.isAvailable()) {
            return HostAvailability.no("CUDA driver unavailable: " + CudaDriver.unavailabilityCause()
                    .map(Throwable::getMessage).orElse("unknown cause"));
        }
        CudaDriver driver = CudaDriver.load();
        if (driver.deviceCount() == 0) {
            return HostAvailability.no("libcuda " + driver.versionString() + " found, but no CUDA device");
        }
        return HostAvailability.yes("libcuda " + driver.versionString() + ", " + driver.deviceCount()
                + " device(s), Triton " + TritonImage.tritonVersion() + " cubins sm_90a, sm_80");
    }

    /**
     * @param device a real device with an id {@code cuda:N}
     * @return the driver's device
     */
    static CudaDevice cudaDevice(DeviceInfo device) {
        if (device.simulated()) {
            throw new IllegalArgumentException(device.describe() + " is simulated; triton kernels need a real "
                    + "CUDA device (probe one with the cuda DeviceProbe)");
        }
        String id = device.id();
        if (!id.startsWith("cuda:")) {
            throw new IllegalArgumentException("device id '" + id + "' is not a CUDA device id (cuda:N)");
        }
        int ordinal;
        try {
            ordinal = Integer.parseInt(id.substring("cuda:".length()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("device id '" + id + "' is not a CUDA device id (cuda:N)", e);
        }
        try {
            CudaDriver driver = CudaDriver.load();
            if (ordinal < 0 || ordinal >= driver.deviceCount()) {
                throw new IllegalArgumentException("device " + id + " does not exist; the driver sees "
                        + driver.deviceCount() + " device(s)");
            }
            return driver.device(ordinal);
        } catch (CudaUnavailableException e) {
            throw new IllegalStateException("triton cannot run on " + id + ": " + e.getMessage(), e);
        }
    }

    static RooflineProbe.Ceilings measureCeilings(DeviceInfo device) {
        try (CudaContext context = cudaDevice(device).retainPrimaryContext()) {
            return CudaCeilings.measure(context);
        }
    }
}
