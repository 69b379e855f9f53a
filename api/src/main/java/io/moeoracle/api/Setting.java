package io.moeoracle.api;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * One setting moe-oracle reads: a system property, optionally an environment variable of the same
 * meaning (the property wins when both are set), the default and a one-line description. Each
 * module declares its settings in one class (e.g. {@code CpuSettings}) and reads them only through
 * it; the README's settings table lists every declared setting, and a test holds the two together.
 * Values are trimmed; a blank value counts as unset.
 *
 * @param name the system property, e.g. {@code moe.cpu.threads}
 * @param env the environment variable of the same meaning, e.g. {@code MOE_BACKEND}, if any
 * @param defaultValue the value used when neither is set, as the README shows it ({@code ""}: none;
 *     the description then says what happens)
 * @param doc what the setting does, one line
 */
public record Setting(String name, Optional<String> env, String defaultValue, String doc) {

    /** Checks the names: properties start with {@code moe.}, variables with {@code MOE_}. */
    public Setting {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(defaultValue, "defaultValue");
        Objects.requireNonNull(doc, "doc");
        // hand-written checks, not regular expressions: every setting class builds its settings during discovery
        if (!isPropertyName(name)) {
            throw new IllegalArgumentException("setting name '" + name + "' must look like moe.word[.word...]");
        }
        if (env.isPresent() && !isEnvName(env.get())) {
            throw new IllegalArgumentException("environment variable '" + env.get() + "' of " + name
                    + " must look like MOE_WORD");
        }
        if (doc.isBlank()) {
            throw new IllegalArgumentException("setting " + name + " needs a one-line description");
        }
    }

    /**
     * @param name the system property
     * @param defaultValue the default ({@code ""}: none)
     * @param doc what it does
     * @return a setting read from the system property only
     */
    public static Setting property(String name, String defaultValue, String doc) {
        return new Setting(name, Optional.empty(), defaultValue, doc);
    }

    /**
     * @param name the system property
     * @param env the environment variable read when the property is unset
     * @param defaultValue the default ({@code ""}: none)
     * @param doc what it does
     * @return a setting read from the property, else the environment variable
     */
    public static Setting propertyOrEnv(String name, String env, String defaultValue, String doc) {
        return new Setting(name, Optional.of(env), defaultValue, doc);
    }

    /** {@code moe(\.[A-Za-z0-9]+)+} */
    private static boolean isPropertyName(String s) {
        if (!s.startsWith("moe.") || s.endsWith(".")) {
            return false;
        }
        for (int i = 3; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean word = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
            if (!word && !(c == '.' && s.charAt(i - 1) != '.')) {
                return false;
            }
        }
        return true;
    }

    /** {@code MOE_[A-Z0-9_]+} */
    private static boolean isEnvName(String s) {
        if (!s.startsWith("MOE_") || s.length() == 4) {
            return false;
        }
        for (int i = 4; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    /** @return the value this JVM was given (property, else environment variable), if any */
    public Optional<String> value() {
        // no lambdas: settings are read during a cold JVM's first discovery, where each costs ~0.2 ms
        Optional<String> property = present(System.getProperty(name));
        if (property.isPresent() || env.isEmpty()) {
            return property;
        }
        return present(System.getenv(env.get()));
    }

    /**
     * The value from explicit sources (tests, hosts that keep their own configuration).
     *
     * @param properties looks up a system-property name, null when unset
     * @param environment looks up an environment variable, null when unset
     * @return the property's value, else the variable's, trimmed; empty when both are unset or blank
     */
    public Optional<String> value(UnaryOperator<String> properties, UnaryOperator<String> environment) {
        Optional<String> property = present(properties.apply(name));
        if (property.isPresent() || env.isEmpty()) {
            return property;
        }
        return present(environment.apply(env.get()));
    }

    /** @return the value, else {@link #defaultValue()} */
    public String valueOrDefault() {
        return value().orElse(defaultValue);
    }

    /**
     * @return the value read as {@code true} or {@code false} (any case), else the default
     * @throws IllegalArgumentException naming the setting when the value is neither
     */
    public boolean booleanValue() {
        return parseBoolean(valueOrDefault());
    }

    /**
     * @param text a value of this setting
     * @return it read as {@code true} or {@code false} (any case)
     * @throws IllegalArgumentException naming the setting when it is neither
     */
    public boolean parseBoolean(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(text, "true or false");
        };
    }

    /**
     * @param text a value of this setting
     * @param min the smallest value allowed
     * @param max the largest value allowed
     * @return it read as a whole number in [min, max]
     * @throws IllegalArgumentException naming the setting when it is not
     */
    public long parseLong(String text, long min, long max) {
        try {
            long v = Long.parseLong(text.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below, with the allowed range
        }
        throw invalid(text, "a whole number in [" + min + ", " + max + "]");
    }

    /**
     * @param text the value given
     * @param expected what would have been accepted
     * @return an error that names this setting, the value and what to do
     */
    public IllegalArgumentException invalid(String text, String expected) {
        return new IllegalArgumentException(describe() + " is '" + text + "'; expected " + expected
                + (defaultValue.isEmpty() ? "" : ", or unset it for the default (" + defaultValue + ")"));
    }

    /** @return how a user sets it, e.g. {@code -Dmoe.backend (or MOE_BACKEND)} */
    public String describe() {
        return "-D" + name + (env.isPresent() ? " (or " + env.get() + ")" : "");
    }

    private static Optional<String> present(String v) {
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }
}
