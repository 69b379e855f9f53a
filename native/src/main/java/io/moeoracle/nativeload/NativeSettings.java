package io.moeoracle.nativeload;

import io.moeoracle.api.Setting;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The settings of the native-library loader; read only through this class. */
public final class NativeSettings {
    /** Where libraries shipped in a jar are extracted (a folder that allows executable files). */
    public static final Setting CACHE = Setting.property("moe.native.cache", "",
            "folder native libraries are extracted to (must allow executable files); default"
                    + " ~/.cache/moe-oracle/native, then java.io.tmpdir");

    private NativeSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(CACHE);
    }

    /**
     * @return the folders to extract into, in order: {@link #CACHE} alone when set, else
     *     {@code ~/.cache/moe-oracle/native} and then a per-user folder under {@code java.io.tmpdir}
     */
    public static List<Path> cacheFolders() {
        Optional<String> set = CACHE.value();
        if (set.isPresent()) {
            return List.of(Path.of(set.get()));
        }
        return List.of(Path.of(System.getProperty("user.home"), ".cache", "moe-oracle", "native"),
                Path.of(System.getProperty("java.io.tmpdir"), "moe-oracle-native-" + System.getProperty("user.name", "user")));
    }
}
