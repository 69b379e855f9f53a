package io.moeoracle.driver.hip.ffi;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the HIP runtime facade; read only through this class. In the {@code ffi} package
 * because the library class reads them while loading (and {@code ffi} may not depend on its parent).
 */
public final class HipSettings {
    /** The HIP runtime library to open instead of searching for {@code libamdhip64.so}. */
    public static final Setting RUNTIME = Setting.property("moe.hip.runtime", "",
            "the HIP runtime library (path or name) to open instead of searching for libamdhip64.so.7/.6/.so");

    private HipSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(RUNTIME);
    }
}
