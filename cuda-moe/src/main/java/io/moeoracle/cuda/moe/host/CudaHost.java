package io.moeoracle.cuda.moe.host;

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
 * What this host has for a CUDA backend: the driver, the backend's kernel image, the driver's device
 * behind a {@link DeviceInfo}. The provider id (or the backend's name) in every message says whose.
 */
public final class CudaHost {
    private CudaHost() {
    }

    /**
     * @param image the backend's kernel image
     * @return available with the driver's version, device count and the image's targets; else why not
     */
    public static HostAvailability availability(KernelImage image) {
        if (!image.isPresent()) {
            return HostAvailability.no(image.missingReason());
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
                + " device(s), " + image.summary());
    }

    /**
     * The driver's device behind a device's CUDA address: its own ({@code cuda:N}) or, for the same GPU
     * probed through another driver (OpenCL), its CUDA alias. Never parses the id.
     *
     * @param device a real device reachable through CUDA (the verdict checks that)
     * @param who the provider, for messages
     * @return the driver's device
     * @throws BadInputException for a simulated device, one without a CUDA address, or an ordinal the driver lacks
     * @throws NativeFailureException when the CUDA driver cannot be used
     */
    public static CudaDevice cudaDevice(DeviceInfo device, String who) {
        if (device.simulated()) {
            throw new BadInputException(device.describe() + " is simulated; " + who + " needs a real CUDA device"
                    + " (probe one with the cuda DeviceProbe)");
        }
        DeviceAddress.Cuda address = device.address(DeviceAddress.Cuda.class).orElseThrow(() ->
                new BadInputException(device.describe() + " has no CUDA address; " + who + " launches through the"
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
            throw new NativeFailureException("cuInit", "", e.getMessage(), who + " cannot run on " + address.id()
                    + ": " + e.getMessage(), e);
        }
    }

    /** @return the CUDA id ({@code cuda:N}) a kernel's tensors live on: the device's own or its CUDA alias */
    public static String cudaId(DeviceInfo device) {
        return device.address(DeviceAddress.Cuda.class).map(DeviceAddress::id).orElse(device.id());
    }

    /**
     * @param device a real device reachable through CUDA
     * @param who the provider, for messages
     * @return the measured copy bandwidth and matmul ceilings of its GPU
     */
    public static RooflineProbe.Ceilings measureCeilings(DeviceInfo device, String who) {
        try (CudaContext context = cudaDevice(device, who).retainPrimaryContext()) {
            return CudaCeilings.measure(context);
        }
    }
}
