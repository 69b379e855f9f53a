package io.moeoracle.driver.opencl;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Decides, from the registered ICDs and the settings, whether the OpenCL loader may be asked for its
 * platforms: {@code clGetPlatformIDs} loads every registered driver, and PoCL (through its LLVM)
 * installs signal handlers that replace the JVM's, so a JVM started without
 * {@code LD_PRELOAD=libjsig.so} can die with a bare SIGSEGV afterwards. PoCL is only a CPU device,
 * which the {@code cpu} backend serves better, so it is loaded only when asked for:
 * {@value #ALLOW_PROPERTY} / {@value #ALLOW_ENV} {@code =true}, {@code moe.xpu.anyDevice=true} (the
 * xpu backend on any OpenCL device), or a platform filter ({@value OpenCl#PLATFORM_PROPERTY}) naming
 * PoCL ({@code pocl} or {@code portable}). A platform filter naming another platform refuses PoCL
 * even with {@code moe.xpu.anyDevice=true}.
 */
public final class PoclGate {
    /** System property: {@code true} lets the OpenCL probe load PoCL. */
    public static final String ALLOW_PROPERTY = "moe.opencl.allowPocl";
    /** Environment variable read when {@link #ALLOW_PROPERTY} is unset. */
    public static final String ALLOW_ENV = "MOE_OPENCL_ALLOW_POCL";
    /** The xpu backend's "any OpenCL device" setting, which also asks for PoCL. */
    static final String XPU_ANY_PROPERTY = "moe.xpu.anyDevice";
    static final String XPU_ANY_ENV = "MOE_XPU_ANY_DEVICE";

    private PoclGate() {
    }

    /**
     * @param icds the registered drivers
     * @param property reads a system property (null when unset)
     * @param env reads an environment variable (null when unset)
     * @return why the loader must not be called, or empty when it may be
     */
    public static Optional<String> refusal(IcdRegistry icds, UnaryOperator<String> property, UnaryOperator<String> env) {
        List<IcdRegistry.Driver> risky = icds.signalReplacing();
        if (risky.isEmpty() || allowed(property, env)) {
            return Optional.empty();
        }
        String names = risky.stream().map(IcdRegistry.Driver::toString).collect(Collectors.joining(", "));
        List<IcdRegistry.Driver> others = icds.others();
        String rest = others.isEmpty() ? ""
                : "; it would load the other registered drivers too (" + others.stream().map(IcdRegistry.Driver::toString)
                        .collect(Collectors.joining(", ")) + "): to use them without PoCL, point OCL_ICD_VENDORS at a"
                        + " folder holding only their .icd files";
        return Optional.of("OpenCL not probed: the registered drivers include PoCL [" + names + "], a CPU-only driver"
                + " whose LLVM replaces the JVM's signal handlers (a JVM without libjsig can crash); set -D"
                + ALLOW_PROPERTY + "=true (or " + ALLOW_ENV + "=true, or moe.xpu.anyDevice=true) to load it, and start"
                + " the JVM with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so" + rest);
    }

    /**
     * @param property reads a system property
     * @param env reads an environment variable
     * @return whether the settings ask for PoCL
     */
    static boolean allowed(UnaryOperator<String> property, UnaryOperator<String> env) {
        String explicit = setting(property, ALLOW_PROPERTY, env, ALLOW_ENV);
        if (explicit != null) {
            return Boolean.parseBoolean(explicit);
        }
        String filter = setting(property, OpenCl.PLATFORM_PROPERTY, env, OpenCl.PLATFORM_ENV);
        if (filter != null) {
            String f = filter.toLowerCase(Locale.ROOT);
            return f.contains("pocl") || f.contains("portable");
        }
        return Boolean.parseBoolean(setting(property, XPU_ANY_PROPERTY, env, XPU_ANY_ENV));
    }

    private static String setting(UnaryOperator<String> property, String name, UnaryOperator<String> env, String envName) {
        String v = property.apply(name);
        if (v == null || v.isBlank()) {
            v = env.apply(envName);
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** @return whether this JVM runs with libjsig preloaded (signal chaining) */
    static boolean jsigPreloaded() {
        String preload = System.getenv("LD_PRELOAD");
        return preload != null && preload.contains("libjsig");
    }
}
