package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.driver.cuda.CudaCeilings;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaUnavailableException;

/**
 * What this host has: the CUDA driver, the kernel image, the device behind a {@link DeviceInfo}.
 * (backend-marlin's MarlinHost does the same for its image; backends may not share code.)
 */
final class FiHost {
    private FiHost() {
    }

    static HostAvailability availability() {
        if (!FiImage.isPresent()) {
            return HostAvailability.no("kernel image not built: " + FiImage.RESOURCE
                    + " is missing from the jar (nvcc was not found when backend-flashinfer was built)");
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
                + " device(s), fatbin " + FiImage.TARGETS);
    }

    /**
     * @param device a real device reachable through CUDA (the verdict checks that)
     * @param id the provider, for messages
     * @return the driver's device behind the device's CUDA address
     * @throws BadInputException for a simulated device, one without a CUDA address, or an ordinal the driver lacks
     * @throws NativeFailureException when the CUDA driver cannot be used
     */
    static CudaDevice cudaDevice(DeviceInfo device, String id) {
        if (device.simulated()) {
            throw new BadInputException(device.describe() + " is simulated; " + id + " needs a real CUDA device"
                    + " (probe one with the cuda DeviceProbe)");
        }
        DeviceAddress.Cuda address = device.address(DeviceAddress.Cuda.class).orElseThrow(() ->
                new BadInputException(device.describe() + " has no CUDA address; " + id + " launches through the"
                        + " CUDA driver: use the GPU's cuda:N device (moe-oracle devices lists them)"));
        int ordinal = address.ordinal();
        try {
            CudaDriver driver = CudaDriver.load();
            if (ordinal >= driver.deviceCount()) {
                throw new BadInputException("device " + address.id() + " does not exist; the driver sees "
                        + driver.deviceCount() + " device(s)");
            }
            return driver.device(ordinal);
        } catch (CudaUnavailableException e) {
            throw new NativeFailureException("cuInit", "", e.getMessage(), id + " cannot run on " + address.id()
                    + ": " + e.getMessage(), e);
        }
    }

    static RooflineProbe.Ceilings measureCeilings(DeviceInfo device, String id) {
        try (CudaContext context = cudaDevice(device, id).retainPrimaryContext()) {
            return CudaCeilings.measure(context);
        }
    }
}
