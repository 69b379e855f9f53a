package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.Priority;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;

/**
 * Where the two flashinfer providers rank, in one place with the measurements the rule rests on.
 *
 * <p>{@code flashinfer-bf16} (sm_90 only) competes with {@code marlin} (200) and {@code triton}
 * (150, measured slower than marlin at every T). Like triton's rule, the spec's
 * {@code maxTokensPerCall} picks the token-count bucket: above {@link #bf16AheadAboveTokens()}
 * (the largest measured T at which marlin was still faster) flashinfer-bf16 ranks ahead of marlin
 * ({@link Priority#PREFERRED}), else just behind it (and ahead of triton, measured slower than
 * flashinfer-bf16 at every T). Where nothing was measured faster it never takes the default
 * ({@link Priority}: "not stealing the default").
 *
 * <p>{@code flashinfer-mxfp8} quantizes activations; only it runs {@code --activation mxfp8}, so its
 * priority matters only under {@code auto}, where the selector puts BF16-activation backends of equal
 * priority first. It declares flashinfer-bf16's priority on sm_90 (so {@code auto} takes
 * flashinfer-bf16, or marlin where marlin ranks ahead of both), just behind marlin on sm_89 (not
 * measured against it) and lower still through PTX on newer GPUs (not validated there).
 */
final class FiRanking {
    /** marlin's priority (backend-marlin's MarlinRules.PRIORITY): the reference point. */
    static final int MARLIN_PRIORITY = Priority.VENDOR_TUNED;
    /** Measured faster than marlin in this bucket: the preferred band. */
    static final int AHEAD_OF_MARLIN = Priority.PREFERRED;
    /** Not measured faster: just behind marlin, ahead of triton (150). */
    static final int BEHIND_MARLIN = Priority.VENDOR_TUNED - 10;
    /** flashinfer-mxfp8 through PTX on a generation it was not validated on. */
    static final int PTX_UNVALIDATED = Priority.VENDOR_TUNED - 50;

    /**
     * One side-by-side measurement: the gpt-oss-120b layer (E=128, top-4, H=I=2880), graph replays,
     * the three backends in the same device call.
     *
     * @param tokens T
     * @param flashinferUs flashinfer-bf16, microseconds
     * @param marlinUs marlin, microseconds
     * @param tritonUs triton, microseconds (NaN when not measured)
     */
    record Measurement(int tokens, double flashinferUs, double marlinUs, double tritonUs) {
    }

    /** Where the measurements below come from. */
    static final String SOURCE = "H100 80GB HBM3, gpt-oss-120b layer, graph replays, moe-oracle bench of flashinfer-bf16,"
            + " marlin and triton side by side in one device call (BENCHMARKS.md; bench/results/*-cuda0-H100-120b-"
            + "20261126-side-by-side.json)";

    /**
     * The measurements (H100 80GB HBM3, T = 1 .. 4096, ascending, medians of 30): marlin faster from T=1
     * to 1024 (1.06-1.28x), flashinfer-bf16 faster at T=4096 (1.21x); triton slower than both everywhere.
     */
    static final List<Measurement> H100 = List.of(
            new Measurement(1, 54.7, 46.7, 135.9),
            new Measurement(8, 181.7, 172.1, 626.5),
            new Measurement(32, 447.7, 423.8, 1682.4),
            new Measurement(256, 939.4, 734.8, 2668.3),
            new Measurement(1024, 1715.6, 1476.6, 3289.4),
            new Measurement(4096, 3183.7, 3847.9, 6720.3));

    private FiRanking() {
    }

    /**
     * @return the largest measured T at which marlin was faster than flashinfer-bf16 (flashinfer-bf16
     *     ranks ahead for specs whose maxTokensPerCall exceeds it); {@link Integer#MAX_VALUE} when
     *     nothing was measured or marlin was faster at the largest measured T
     */
    static int bf16AheadAboveTokens() {
        return aheadAbove(H100);
    }

    static int aheadAbove(List<Measurement> measured) {
        if (measured.isEmpty() || measured.getLast().flashinferUs() >= measured.getLast().marlinUs()) {
            return Integer.MAX_VALUE;
        }
        int above = 0;
        for (Measurement m : measured) {
            if (m.flashinferUs() >= m.marlinUs()) {
                above = m.tokens();
            }
        }
        return above;
    }

    static boolean bf16AheadOfMarlin(MoeLayerSpec spec, DeviceInfo device) {
        return sm(device) == FiRules.SM_WGMMA && spec.maxTokensPerCall() > bf16AheadAboveTokens();
    }

    /** @return flashinfer-bf16's priority (only sm_90 runs it; elsewhere its verdict refuses) */
    static int bf16Priority(MoeLayerSpec spec, DeviceInfo device) {
        return bf16AheadOfMarlin(spec, device) ? AHEAD_OF_MARLIN : BEHIND_MARLIN;
    }

    /** @return flashinfer-mxfp8's priority: flashinfer-bf16's on sm_90, so that {@code auto} prefers BF16 there */
    static int mxfp8Priority(MoeLayerSpec spec, DeviceInfo device) {
        int sm = sm(device);
        if (sm > FiRules.SM_WGMMA) {
            return PTX_UNVALIDATED;
        }
        return sm == FiRules.SM_WGMMA ? bf16Priority(spec, device) : BEHIND_MARLIN;
    }

    /** @return the priority and why, for the verdict's note */
    static String note(MoeLayerSpec spec, DeviceInfo device, boolean fp8) {
        if (fp8) {
            int p = mxfp8Priority(spec, device);
            if (p == PTX_UNVALIDATED) {
                return "priority " + p + ", below marlin: through PTX, not validated here";
            }
            return "priority " + p + (sm(device) == FiRules.SM_WGMMA ? ", flashinfer-bf16's, so that --activation auto"
                    + " prefers BF16 activations (the selector's tie rule)" : ", behind marlin (" + MARLIN_PRIORITY
                    + "): not measured against it here");
        }
        int p = bf16Priority(spec, device);
        if (bf16AheadOfMarlin(spec, device)) {
            return "priority " + p + ", ahead of marlin: maxTokensPerCall " + spec.maxTokensPerCall() + " > "
                    + bf16AheadAboveTokens() + " (" + SOURCE + ")";
        }
        if (H100.isEmpty() || bf16AheadAboveTokens() == Integer.MAX_VALUE) {
            return "priority " + p + ", behind marlin (" + MARLIN_PRIORITY + "), ahead of triton: marlin measured faster"
                    + " at every T" + (H100.isEmpty() ? "" : " up to " + H100.getLast().tokens()) + " (" + SOURCE + ")";
        }
        return "priority " + p + ", behind marlin (" + MARLIN_PRIORITY + "): marlin measured faster up to T="
                + bf16AheadAboveTokens() + ", and maxTokensPerCall is " + spec.maxTokensPerCall() + " (" + SOURCE + ")";
    }

    private static int sm(DeviceInfo device) {
        return device.vendor() == Vendor.NVIDIA ? device.smVersion().orElse(0) : 0;
    }
}
