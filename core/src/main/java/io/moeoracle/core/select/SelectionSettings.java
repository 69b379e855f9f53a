package io.moeoracle.core.select;

import io.moeoracle.api.Setting;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The user's overrides of the selection, read once (by {@link #fromSystem()}) rather than deep
 * inside the logic. Core's settings are declared here ({@link #all()}); a host may bind its own
 * instance instead (e.g. through the Guice module).
 *
 * @param backend the backend named by the system property {@code moe.backend}
 * @param backendFromEnv the backend named by the environment variable {@code MOE_BACKEND}
 *     (used when neither the spec nor the property names one)
 * @param priority ids to try first, in this order ({@code moe.priority}, else {@code MOE_PRIORITY})
 * @param exclude ids never to choose ({@code moe.exclude}, else {@code MOE_EXCLUDE})
 * @param cacheSize the most decisions a selector keeps ({@code moe.selector.cacheSize}), least
 *     recently used dropped first
 */
public record SelectionSettings(Optional<String> backend, Optional<String> backendFromEnv, List<String> priority,
                                List<String> exclude, int cacheSize) {

    /** The backend to use: the property wins over the spec, the spec over the environment variable. */
    public static final Setting BACKEND = Setting.propertyOrEnv("moe.backend", "MOE_BACKEND", "",
            "insist on one backend: that one or an error saying why not (the property wins over the spec,"
                    + " the spec over the variable)");
    /** Ids to try first. */
    public static final Setting PRIORITY = Setting.propertyOrEnv("moe.priority", "MOE_PRIORITY", "",
            "backend ids to try first, in order (comma-separated)");
    /** Ids never to choose. */
    public static final Setting EXCLUDE = Setting.propertyOrEnv("moe.exclude", "MOE_EXCLUDE", "",
            "backend ids never to choose (comma-separated; still shown in the explanation)");
    /** The most decisions a selector keeps. */
    public static final Setting CACHE_SIZE = Setting.property("moe.selector.cacheSize", "1024",
            "the most (layer, device) decisions a selector keeps, least recently used dropped first (about 2.5 KB each)");
    /** Files of simulated devices (read by {@code io.moeoracle.core.device.SimulatedDevices}). */
    public static final Setting SIMULATED_DEVICES = Setting.property("moe.devices.simulated", "",
            "files of more simulated devices for --device sim:NAME, separated like a class path (format:"
                    + " docs/writing-a-backend.md)");
    /** Which selection policy {@link SelectionPolicy#fromSystem()} gives: {@code default} or a named one. */
    public static final Setting POLICY = Setting.propertyOrEnv("moe.policy", "MOE_POLICY", "default",
            "the selection policy: default (priorities) or measured (time every candidate on this device, needs"
                    + " moe-oracle-measure; results cached, see moe.measure.*)");
    private static final int DEFAULT_CACHE_SIZE = 1024;
    private static final int MAX_CACHE_SIZE = 1 << 24;

    /** Normalizes ids to trimmed lower case and drops blanks. */
    public SelectionSettings {
        backend = normalize(Objects.requireNonNull(backend, "backend"));
        backendFromEnv = normalize(Objects.requireNonNull(backendFromEnv, "backendFromEnv"));
        priority = ids(Objects.requireNonNull(priority, "priority"));
        exclude = ids(Objects.requireNonNull(exclude, "exclude"));
        if (cacheSize < 1 || cacheSize > MAX_CACHE_SIZE) {
            throw CACHE_SIZE.invalid(String.valueOf(cacheSize), "a whole number in [1, " + MAX_CACHE_SIZE + "]");
        }
    }

    /**
     * Settings with the default cache size.
     *
     * @param backend see the record
     * @param backendFromEnv see the record
     * @param priority see the record
     * @param exclude see the record
     */
    public SelectionSettings(Optional<String> backend, Optional<String> backendFromEnv, List<String> priority,
                             List<String> exclude) {
        this(backend, backendFromEnv, priority, exclude, DEFAULT_CACHE_SIZE);
    }

    /** @return no overrides */
    public static SelectionSettings defaults() {
        return new SelectionSettings(Optional.empty(), Optional.empty(), List.of(), List.of());
    }

    /** @return every setting core reads */
    public static List<Setting> all() {
        return List.of(BACKEND, PRIORITY, EXCLUDE, CACHE_SIZE, SIMULATED_DEVICES, POLICY);
    }

    /** @return the overrides from the system properties and the environment of this JVM */
    public static SelectionSettings fromSystem() {
        // read directly, without method references: this runs in a cold JVM's first discovery
        return new SelectionSettings(present(System.getProperty(BACKEND.name())),
                present(System.getenv(BACKEND.env().orElseThrow())), split(PRIORITY.value().orElse("")),
                split(EXCLUDE.value().orElse("")), (int) CACHE_SIZE.parseLong(CACHE_SIZE.valueOrDefault(), 1,
                        MAX_CACHE_SIZE));
    }

    private static Optional<String> present(String v) {
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    /**
     * @param properties looks up a system property, null when unset
     * @param env looks up an environment variable, null when unset
     * @return the settings; a property wins over the variable of the same meaning
     */
    public static SelectionSettings from(UnaryOperator<String> properties, UnaryOperator<String> env) {
        UnaryOperator<String> none = k -> null;
        return new SelectionSettings(BACKEND.value(properties, none), BACKEND.value(none, env),
                split(PRIORITY.value(properties, env).orElse("")), split(EXCLUDE.value(properties, env).orElse("")),
                (int) CACHE_SIZE.parseLong(CACHE_SIZE.value(properties, env).orElse(CACHE_SIZE.defaultValue()), 1,
                        MAX_CACHE_SIZE));
    }

    /**
     * @param properties system-property style values ({@code moe.backend}, ...)
     * @param env environment style values ({@code MOE_BACKEND}, ...)
     * @return the settings; a property wins over the variable of the same meaning
     */
    public static SelectionSettings from(Map<String, String> properties, Map<String, String> env) {
        return from(properties::get, env::get);
    }

    /**
     * @param id the backend the property would name, or null for none
     * @return a copy with that backend
     */
    public SelectionSettings withBackend(String id) {
        return new SelectionSettings(Optional.ofNullable(id), backendFromEnv, priority, exclude, cacheSize);
    }

    /**
     * @param id the backend the environment would name, or null for none
     * @return a copy with that backend
     */
    public SelectionSettings withBackendFromEnv(String id) {
        return new SelectionSettings(backend, Optional.ofNullable(id), priority, exclude, cacheSize);
    }

    /**
     * @param ids ids to try first, in order
     * @return a copy with that priority list
     */
    public SelectionSettings withPriority(String... ids) {
        return new SelectionSettings(backend, backendFromEnv, List.of(ids), exclude, cacheSize);
    }

    /**
     * @param ids ids never to choose
     * @return a copy with that exclusion list
     */
    public SelectionSettings withExclude(String... ids) {
        return new SelectionSettings(backend, backendFromEnv, priority, List.of(ids), cacheSize);
    }

    /**
     * @param decisions the most decisions a selector keeps, at least 1
     * @return a copy with that cache size
     */
    public SelectionSettings withCacheSize(int decisions) {
        return new SelectionSettings(backend, backendFromEnv, priority, exclude, decisions);
    }

    /**
     * @param id a provider id
     * @return whether the exclusion list names it (case-insensitive)
     */
    public boolean excludes(String id) {
        return exclude.contains(id.toLowerCase(Locale.ROOT));
    }

    private static Optional<String> normalize(Optional<String> v) {
        String s = v.isPresent() ? v.get().trim().toLowerCase(Locale.ROOT) : "";
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    private static List<String> split(String csv) {
        return Arrays.asList(csv.split(","));
    }

    private static List<String> ids(List<String> raw) {
        List<String> out = new ArrayList<>();
        for (String s : raw) {
            if (s == null) {
                continue;
            }
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (!t.isEmpty() && !out.contains(t)) {
                out.add(t);
            }
        }
        return List.copyOf(out);
    }
}
