package io.moeoracle.backend.flashinfer;

/**
 * The GEMM kernel families of the image (ABI.md): their name prefix, whether they read MXFP8
 * activations, and what they run on.
 */
enum FiFamily {
    /**
     * {@code fi_bf16_gemm{1,2}_m<M>}: BF16 activations, wgmma BF16 (sm_90a). Weights go through
     * {@code fi_bf16_repack} into its fragment layout, whose per-row exponent shift takes every E8M0 code.
     */
    BF16("fi_bf16_gemm", false, "wgmma BF16 (sm_90a)", "fi_bf16_repack", 254),
    /** {@code fi_fp8_gemm{1,2}_m<M>}: MXFP8 activations, mma.sync m16n8k32 e4m3 (sm_89+, PTX beyond). */
    FP8_MMA_SYNC("fi_fp8_gemm", true, "mma.sync m16n8k32 e4m3 (sm_89 path)", null, 250),
    /** {@code fi_fp8w_gemm{1,2}_m<M>}: MXFP8 activations, wgmma e4m3 (sm_90a). */
    FP8_WGMMA("fi_fp8w_gemm", true, "wgmma e4m3 (sm_90a)", null, 250);

    private final String prefix;
    private final boolean fp8;
    private final String mma;
    private final String repack;
    private final int maxScaleCode;

    FiFamily(String prefix, boolean fp8, String mma, String repack, int maxScaleCode) {
        this.prefix = prefix;
        this.fp8 = fp8;
        this.mma = mma;
        this.repack = repack;
        this.maxScaleCode = maxScaleCode;
    }

    /** @return the family's own repack kernel (run after {@code fi_repack_mxfp4}), if it has one */
    java.util.Optional<String> repack() {
        return java.util.Optional.ofNullable(repack);
    }

    /**
     * @return bytes of the family's scales for {@code experts} N_pad x K_pad matrices: the padded layout's,
     *     or (BF16) 128 bytes per 64x64 block plus 64 row exponents per 64-row tile
     */
    long scaleBytes(int experts, int nPad, int kPad) {
        return this == BF16 ? (long) experts * (nPad / 64) * ((long) (kPad / 64) * 128 + 64)
                : FiLayout.scaleBytes(experts, nPad, kPad);
    }

    /** @return threads of the family's repack launch ({@code fi_bf16_repack}: one per output word, then one per row) */
    long repackThreads(int experts, int nPad, int kPad) {
        return (long) experts * nPad * (kPad / 8) + (long) experts * nPad;
    }

    /**
     * @return the largest E8M0 weight scale code this family's kernels take: 250 by ABI.md (a dequantized
     *     weight times its scale stays finite in BF16), every code where a family shifts exponents per row
     */
    int maxScaleCode() {
        return maxScaleCode;
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
