package io.moeoracle.core.discovery;

import io.moeoracle.core.internal.ServiceScan;
import java.util.Objects;

/**
 * A provider that was declared but could not be used: its class did not load, its constructor
 * threw, or its {@code id()} threw.
 *
 * @param source where it was declared (jar, folder, module, or the class loader)
 * @param name the provider's class name, or {@code "?"} when the loader's error does not name it
 * @param cause what went wrong
 */
public record UnavailableProvider(String source, String name, Throwable cause) {
    /** Rejects nulls. */
    public UnavailableProvider {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cause, "cause");
    }

    /** @return the cause's class and message, with the root cause's when there is a chain */
    public String reason() {
        return ServiceScan.describe(cause);
    }
}
