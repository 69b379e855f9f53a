package io.moeoracle.tck;

import io.moeoracle.api.Setting;
import java.io.File;
import java.util.List;

/**
 * The settings of the conformance kit, read only through this class, and what the kit hands to the
 * JVMs it forks: the project's {@code moe.*} properties and the class path it runs on.
 */
public final class TckSettings {
    /** Replays a failure of the kit. */
    public static final Setting SEED = Setting.property("moe.tck.seed", "",
            "replay a conformance-kit failure: the seed its message names (default: a fresh seed per test)");

    private TckSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(SEED);
    }

    /** @return the replay seed, if set */
    static java.util.OptionalLong seed() {
        return SEED.value().map(v -> java.util.OptionalLong.of(SEED.parseLong(v, Long.MIN_VALUE, Long.MAX_VALUE)))
                .orElse(java.util.OptionalLong.empty());
    }

    /** @return {@code -Dkey=value} for every {@code moe.*} property of this JVM and its java.library.path */
    static List<String> forwardedProperties() {
        return System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("moe.") || k.equals("java.library.path"))
                .sorted().map(k -> "-D" + k + "=" + System.getProperty(k)).toList();
    }

    /**
     * The class path of this JVM for a forked one: surefire and failsafe hand the real one in a
     * property (java.class.path may be a manifest-only jar), plus the module path if any.
     *
     * @return the class path
     */
    static String childClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        String mp = System.getProperty("jdk.module.path");
        return mp == null || mp.isBlank() ? cp : cp + File.pathSeparator + mp;
    }
}
