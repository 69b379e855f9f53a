package io.moeoracle.backend.triton;

/**
 * {@code triton-unfused}: the same Triton MoE kernels compiled ahead of time (sm_90a wgmma, sm_80),
 * SiLU, GELU (tanh) or SwiGLU-OAI in their own kernel between the GEMMs, MXFP4 weights decoded
 * in-kernel, BF16 activations; routing, alignment, both GEMMs and the top-k gather-reduce on the GPU,
 * replayable as one CUDA graph.
 */
public final class TritonUnfusedProvider extends TritonVariantProvider {
    /** The provider id. */
    public static final String ID = "triton-unfused";

    /** Does no work: the driver and the kernel images are loaded on first use. */
    public TritonUnfusedProvider() {
        super(ID, false, "Triton AOT kernels: MXFP4 weights, BF16 activations, SiLU, GELU, SwiGLU-OAI in their own kernel"
                + " (sm_90a, sm_80)");
    }
}
