package io.moeoracle.backend.xpu;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the {@code xpu} backend, read only through this class; they are the defaults of
 * {@link XpuOptions} (a host can configure a provider instance instead:
 * {@link XpuKernelProvider#XpuKernelProvider(XpuOptions)}).
 */
public final class XpuSettings {
    /** Accept any OpenCL device, not only Intel Xe GPUs. */
    public static final Setting ANY_DEVICE = Setting.propertyOrEnv("moe.xpu.anyDevice", "MOE_XPU_ANY_DEVICE", "false",
            "let xpu run on any OpenCL device, not only Intel Xe GPUs (tests use PoCL's CPU device)");
    /** The GEMM kernel variant. */
    public static final Setting PATH = Setting.propertyOrEnv("moe.xpu.path", "MOE_XPU_PATH", "auto",
            "xpu GEMM kernel variant: auto, subgroup or portable");
    /** Intel sub-group block reads on or off. */
    public static final Setting BLOCK_READS = Setting.property("moe.xpu.blockReads", "true",
            "false turns off intel_sub_group_block_read in the xpu kernels on Intel devices");

    private XpuSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(ANY_DEVICE, PATH, BLOCK_READS);
    }
}
