package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import io.moeoracle.driver.hip.ffi.HipSettings;
import io.moeoracle.driver.hip.ffi.LibHip;
import io.moeoracle.nativeload.NativeLibraryException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HIP runtime, initialized. Whether it can be used is decided once, by opening
 * {@code libamdhip64} and calling {@code hipInit} and {@code hipGetDeviceCount}; the answer (and
 * the cause when it is "no") is kept for the life of the JVM, like {@code CudaDriver} in driver-cuda.
 */
public final class HipRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(HipRuntime.class);

    private final int version;
    private final int driverVersion;
    private final int deviceCount;

    private HipRuntime(int version, int driverVersion, int deviceCount) {
        this.driverVersion = driverVersion;
        this.version = version;
        this.deviceCount = deviceCount;
    }

    /** The probe result, computed on first use. */
    private static final class Holder {
        static final HipRuntime RUNTIME;
        static final HipUnavailableException CAUSE;

        static {
            HipRuntime runtime = null;
            HipUnavailableException cause = null;
            try {
                runtime = initialize();
            } catch (HipUnavailableException e) {
                cause = e;
                LOG.debug("HIP unavailable: {}", e.getMessage());
            }
            RUNTIME = runtime;
            CAUSE = cause;
        }
    }

    private static HipRuntime initialize() {
        var library = LibHip.library();
        if (!library.isLoaded()) {
            Throwable failure = library.failure().orElseThrow();
            boolean denied = failure instanceof NativeLibraryException n && n.nativeAccessDenied();
            String message = denied
                    ? "native access is not enabled for the HIP runtime facade: pass --enable-native-access="
                            + "io.moeoracle.nativeload,io.moeoracle.driver.hip (module path) or"
                            + " --enable-native-access=ALL-UNNAMED (class path)"
                    : "libamdhip64 (the ROCm HIP runtime) was not found: install ROCm's HIP runtime, or name the"
                            + " library with -D" + HipSettings.RUNTIME.name() + "=/path/to/libamdhip64.so";
            throw new HipUnavailableException(message, failure);
        }
        try {
            int rc = HipCalls.hipInit(0);
            if (rc != 0) {
                HipException e = HipException.of(rc, "hipInit", "flags=0");
                String what = rc == HipException.NO_DEVICE
                        ? "the HIP runtime is installed but reports no AMD GPU"
                        : "the HIP runtime failed to initialize";
                throw new HipUnavailableException(what + " (" + library.description() + "): " + e.getMessage(), e);
            }
            int v = intOut("hipRuntimeGetVersion", "", HipCalls::hipRuntimeGetVersion);
            int count = intOut("hipGetDeviceCount", "", HipCalls::hipGetDeviceCount);
            if (count == 0) {
                throw new HipUnavailableException("the HIP runtime " + versionString(v)
                        + " is installed but reports no AMD GPU", null);
            }
            int driver;
            try {
                driver = intOut("hipDriverGetVersion", "", HipCalls::hipDriverGetVersion);
            } catch (HipException e) {
                driver = 0; // the runtime's version still names the stack
            }
            return new HipRuntime(v, driver, count);
        } catch (HipException | LinkageError e) {
            throw new HipUnavailableException("the HIP runtime could not be initialized: " + e.getMessage(), e);
        }
    }

    /** Calls a function with one {@code int*} out parameter and returns it. */
    static int intOut(String call, String args, Function<MemorySegment, Integer> fn) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            HipException.check(fn.apply(out), call, args);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** @return whether the runtime loaded, initialized and has at least one device */
    public static boolean isAvailable() {
        return Holder.RUNTIME != null;
    }

    /** @return why the runtime cannot be used, or empty when it can */
    public static Optional<HipUnavailableException> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /**
     * @return the initialized runtime
     * @throws HipUnavailableException when it cannot be used, with the reason
     */
    public static HipRuntime load() {
        if (Holder.RUNTIME == null) {
            throw new HipUnavailableException(Holder.CAUSE.getMessage(), Holder.CAUSE);
        }
        return Holder.RUNTIME;
    }

    /** @return the runtime version as HIP encodes it (major * 10^7 + minor * 10^5 + patch) */
    public int version() {
        return version;
    }

    /** @return the version as {@code major.minor}, e.g. {@code 6.4} */
    public String versionString() {
        return versionString(version);
    }

    static String versionString(int v) {
        return (v / 10_000_000) + "." + (v / 100_000) % 100;
    }

    /**
     * @return the runtime and driver as a device's {@link io.moeoracle.api.device.DeviceInfo#driverVersion()},
     *     e.g. {@code HIP runtime 6.4 (hipRuntimeGetVersion 60443484), driver 60443484 (hipDriverGetVersion)}
     */
    public String versionDescription() {
        return "HIP runtime " + versionString() + " (hipRuntimeGetVersion " + version + ")"
                + (driverVersion == 0 ? "" : ", driver " + driverVersion + " (hipDriverGetVersion)");
    }

    /** @return the number of HIP devices */
    public int deviceCount() {
        return deviceCount;
    }

    /**
     * @param ordinal 0 .. deviceCount()-1
     * @return the device, its properties read
     */
    public HipDevice device(int ordinal) {
        if (ordinal < 0 || ordinal >= deviceCount) {
            throw new IllegalArgumentException("no HIP device " + ordinal + ": this machine has " + deviceCount
                    + " (ordinals 0.." + (deviceCount - 1) + ")");
        }
        return HipDevice.open(ordinal);
    }

    @Override
    public String toString() {
        return "HipRuntime[" + versionString() + ", " + deviceCount + " device(s), " + LibHip.library().description() + "]";
    }
}
