package io.moeoracle.backend.flashinfer;

/**
 * The GEMM kernel families of the image (ABI.md): their name prefix, whether they read MXFP8
 * activations, and what they run on.
 */
enum FiFamily {
    /** {@code fi_bf16_gemm{1,2}_m<M>}: BF16 activations, wgmma BF16 (sm_90a). */
    BF16("fi_bf16_gemm", false, "wgmma BF16 (sm_90a)"),
    /** {@code fi_fp8_gemm{1,2}_m<M>}: MXFP8 activations, mma.sync m16n8k32 e4m3 (sm_89+, PTX beyond). */
    FP8_MMA_SYNC("fi_fp8_gemm", true, "mma.sync m16n8k32 e4m3 (sm_89 path)"),
    /** {@code fi_fp8w_gemm{1,2}_m<M>}: MXFP8 activations, wgmma e4m3 (sm_90a). */
    FP8_WGMMA("fi_fp8w_gemm", true, "wgmma e4m3 (sm_90a)");

    private final String prefix;
    private final boolean fp8;
    private final String mma;

    FiFamily(String prefix, boolean fp8, String mma) {
        this.prefix = prefix;
        this.fp8 = fp8;
        this.mma = mma;
    }

    /**
     * @param gemm 1 or 2
     * @param m the M tile
     * @return the kernel's symbol, e.g. {@code fi_fp8w_gemm2_m64}
     */
    String kernel(int gemm, int m) {
        return prefix + gemm + "_m" + m;
    }

    /** @return whether the family reads MXFP8 (E4M3 + E8M0) activations */
    boolean fp8() {
        return fp8;
    }

    /** @return the MMA it issues, for notes and logs */
    String mma() {
        return mma;
    }
}
