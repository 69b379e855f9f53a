package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import io.moeoracle.driver.opencl.ffi.OpenClLibrary;
import io.moeoracle.driver.opencl.ffi.PlatformCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the OpenCL facade. The ICD loader ({@code libOpenCL.so.1}) is opened lazily, on
 * the first call; {@link #isAvailable()} is computed once by actually calling
 * {@code clGetPlatformIDs}, so "loader present but no vendor ICD registered" counts as unavailable,
 * with the reason in {@link #unavailabilityCause()}. Before that call the registered drivers are read
 * ({@link IcdRegistry}): when PoCL is among them and not asked for ({@link PoclGate}), the loader is not
 * called and OpenCL is unavailable with that reason, because PoCL replaces the JVM's signal handlers.
 *
 * <p>Which platforms are listed can be narrowed with the system property {@code moe.opencl.platform}
 * or the environment variable {@code MOE_OPENCL_PLATFORM} ({@link OpenClSettings#PLATFORM}): a case-insensitive substring of the
 * platform's name or vendor (e.g. {@code NVIDIA}, {@code Intel}, {@code Portable}).
 */
public final class OpenCl {
    private static final Logger LOG = LoggerFactory.getLogger(OpenCl.class);
    private static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private OpenCl() {
    }

    private static final class Availability {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            // decided before clGetPlatformIDs, which loads every registered driver into this process; and before
            // opening the ICD loader, which a refused probe does not need
            IcdRegistry icds = IcdRegistry.current();
            Optional<String> refusal = PoclGate.refusal(icds);
            if (refusal.isPresent()) {
                LOG.debug("{}", refusal.get());
                return new IllegalStateException(refusal.get());
            }
            Optional<UnsatisfiedLinkError> loadFailure = OpenClLibrary.loadFailure();
            if (loadFailure.isPresent()) {
                return loadFailure.get();
            }
            if (!icds.signalReplacing().isEmpty() && !PoclGate.jsigPreloaded()) {
                LOG.warn("loading the OpenCL drivers {} as asked, in a JVM without libjsig: PoCL's signal handlers may"
                        + " replace the JVM's; start it with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so", icds.signalReplacing());
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
                int rc = PlatformCalls.getPlatformIds(0, MemorySegment.NULL, count);
                if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == 0 && count.get(ValueLayout.JAVA_INT, 0) == 0)) {
                    return new IllegalStateException("the OpenCL ICD loader found no platform"
                            + " (CL_PLATFORM_NOT_FOUND_KHR): no vendor ICD is registered; install one"
                            + " (e.g. pocl-opencl-icd, intel-opencl-icd) or point OCL_ICD_VENDORS at a folder"
                            + " holding a .icd file that names the vendor library");
                }
                if (rc != 0) {
                    return new OpenClException("clGetPlatformIDs(num_entries=0)", rc, "");
                }
                return null;
            } catch (Throwable t) {
                return t;
            }
        }
    }

    /** @return whether the ICD loader opened and lists at least one platform */
    public static boolean isAvailable() {
        return Availability.CAUSE == null;
    }

    /** @return why OpenCL is unavailable, empty when it is available */
    public static Optional<Throwable> unavailabilityCause() {
        return Optional.ofNullable(Availability.CAUSE);
    }

    /**
     * @throws IllegalStateException carrying {@link #unavailabilityCause()} when OpenCL is unavailable
     */
    public static void ensureAvailability() {
        if (Availability.CAUSE != null) {
            throw new IllegalStateException("OpenCL is unavailable: " + Availability.CAUSE.getMessage(),
                    Availability.CAUSE);
        }
    }

    /**
     * Every platform the ICD loader lists, in its order (not filtered).
     *
     * @return the platforms
     * @throws IllegalStateException when OpenCL is unavailable
     */
    public static List<ClPlatform> allPlatforms() {
        ensureAvailability();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            OpenClException.check(PlatformCalls.getPlatformIds(0, MemorySegment.NULL, count),
                    "clGetPlatformIDs(num_entries=0)");
            int n = count.get(ValueLayout.JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
            OpenClException.check(PlatformCalls.getPlatformIds(n, ids, count), "clGetPlatformIDs(num_entries=" + n + ")");
            List<ClPlatform> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new ClPlatform(i, ids.getAtIndex(ValueLayout.ADDRESS, i)));
            }
            return List.copyOf(out);
        }
    }

    /**
     * The platforms selected by {@link OpenClSettings#PLATFORM} (all when unset).
     *
     * @return the platforms
     */
    public static List<ClPlatform> platforms() {
        String filter = platformFilter().orElse(null);
        List<ClPlatform> all = allPlatforms();
        if (filter == null) {
            return all;
        }
        List<ClPlatform> kept = all.stream().filter(p -> p.matches(filter)).toList();
        if (kept.isEmpty()) {
            LOG.warn("{}={} matches none of the OpenCL platforms {}", OpenClSettings.PLATFORM.name(), filter,
                    all.stream().map(ClPlatform::name).toList());
        }
        return kept;
    }

    /** @return every device of the selected platforms, platform by platform */
    public static List<ClDevice> devices() {
        List<ClDevice> out = new ArrayList<>();
        for (ClPlatform p : platforms()) {
            out.addAll(p.devices());
        }
        return List.copyOf(out);
    }

    /**
     * Finds a device by its {@link ClDevice#id()} ({@code opencl:<platform>:<device>}, indexes in the
     * loader's unfiltered order).
     *
     * @param id the id
     * @return the device, or empty
     */
    public static Optional<ClDevice> device(String id) {
        if (!isAvailable() || !id.startsWith("opencl:")) {
            return Optional.empty();
        }
        String[] parts = id.split(":");
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            int p = Integer.parseInt(parts[1]);
            int d = Integer.parseInt(parts[2]);
            List<ClPlatform> all = allPlatforms();
            if (p < 0 || p >= all.size()) {
                return Optional.empty();
            }
            List<ClDevice> devs = all.get(p).devices();
            return d >= 0 && d < devs.size() ? Optional.of(devs.get(d)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** @return the platform filter from the property or the environment, if set */
    public static Optional<String> platformFilter() {
        return OpenClSettings.PLATFORM.value().map(v -> v.toLowerCase(Locale.ROOT));
    }
}
