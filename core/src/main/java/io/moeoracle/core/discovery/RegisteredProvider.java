package io.moeoracle.core.discovery;

import io.moeoracle.api.MoeKernelProvider;
import java.util.Objects;

/**
 * A provider that loaded and answered its {@code id()}.
 *
 * @param provider the provider
 * @param id its id, read once at registration
 * @param source where it came from: a jar or folder path, {@code module NAME (path)}, or
 *     {@code "bound"} for a provider added explicitly
 */
public record RegisteredProvider(MoeKernelProvider provider, String id, String source) {
    /** Rejects nulls. */
    public RegisteredProvider {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
    }
}
