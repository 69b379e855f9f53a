package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.ActivationFormat;

/**
 * {@code batched-marlin}: the marlin kernels for the batched (expert-parallel) format, where tokens
 * arrive already grouped per local expert ({@code [E_local, maxTokens, H]} plus per-expert counts).
 * Its kernels run {@link io.moeoracle.api.MoeKernel#forwardBatched}; see there for the forward contract.
 */
public final class BatchedMarlinProvider extends MarlinVariantProvider {
    /** The provider id. */
    public static final String ID = "batched-marlin";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public BatchedMarlinProvider() {
        super(ID, ActivationFormat.BATCHED,
                "Marlin-style W4A16 CUDA kernels for per-expert token batches (expert parallelism)");
    }
}
