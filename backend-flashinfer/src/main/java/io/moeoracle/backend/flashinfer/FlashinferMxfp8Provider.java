package io.moeoracle.backend.flashinfer;

/**
 * {@code flashinfer-mxfp8}: MXFP4 weights x MXFP8 activations on FP8 tensor cores. Activations are
 * quantized on the GPU (E4M3, one E8M0 scale per 32 along K, the OCP rule of api's {@code Mxfp8}),
 * weights widened E2M1 to E4M3 (exact), each 32-wide K block's partial sum scaled by both E8M0
 * scales in FP32: {@code wgmma} e4m3 on sm_90a, {@code mma.sync} m16n8k32 e4m3 on sm_89 (and on newer
 * GPUs through the image's PTX, not validated there). Setting {@code moe.flashinfer.fp8Mma} forces
 * the mma.sync kernels on Hopper.
 */
public final class FlashinferMxfp8Provider extends FlashinferVariantProvider {
    /** The provider id. */
    public static final String ID = "flashinfer-mxfp8";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public FlashinferMxfp8Provider() {
        super(ID, true, "FlashInfer-family CUDA kernels: MXFP4 weights, MXFP8 activations on FP8 tensor cores (sm_89+)",
                "CUDA FP8 kernels (wgmma / mma.sync e4m3), NVIDIA sm_89+");
    }
}
