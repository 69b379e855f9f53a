package io.moeoracle.driver.nccl.ffi;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the NCCL facade; read only through this class. In the {@code ffi} package because
 * the library class reads them while loading (and {@code ffi} may not depend on its parent).
 */
public final class NcclSettings {
    /** The NCCL library to open instead of searching for {@code libnccl.so.2}. */
    public static final Setting LIBRARY = Setting.property("moe.nccl.library", "",
            "the NCCL library (path or name) to open instead of searching java.library.path, the system loader,"
                    + " the CUDA/NCCL folders and Python's nvidia-nccl-cu1x packages for libnccl.so.2");

    private NcclSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(LIBRARY);
    }
}
