package io.moeoracle.cli;

import io.moeoracle.api.Setting;
import java.util.List;

/** The settings of the {@code moe-oracle} command; read only through this class. */
public final class CliSettings {
    /** The command's log level. */
    public static final Setting LOG = Setting.propertyOrEnv("moe.log", "MOE_LOG", "warn",
            "log level of the moe-oracle command: warn, info, debug (-Dorg.slf4j.simpleLogger.defaultLogLevel wins)");
    /** Print stack traces of internal errors. */
    public static final Setting DEBUG = Setting.propertyOrEnv("moe.debug", "MOE_DEBUG", "",
            "any value: the moe-oracle command prints the stack trace of an internal error");

    /** The launcher's plugins folder. */
    public static final Setting PLUGINS_DIR = Setting.property("moe.plugins.dir", "",
            "the plugins folder of the moe-oracle command (./moe-oracle sets it to plugins/ beside itself)");
    /** More plugin folders or jars. */
    public static final Setting PLUGINS = Setting.propertyOrEnv("moe.plugins", "MOE_PLUGINS", "",
            "more plugin folders or jars for the moe-oracle command, separated like a class path");

    private CliSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(LOG, DEBUG, PLUGINS_DIR, PLUGINS);
    }
}
