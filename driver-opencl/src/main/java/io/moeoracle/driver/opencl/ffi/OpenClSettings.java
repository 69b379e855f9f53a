package io.moeoracle.driver.opencl.ffi;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the OpenCL driver facade; read only through this class. In the {@code ffi} package
 * because the library class reads one while loading (and {@code ffi} may not depend on its parent).
 */
public final class OpenClSettings {
    /** The OpenCL library to open instead of the ICD loader. */
    public static final Setting LIBRARY = Setting.property("moe.opencl.library", "",
            "the OpenCL library file to open instead of the ICD loader (libOpenCL.so.1)");
    /** Narrows the platforms listed to those whose name or vendor contains the value. */
    public static final Setting PLATFORM = Setting.propertyOrEnv("moe.opencl.platform", "MOE_OPENCL_PLATFORM", "",
            "list only OpenCL platforms whose name or vendor contains this text (e.g. NVIDIA, Intel, Portable)");
    /** Lets device discovery load PoCL (whose LLVM replaces the JVM's signal handlers). */
    public static final Setting ALLOW_POCL = Setting.propertyOrEnv("moe.opencl.allowPocl", "MOE_OPENCL_ALLOW_POCL",
            "false", "let OpenCL device discovery load PoCL (also allowed by moe.xpu.anyDevice=true or a platform filter"
                    + " naming pocl/portable); start the JVM with libjsig then");
    /**
     * The xpu backend's switch (declared by backend-xpu too, alike): xpu on any OpenCL device asks for
     * PoCL, so device discovery reads it.
     */
    public static final Setting XPU_ANY_DEVICE = Setting.propertyOrEnv("moe.xpu.anyDevice", "MOE_XPU_ANY_DEVICE",
            "false", "let xpu run on any OpenCL device, not only Intel Xe GPUs (tests use PoCL's CPU device)");
    /** The program-binary cache folder, or {@code off}. */
    public static final Setting CACHE = Setting.property("moe.opencl.cache", "~/.cache/moe-oracle/opencl",
            "OpenCL program-binary cache folder (off to disable)");
    /** Stack bytes of the thread that runs vendor compilers. */
    public static final Setting BUILD_STACK_BYTES = Setting.property("moe.opencl.buildStackBytes",
            String.valueOf(512L << 20), "stack bytes of the thread that builds OpenCL programs (vendor compilers"
                    + " recurse deeply)");

    private OpenClSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(LIBRARY, PLATFORM, ALLOW_POCL, XPU_ANY_DEVICE, CACHE, BUILD_STACK_BYTES);
    }
}
