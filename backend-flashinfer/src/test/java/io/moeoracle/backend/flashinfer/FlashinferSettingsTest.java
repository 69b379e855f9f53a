package io.moeoracle.backend.flashinfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FlashinferSettingsTest {
    @Test
    void fp8MmaValues() {
        assertThat(FlashinferSettings.all()).containsExactly(FlashinferSettings.FP8_MMA);
        assertThat(FlashinferSettings.parseFp8Mma(" Auto ")).isEqualTo(FlashinferSettings.Fp8Mma.AUTO);
        assertThat(FlashinferSettings.parseFp8Mma("mma-sync")).isEqualTo(FlashinferSettings.Fp8Mma.MMA_SYNC);
        assertThat(FlashinferSettings.parseFp8Mma("mma_sync")).isEqualTo(FlashinferSettings.Fp8Mma.MMA_SYNC);
        assertThat(FlashinferSettings.parseFp8Mma("WGMMA")).isEqualTo(FlashinferSettings.Fp8Mma.WGMMA);
        assertThatThrownBy(() -> FlashinferSettings.parseFp8Mma("hgmma")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dmoe.flashinfer.fp8Mma").hasMessageContaining("'hgmma'")
                .hasMessageContaining("auto, mma-sync or wgmma");
    }

    @Test
    void familyPerDeviceAndChoice() {
        assertThat(FiRules.families(false, 90, FlashinferSettings.Fp8Mma.MMA_SYNC)).containsExactly(FiFamily.BF16);
        assertThat(FiRules.families(true, 90, FlashinferSettings.Fp8Mma.AUTO))
                .containsExactly(FiFamily.FP8_WGMMA, FiFamily.FP8_MMA_SYNC);
        assertThat(FiRules.families(true, 90, FlashinferSettings.Fp8Mma.WGMMA)).containsExactly(FiFamily.FP8_WGMMA);
        assertThat(FiRules.families(true, 90, FlashinferSettings.Fp8Mma.MMA_SYNC))
                .containsExactly(FiFamily.FP8_MMA_SYNC);
        assertThat(FiRules.families(true, 89, FlashinferSettings.Fp8Mma.AUTO)).containsExactly(FiFamily.FP8_MMA_SYNC);
        assertThat(FiRules.families(true, 100, FlashinferSettings.Fp8Mma.AUTO)).containsExactly(FiFamily.FP8_MMA_SYNC);
        assertThat(FiFamily.FP8_WGMMA.quantizer()).isEqualTo("fi_quant_mxfp8f");
        assertThat(FiFamily.FP8_MMA_SYNC.quantizer()).isEqualTo(FiFamily.EXACT_QUANTIZER);
        assertThat(FiFamily.BF16.fp8()).isFalse();
        assertThat(FiFamily.FP8_WGMMA.repack()).isEqualTo(FiFamily.FP8_MMA_SYNC.repack());
        assertThat(FiFamily.FP8_WGMMA.kernel(2, 64)).isEqualTo("fi_fp8w_gemm2_m64");
        assertThat(FiFamily.BF16.kernel(1, 128)).isEqualTo("fi_bf16_gemm1_m128");
        assertThat(FiFamily.FP8_MMA_SYNC.kernel(1, 16)).isEqualTo("fi_fp8_gemm1_m16");
    }
}
