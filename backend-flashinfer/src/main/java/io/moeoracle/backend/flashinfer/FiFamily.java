package io.moeoracle.backend.flashinfer;

import io.moeoracle.driver.cuda.LaunchConfig;

/**
 * The GEMM kernel families of the image (ABI.md): their name prefix, the activation quantizer and
 * the weight repack they need, how far GEMM2 may split K, and the weight scale codes they take.
 */
enum FiFamily {
    /**
     * {@code fi_bf16_gemm{1,2}_m<M>}: BF16 activations, wgmma BF16 (sm_90a). Weights go through
     * {@code fi_bf16_repack} into its fragment layout, whose per-row exponent shift takes every E8M0 code.
     */
    BF16("fi_bf16_gemm", null, "wgmma BF16 (sm_90a)", "fi_bf16_repack", 512),
    /**
     * {@code fi_fp8_gemm{1,2}_m<M>}: MXFP8 activations (exact, {@code fi_quant_mxfp8}), mma.sync m16n8k32
     * e4m3 (sm_89+, PTX beyond), weights through {@code fi_fp8_repack}; K split over warps, so GEMM2
     * keeps at least 8 groups of 128 per split.
     */
    FP8_MMA_SYNC("fi_fp8_gemm", "fi_quant_mxfp8", "mma.sync m16n8k32 e4m3", "fi_fp8_repack", 1024),
    /**
     * {@code fi_fp8w_gemm{1,2}_m<M>}: MXFP8 activations folded to one exponent per 128 K
     * ({@code fi_quant_mxfp8f}), wgmma e4m3 (sm_90a), persistent, no K split; the same weight layout as
     * the mma.sync family.
     */
    FP8_WGMMA("fi_fp8w_gemm", "fi_quant_mxfp8f", "wgmma e4m3 (sm_90a)", "fi_fp8_repack", 0);

    /** The exact MXFP8 quantizer (bytes equal to api's Mxfp8); every FP8 image has it. */
    static final String EXACT_QUANTIZER = "fi_quant_mxfp8";

    private final String prefix;
    private final String quantizer;
    private final String mma;
    private final String repack;
    private final int minKPerSplit;

    FiFamily(String prefix, String quantizer, String mma, String repack, int minKPerSplit) {
        this.prefix = prefix;
        this.quantizer = quantizer;
        this.mma = mma;
        this.repack = repack;
        this.minKPerSplit = minKPerSplit;
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
        return quantizer != null;
    }

    /** @return the activation quantizer the family's GEMMs read from (FP8 families) */
    String quantizer() {
        return quantizer;
    }

    /** @return the MMA it issues, for notes and logs */
    String mma() {
        return mma;
    }

    /** @return the family's repack kernel, run on the padded layout of {@code fi_repack_mxfp4} */
    String repack() {
        return repack;
    }

    /**
     * @param m an M tile of this family
     * @return the most rows per local expert M is chosen for: BF16 by its measured rule (ABI.md, v3 kernels on
     *     an H100 at gpt-oss-120b: r <= 12: 8, r <= 64: 64, else 128; M=32 was never the fastest, so it is
     *     chosen only when forced); the others M itself (the tile holds the average expert)
     */
    int rowsPerExpertBound(int m) {
        if (this == BF16) {
            return switch (m) {
                case 8, 32 -> 12;
                default -> m;
            };
        }
        return m;
    }

    /** @return whether GEMM1 writes the intermediate as F32 (the FP8 kernels: quantized once, from FP32) */
    boolean f32Intermediate() {
        return fp8();
    }

    /** @return K columns GEMM2 keeps per split at least; 0: the family never splits K */
    int minKPerSplit() {
        return minKPerSplit;
    }

    /**
     * @return the largest E8M0 weight scale code the family's kernels take: every code (254). The BF16
     *     kernels shift exponents per row (X_row); the FP8 kernels apply scales to FP32 partial sums.
     *     (ABI.md's 250 guards a BF16 dequantization without that shift.)
     */
    int maxScaleCode() {
        return 254;
    }

    /** @return bytes of the repacked weights of {@code experts} N_pad x K_pad matrices */
    long repackedWeightBytes(int experts, int nPad, int kPad) {
        return this == BF16 ? FiLayout.weightBytes(experts, nPad, kPad)
                : (long) experts * groups(kPad) * nPad * 64;
    }

    /**
     * @return bytes of the repacked scales: BF16 128 bytes per 64x64 block plus 64 row exponents per
     *     64-row tile; FP8 one u32 per row and group plus one per 128-row tile and group
     */
    long repackedScaleBytes(int experts, int nPad, int kPad) {
        return this == BF16 ? (long) experts * (nPad / 64) * ((long) (kPad / 64) * 128 + 64)
                : (long) experts * groups(kPad) * (nPad + (nPad + 127) / 128) * 4L;
    }

    /** @return the repack's launch: BF16 one thread per output word then per row; FP8 (N tiles of 128, groups, experts) x 128 */
    LaunchConfig repackLaunch(int experts, int nPad, int kPad) {
        return this == BF16 ? LaunchConfig.covering((long) experts * nPad * (kPad / 8) + (long) experts * nPad, 256)
                : LaunchConfig.of((nPad + 127) / 128, groups(kPad), experts, 128, 1, 1);
    }

    private static int groups(int kPad) {
        return (kPad + 127) / 128;
    }
}
