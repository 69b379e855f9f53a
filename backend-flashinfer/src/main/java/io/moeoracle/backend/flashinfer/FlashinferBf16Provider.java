package io.moeoracle.backend.flashinfer;

/**
 * {@code flashinfer-bf16}: MXFP4 weights x BF16 activations on Hopper (sm_90a) with {@code wgmma}:
 * each weight tile dequantized once into shared memory in the layout wgmma reads, activations by
 * bulk copies, bias + activation fused in GEMM1, routing weight + top-k sum in GEMM2; routing,
 * alignment, both GEMMs and the reduction on the GPU, replayable as one CUDA graph.
 */
public final class FlashinferBf16Provider extends FlashinferVariantProvider {
    /** The provider id. */
    public static final String ID = "flashinfer-bf16";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public FlashinferBf16Provider() {
        super(ID, false, "FlashInfer-family CUDA kernels: MXFP4 weights, BF16 activations on Hopper wgmma (sm_90a)",
                "CUDA wgmma BF16 kernels, NVIDIA sm_90a");
    }
}
