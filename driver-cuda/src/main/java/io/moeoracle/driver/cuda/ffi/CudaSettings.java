package io.moeoracle.driver.cuda.ffi;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the CUDA driver facade; read only through this class. In the {@code ffi} package
 * because the library classes read them while loading (and {@code ffi} may not depend on its parent).
 */
public final class CudaSettings {
    /** The CUDA driver library to open instead of searching for {@code libcuda.so.1}. */
    public static final Setting DRIVER = Setting.property("moe.cuda.driver", "",
            "the CUDA driver library (path or name) to open instead of searching for libcuda.so.1");
    /** The cuBLAS library file (used only to measure the BF16 matmul ceiling). */
    public static final Setting CUBLAS = Setting.property("moe.cublas.path", "",
            "the cuBLAS library file (for the BF16 matmul ceiling) instead of searching for libcublas.so.13/.12");

    private CudaSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(DRIVER, CUBLAS);
    }
}
