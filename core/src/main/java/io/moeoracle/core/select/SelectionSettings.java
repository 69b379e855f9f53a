package io.moeoracle.core.select;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The user's overrides of the selection, read once (by {@link #fromSystem()}) rather than deep
 * inside the logic.
 *
 * @param backend the backend named by the system property {@code moe.backend}
 * @param backendFromEnv the backend named by the environment variable {@code MOE_BACKEND}
 *     (used when neither the spec nor the property names one)
 * @param priority ids to try first, in this order ({@code moe.priority}, else {@code MOE_PRIORITY})
 * @param exclude ids never to choose ({@code moe.exclude}, else {@code MOE_EXCLUDE})
 */
public record SelectionSettings(Optional<String> backend, Optional<String> backendFromEnv, List<String> priority,
                                List<String> exclude) {

    /** System property naming the backend to use. */
    public static final String BACKEND_PROPERTY = "moe.backend";
    /** System property listing ids to try first. */
    public static final String PRIORITY_PROPERTY = "moe.priority";
    /** System property listing ids never to choose. */
    public static final String EXCLUDE_PROPERTY = "moe.exclude";
    /** Environment variable naming the backend to use. */
    public static final String BACKEND_ENV = "MOE_BACKEND";
    /** Environment variable listing ids to try first. */
    public static final String PRIORITY_ENV = "MOE_PRIORITY";
    /** Environment variable listing ids never to choose. */
    public static final String EXCLUDE_ENV = "MOE_EXCLUDE";

    /** Normalizes ids to trimmed lower case and drops blanks. */
    public SelectionSettings {
        backend = normalize(Objects.requireNonNull(backend, "backend"));
        backendFromEnv = normalize(Objects.requireNonNull(backendFromEnv, "backendFromEnv"));
        priority = ids(Objects.requireNonNull(priority, "priority"));
        exclude = ids(Objects.requireNonNull(exclude, "exclude"));
    }

    /** @return no overrides */
    public static SelectionSettings defaults() {
        return new SelectionSettings(Optional.empty(), Optional.empty(), List.of(), List.of());
    }

    /** @return the overrides from the system properties and the environment of this JVM */
    public static SelectionSettings fromSystem() {
        Map<String, String> props = new java.util.HashMap<>();
        for (String key : List.of(BACKEND_PROPERTY, PRIORITY_PROPERTY, EXCLUDE_PROPERTY)) {
            String v = System.getProperty(key);
            if (v != null) {
                props.put(key, v);
            }
        }
        return from(props, System.getenv());
    }

    /**
     * @param properties system-property style values ({@code moe.backend}, ...)
     * @param env environment style values ({@code MOE_BACKEND}, ...)
     * @return the settings; a property wins over the variable of the same meaning
     */
    public static SelectionSettings from(Map<String, String> properties, Map<String, String> env) {
        Optional<String> p = Optional.ofNullable(properties.get(PRIORITY_PROPERTY)).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get(PRIORITY_ENV)));
        Optional<String> x = Optional.ofNullable(properties.get(EXCLUDE_PROPERTY)).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get(EXCLUDE_ENV)));
        return new SelectionSettings(Optional.ofNullable(properties.get(BACKEND_PROPERTY)),
                Optional.ofNullable(env.get(BACKEND_ENV)), split(p.orElse("")), split(x.orElse("")));
    }

    /**
     * @param id the backend the property would name, or null for none
     * @return a copy with that backend
     */
    public SelectionSettings withBackend(String id) {
        return new SelectionSettings(Optional.ofNullable(id), backendFromEnv, priority, exclude);
    }

    /**
     * @param id the backend the environment would name, or null for none
     * @return a copy with that backend
     */
    public SelectionSettings withBackendFromEnv(String id) {
        return new SelectionSettings(backend, Optional.ofNullable(id), priority, exclude);
    }

    /**
     * @param ids ids to try first, in order
     * @return a copy with that priority list
     */
    public SelectionSettings withPriority(String... ids) {
        return new SelectionSettings(backend, backendFromEnv, List.of(ids), exclude);
    }

    /**
     * @param ids ids never to choose
     * @return a copy with that exclusion list
     */
    public SelectionSettings withExclude(String... ids) {
        return new SelectionSettings(backend, backendFromEnv, priority, List.of(ids));
    }

    /**
     * @param id a provider id
     * @return whether the exclusion list names it (case-insensitive)
     */
    public boolean excludes(String id) {
        return exclude.contains(id.toLowerCase(Locale.ROOT));
    }

    private static Optional<String> normalize(Optional<String> v) {
        return v.map(s -> s.trim().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty());
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
