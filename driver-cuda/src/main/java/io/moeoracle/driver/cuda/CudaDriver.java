package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CudaSettings;
import io.moeoracle.driver.cuda.ffi.CuDevice;
import io.moeoracle.driver.cuda.ffi.CuInit;
import io.moeoracle.driver.cuda.ffi.LibCuda;
import io.moeoracle.nativeload.NativeLibraryException;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA driver API, initialized. Whether it can be used is decided once, by actually opening
 * {@code libcuda.so.1} and calling {@code cuInit} and {@code cuDeviceGetCount}; the answer (and the
 * cause when it is "no") is kept for the life of the JVM, as Netty's {@code Epoll} does.
 *
 * <pre>{@code
 * if (CudaDriver.isAvailable()) {
 *     CudaDriver cuda = CudaDriver.load();
 *     try (CudaContext ctx = cuda.device(0).retainPrimaryContext()) { ctx.setCurrent(); ... }
 * }
 * }</pre>
 */
public final class CudaDriver {
    private static final Logger LOG = LoggerFactory.getLogger(CudaDriver.class);

    private final int version;
    private final int deviceCount;

    private CudaDriver(int version, int deviceCount) {
        this.version = version;
        this.deviceCount = deviceCount;
    }

    /** The probe result, computed on first use. */
    private static final class Holder {
        static final CudaDriver DRIVER;
        static final CudaUnavailableException CAUSE;

        static {
            CudaDriver driver = null;
            CudaUnavailableException cause = null;
            try {
                driver = initialize();
            } catch (CudaUnavailableException e) {
                cause = e;
                LOG.debug("CUDA unavailable: {}", e.getMessage());
            }
            DRIVER = driver;
            CAUSE = cause;
        }
    }

    private static CudaDriver initialize() {
        var library = LibCuda.library();
        if (!library.isLoaded()) {
            Throwable failure = library.failure().orElseThrow();
            boolean denied = failure instanceof NativeLibraryException n && n.nativeAccessDenied();
            String message = denied
                    ? "native access is not enabled for the CUDA driver facade: pass --enable-native-access="
                            + "io.moeoracle.nativeload,io.moeoracle.driver.cuda (module path; the first opens the"
                            + " library) or --enable-native-access=ALL-UNNAMED (class path)"
                    : "libcuda.so.1 (the NVIDIA driver) was not found: install the NVIDIA driver, or name the library"
                            + " with -D" + CudaSettings.DRIVER.name() + "=/path/to/libcuda.so.1";
            throw new CudaUnavailableException(message, failure);
        }
        try {
            int rc = CuInit.cuInit(0);
            if (rc != 0) {
                CudaException e = CudaException.of(rc, "cuInit", "flags=0");
                String what = rc == CudaException.NO_DEVICE
                        ? "the NVIDIA driver is installed but reports no CUDA device"
                        : "the NVIDIA driver failed to initialize";
                throw new CudaUnavailableException(what + " (" + library.description() + "): " + e.getMessage(), e);
            }
            int version = Out.intValue("cuDriverGetVersion", () -> "", CuInit::cuDriverGetVersion);
            int count = Out.intValue("cuDeviceGetCount", () -> "", CuDevice::cuDeviceGetCount);
            if (count == 0) {
                throw new CudaUnavailableException("the NVIDIA driver " + versionString(version)
                        + " is installed but reports no CUDA device", null);
            }
            return new CudaDriver(version, count);
        } catch (CudaException | LinkageError e) {
            throw new CudaUnavailableException("the CUDA driver could not be initialized: " + e.getMessage(), e);
        }
    }

    /** @return whether the driver loaded, initialized and has at least one device */
    public static boolean isAvailable() {
        return Holder.DRIVER != null;
    }

    /** @return why the driver cannot be used, or empty when it can */
    public static Optional<CudaUnavailableException> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /** @throws CudaUnavailableException when the driver cannot be used, with the reason */
    public static void ensureAvailability() {
        if (Holder.DRIVER == null) {
            throw new CudaUnavailableException(Holder.CAUSE.getMessage(), Holder.CAUSE);
        }
    }

    /**
     * @return the initialized driver
     * @throws CudaUnavailableException when it cannot be used, with the reason
     */
    public static CudaDriver load() {
        ensureAvailability();
        return Holder.DRIVER;
    }

    /** @return the driver's CUDA version as the driver reports it, e.g. {@code 13000} */
    public int version() {
        return version;
    }

    /** @return the version as {@code major.minor}, e.g. {@code 13.0} */
    public String versionString() {
        return versionString(version);
    }

    private static String versionString(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    /**
     * @return the driver as a device's {@link io.moeoracle.api.device.DeviceInfo#driverVersion()}: the CUDA
     *     version it implements ({@code cuDriverGetVersion}) and, where Linux shows it, the NVIDIA kernel
     *     module's version (one CUDA version spans several driver releases)
     */
    public String versionDescription() {
        String module = kernelModuleVersion(Path.of("/proc/driver/nvidia/version"));
        return "CUDA " + versionString() + " (cuDriverGetVersion " + version + ")"
                + (module.isEmpty() ? "" : ", NVIDIA kernel module " + module);
    }

    /**
     * @param file {@code /proc/driver/nvidia/version}, whose first line reads
     *     {@code NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 ...}
     * @return the module's version, or empty when the file is missing or says otherwise
     */
    static String kernelModuleVersion(Path file) {
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            String text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            int at = text.indexOf("Kernel Module");
            if (at < 0) {
                return "";
            }
            String[] words = text.substring(at + "Kernel Module".length()).strip().split("\\s+", 2);
            return words[0].matches("[0-9][0-9.]*") ? words[0] : "";
        } catch (IOException | RuntimeException e) {
            return ""; // not Linux, or no NVIDIA kernel module file: the CUDA version alone
        }
    }

    /** @return the number of CUDA devices */
    public int deviceCount() {
        return deviceCount;
    }

    /**
     * @param ordinal 0 .. deviceCount()-1
     * @return the device
     */
    public CudaDevice device(int ordinal) {
        if (ordinal < 0 || ordinal >= deviceCount) {
            throw new IllegalArgumentException("no CUDA device " + ordinal + ": this machine has " + deviceCount
                    + " (ordinals 0.." + (deviceCount - 1) + ")");
        }
        int handle = Out.intValue("cuDeviceGet", () -> "ordinal=" + ordinal, out -> CuDevice.cuDeviceGet(out, ordinal));
        return new CudaDevice(ordinal, handle);
    }

    /** @return every device */
    public List<CudaDevice> devices() {
        List<CudaDevice> all = new ArrayList<>(deviceCount);
        for (int i = 0; i < deviceCount; i++) {
            all.add(device(i));
        }
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return "CudaDriver[" + versionString() + ", " + deviceCount + " device(s), " + LibCuda.library().description() + "]";
    }
}
