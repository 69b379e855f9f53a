package io.moeoracle.api.spec;

/** How tokens are laid out when they reach the experts. */
public enum ActivationFormat {
    /** One row per token, {@code [T, H]}, with top-k ids and weights per token. */
    STANDARD,
    /** Per-expert token batches {@code [E_local, maxTokens, H]}, as produced by expert-parallel dispatch. */
    BATCHED
}
