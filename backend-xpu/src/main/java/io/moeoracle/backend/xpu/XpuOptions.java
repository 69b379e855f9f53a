package io.moeoracle.backend.xpu;

import java.util.Locale;

/** The system properties the xpu backend reads (each also as an environment variable, property first). */
public final class XpuOptions {
    /** {@code true}: accept any OpenCL device, not only Intel GPUs (tests use it on PoCL's CPU device). */
    public static final String ANY_DEVICE = "moe.xpu.anyDevice";
    /** {@code auto} (default), {@code subgroup} or {@code portable}: the GEMM kernel variant. */
    public static final String PATH = "moe.xpu.path";
    /** Environment variable read when {@link #ANY_DEVICE} is unset. */
    public static final String ANY_DEVICE_ENV = "MOE_XPU_ANY_DEVICE";
    /** Environment variable read when {@link #PATH} is unset. */
    public static final String PATH_ENV = "MOE_XPU_PATH";
    /** {@code false} turns off {@code intel_sub_group_block_read} on Intel devices. */
    public static final String BLOCK_READS = "moe.xpu.blockReads";

    private XpuOptions() {
    }

    static boolean anyDevice() {
        return Boolean.parseBoolean(setting(ANY_DEVICE, ANY_DEVICE_ENV, "false"));
    }

    static String path() {
        String v = setting(PATH, PATH_ENV, "auto").trim().toLowerCase(Locale.ROOT);
        if (!v.equals("auto") && !v.equals("subgroup") && !v.equals("portable")) {
            throw new IllegalArgumentException(PATH + "=" + v + " is unknown; use auto, subgroup or portable");
        }
        return v;
    }

    private static String setting(String property, String env, String fallback) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? fallback : v;
    }

    static boolean blockReads() {
        return Boolean.parseBoolean(System.getProperty(BLOCK_READS, "true"));
    }
}
