package io.moeoracle.backend.triton;

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
     * The driver's device behind a device's CUDA address: its own ({@code cuda:N}) or, for the same
     * GPU probed through another driver (OpenCL), its CUDA alias. Never parses the id.
     *
     * @param device a real device reachable through CUDA (the verdict checks that)
     * @return the driver's device
     * @throws BadInputException for a simulated device, one without a CUDA address, or an ordinal the driver lacks
     * @throws NativeFailureException when the CUDA driver cannot be used
     */
    static CudaDevice cudaDevice(DeviceInfo device) {
        if (device.simulated()) {
            throw new BadInputException(device.describe() + " is simulated; triton kernels need a real "
                    + "CUDA device (probe one with the cuda DeviceProbe)");
        }
        DeviceAddress.Cuda address = device.address(DeviceAddress.Cuda.class).orElseThrow(() ->
                new BadInputException(device.describe() + " has no CUDA address; triton launches through the CUDA"
                        + " driver: use the GPU's cuda:N device (moe-oracle devices lists them)"));
        int ordinal = address.ordinal();
        try {
            CudaDriver driver = CudaDriver.load();
            if (ordinal >= driver.deviceCount()) {
                throw new BadInputException("device " + address.id() + " does not exist; the driver sees "
                        + driver.deviceCount() + " device(s)");
            }
            return driver.device(ordinal);
        } catch (CudaUnavailableException e) {
            throw new NativeFailureException("cuInit", "", e.getMessage(), "triton cannot run on " + address.id()
                    + ": " + e.getMessage(), e);
        }
    }

    /** @return the CUDA id ({@code cuda:N}) the kernel's tensors live on: the device's own or its CUDA alias */
    static String cudaId(DeviceInfo device) {
        return device.address(DeviceAddress.Cuda.class).map(DeviceAddress::id).orElse(device.id());
    }

    static RooflineProbe.Ceilings measureCeilings(DeviceInfo device) {
        try (CudaContext context = cudaDevice(device).retainPrimaryContext()) {
            return CudaCeilings.measure(context);
        }
    }
}
