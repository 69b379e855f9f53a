package io.moeoracle.backend.aiter;

/**
 * {@code aiter}: MXFP4 weights with BF16 activations on AMD Instinct gfx942/gfx950 (HIP, BF16 MFMA,
 * wave64). Routing, alignment, both grouped GEMMs and the top-k reduction run on the GPU
 * (aiter_moe.hip). Never run on AMD hardware by this project: the same source, compiled as CUDA,
 * is what the gpu test checks against the float64 reference (see the module README).
 */
public final class AiterProvider extends AiterVariantProvider {
    /** The provider id. */
    public static final String ID = "aiter";

    /** Does no work: the runtime and the code object are loaded on first use. */
    public AiterProvider() {
        super(ID, false, "MXFP4 weights with BF16 activations on AMD Instinct gfx942/gfx950 (HIP, BF16 MFMA, wave64)");
    }
}
