package io.moeoracle.backend.triton;

/**
 * {@code triton}: Triton MoE kernels compiled ahead of time (sm_90a wgmma, sm_80), SwiGLU-OAI fused
 * into GEMM1's epilogue, MXFP4 weights decoded in-kernel, BF16 activations; routing, alignment, both
 * GEMMs and the top-k gather-reduce on the GPU, replayable as one CUDA graph.
 */
public final class TritonProvider extends TritonVariantProvider {
    /** The provider id. */
    public static final String ID = "triton";

    /** Does no work: the driver and the kernel images are loaded on first use. */
    public TritonProvider() {
        super(ID, true,
                "Triton AOT kernels: MXFP4 weights, BF16 activations, SwiGLU-OAI fused into GEMM1 (sm_90a, sm_80)");
    }
}
