package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.Setting;
import java.util.List;
import java.util.Locale;

/** The settings of the flashinfer backend, read only through this class. */
public final class FlashinferSettings {
    /** Which FP8 MMA {@code flashinfer-mxfp8} issues; {@code mma-sync} runs the sm_89 kernels on Hopper too. */
    public static final Setting FP8_MMA = Setting.property("moe.flashinfer.fp8Mma", "auto",
            "FP8 MMA of flashinfer-mxfp8: auto (wgmma e4m3 on sm_90, mma.sync e4m3 elsewhere), mma-sync (the sm_89"
                    + " kernels, also on Hopper) or wgmma (sm_90 only)");

    private FlashinferSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(FP8_MMA);
    }

    /** The values of {@link #FP8_MMA}. */
    enum Fp8Mma {
        /** wgmma on sm_90, mma.sync elsewhere. */
        AUTO,
        /** mma.sync m16n8k32 e4m3 on every generation. */
        MMA_SYNC,
        /** wgmma e4m3 (sm_90 only). */
        WGMMA
    }

    /**
     * @return the FP8 MMA choice, read now
     * @throws IllegalArgumentException naming the setting when its value is unknown
     */
    static Fp8Mma fp8Mma() {
        return parseFp8Mma(FP8_MMA.valueOrDefault());
    }

    static Fp8Mma parseFp8Mma(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "auto" -> Fp8Mma.AUTO;
            case "mma-sync", "mmasync" -> Fp8Mma.MMA_SYNC;
            case "wgmma" -> Fp8Mma.WGMMA;
            default -> throw FP8_MMA.invalid(text, "auto, mma-sync or wgmma");
        };
    }
}
