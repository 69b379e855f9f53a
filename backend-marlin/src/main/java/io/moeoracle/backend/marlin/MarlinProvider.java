package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.ActivationFormat;

/**
 * {@code marlin}: Marlin-style W4A16 MoE on NVIDIA GPUs (sm_80+) for the standard token layout.
 * MXFP4 weights are repacked once into a tile layout, decoded to BF16 in registers and multiplied
 * on BF16 tensor cores; routing, alignment, both GEMMs and the top-k reduction run on the GPU and
 * can be replayed as one CUDA graph.
 */
public final class MarlinProvider extends MarlinVariantProvider {
    /** The provider id. */
    public static final String ID = "marlin";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public MarlinProvider() {
        super(ID, ActivationFormat.STANDARD,
                "Marlin-style W4A16 CUDA kernels: MXFP4 weights, BF16 activations and tensor cores (sm_80+)");
    }
}
