package io.moeoracle.backend.aiter;

/**
 * {@code aiter-fp8}: MXFP4 weights with FP8 E4M3 per-token activations on AMD Instinct gfx950 (HIP,
 * FP8 MFMA). Routing, alignment, both grouped GEMMs and the top-k reduction run on the GPU
 * (aiter_moe.hip). Never run on AMD hardware by this project: the same source, compiled as CUDA,
 * is what the gpu test checks against the float64 reference (see the module README).
 */
public final class AiterFp8Provider extends AiterVariantProvider {
    /** The provider id. */
    public static final String ID = "aiter-fp8";

    /** Does no work: the runtime and the code object are loaded on first use. */
    public AiterFp8Provider() {
        super(ID, true, "MXFP4 weights with FP8 E4M3 per-token activations on AMD Instinct gfx950 (HIP, FP8 MFMA)");
    }
}
