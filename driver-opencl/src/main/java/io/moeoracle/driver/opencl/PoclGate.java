package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Decides, from the registered ICDs and the settings, whether the OpenCL loader may be asked for its
 * platforms: {@code clGetPlatformIDs} loads every registered driver, and PoCL (through its LLVM)
 * installs signal handlers that replace the JVM's, so a JVM started without
 * {@code LD_PRELOAD=libjsig.so} can die with a bare SIGSEGV afterwards. PoCL is only a CPU device,
 * which the {@code cpu} backend serves better, so it is loaded only when asked for:
 * {@code moe.opencl.allowPocl} / {@code MOE_OPENCL_ALLOW_POCL} {@code =true}, {@code moe.xpu.anyDevice=true}
 * (the xpu backend on any OpenCL device), or a platform filter ({@code moe.opencl.platform}) naming
 * PoCL ({@code pocl} or {@code portable}). A platform filter naming another platform refuses PoCL
 * even with {@code moe.xpu.anyDevice=true}. The settings are {@link OpenClSettings}'.
 */
public final class PoclGate {

    private PoclGate() {
    }

    /**
     * @param icds the registered drivers
     * @return why the loader must not be called under this JVM's settings, or empty when it may be
     */
    public static Optional<String> refusal(IcdRegistry icds) {
        return refusal(icds, OpenClSettings.ALLOW_POCL.value(), OpenClSettings.PLATFORM.value(),
                OpenClSettings.XPU_ANY_DEVICE.value());
    }

    /**
     * @param icds the registered drivers
     * @param property reads a system property (null when unset)
     * @param env reads an environment variable (null when unset)
     * @return why the loader must not be called, or empty when it may be
     */
    public static Optional<String> refusal(IcdRegistry icds, UnaryOperator<String> property, UnaryOperator<String> env) {
        return refusal(icds, OpenClSettings.ALLOW_POCL.value(property, env), OpenClSettings.PLATFORM.value(property, env),
                OpenClSettings.XPU_ANY_DEVICE.value(property, env));
    }

    private static Optional<String> refusal(IcdRegistry icds, Optional<String> allow, Optional<String> platform,
                                            Optional<String> xpuAnyDevice) {
        List<IcdRegistry.Driver> risky = icds.signalReplacing();
        if (risky.isEmpty() || allowed(allow, platform, xpuAnyDevice)) {
            return Optional.empty();
        }
        // loops, not streams: this runs in a cold JVM's first discovery on every host with PoCL registered
        String names = joined(risky, ", ");
        List<IcdRegistry.Driver> others = icds.others();
        boolean byFilenames = false;
        for (IcdRegistry.Driver d : risky) {
            byFilenames |= d.registeredBy().equals("OCL_ICD_FILENAMES");
        }
        Set<String> libraries = new LinkedHashSet<>();
        for (IcdRegistry.Driver d : others) {
            libraries.add(d.library());
        }
        String rest = others.isEmpty() ? ""
                : "; it would load the other registered drivers too (" + joined(others, ", ") + "): to use them without"
                        + " PoCL, point OCL_ICD_VENDORS at a folder holding only their .icd files"
                        + (byFilenames ? " and set OCL_ICD_FILENAMES=" + String.join(":", libraries) : "");
        return Optional.of("OpenCL not probed: the registered drivers include PoCL [" + names + "], a CPU-only driver"
                + " whose LLVM replaces the JVM's signal handlers (a JVM without libjsig can crash); set -D"
                + OpenClSettings.ALLOW_POCL.name() + "=true (or " + OpenClSettings.ALLOW_POCL.env().orElseThrow()
                + "=true, or " + OpenClSettings.XPU_ANY_DEVICE.name() + "=true) to load it, and start"
                + " the JVM with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so" + rest);
    }

    private static String joined(List<IcdRegistry.Driver> drivers, String separator) {
        StringBuilder sb = new StringBuilder();
        for (IcdRegistry.Driver d : drivers) {
            sb.append(sb.isEmpty() ? "" : separator).append(d);
        }
        return sb.toString();
    }

    /** @return whether the settings (explicit, else a platform filter, else xpu's any-device) ask for PoCL */
    static boolean allowed(Optional<String> allow, Optional<String> platform, Optional<String> xpuAnyDevice) {
        if (allow.isPresent()) {
            return Boolean.parseBoolean(allow.get());
        }
        if (platform.isPresent()) {
            String f = platform.get().toLowerCase(Locale.ROOT);
            return f.contains("pocl") || f.contains("portable");
        }
        return xpuAnyDevice.isPresent() && Boolean.parseBoolean(xpuAnyDevice.get());
    }

    /** @return whether this JVM runs with libjsig preloaded (signal chaining) */
    static boolean jsigPreloaded() {
        String preload = System.getenv("LD_PRELOAD");
        return preload != null && preload.contains("libjsig");
    }
}
