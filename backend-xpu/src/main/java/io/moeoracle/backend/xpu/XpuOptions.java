package io.moeoracle.backend.xpu;

import java.util.Locale;

/** The system properties the xpu backend reads. */
public final class XpuOptions {
    /** {@code true}: accept any OpenCL device, not only Intel GPUs (tests use it on PoCL's CPU device). */
    public static final String ANY_DEVICE = "moe.xpu.anyDevice";
    /** {@code auto} (default), {@code subgroup} or {@code portable}: the GEMM kernel variant. */
    public static final String PATH = "moe.xpu.path";
    /** {@code false} turns off {@code intel_sub_group_block_read} on Intel devices. */
    public static final String BLOCK_READS = "moe.xpu.blockReads";

    private XpuOptions() {
    }

    static boolean anyDevice() {
        return Boolean.parseBoolean(System.getProperty(ANY_DEVICE, "false"));
    }

    static String path() {
        String v = System.getProperty(PATH, "auto").trim().toLowerCase(Locale.ROOT);
        if (!v.equals("auto") && !v.equals("subgroup") && !v.equals("portable")) {
            throw new IllegalArgumentException(PATH + "=" + v + " is unknown; use auto, subgroup or portable");
        }
        return v;
    }

    static boolean blockReads() {
        return Boolean.parseBoolean(System.getProperty(BLOCK_READS, "true"));
    }
}
