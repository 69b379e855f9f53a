package io.moeoracle.backend.aiter;

import io.moeoracle.api.Setting;
import java.util.List;
import java.util.Locale;

/** The settings of the aiter backend, read only through this class. */
public final class AiterSettings {
    /** The switch the reference server also has: 0 (or false) turns aiter and aiter-fp8 off. */
    public static final Setting ENABLED = Setting.propertyOrEnv("moe.rocm.aiter", "MOE_ROCM_AITER", "1",
            "0 or false turns the aiter and aiter-fp8 backends off (AMD's AITER switch); 1 or true keeps them on");

    private AiterSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(ENABLED);
    }

    /**
     * @return whether the aiter providers may run, read now (the switch may change between decisions)
     * @throws IllegalArgumentException naming the setting when its value is not 0/1/true/false
     */
    static boolean enabled() {
        return parse(ENABLED.valueOrDefault());
    }

    static boolean parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "1", "true" -> true;
            case "0", "false" -> false;
            default -> throw ENABLED.invalid(text, "0, 1, true or false");
        };
    }
}
