package io.moeoracle.backend.aiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Verdicts on the simulated AMD devices (as core's sim:gfx942 / sim:gfx950) and elsewhere. */
class AiterRulesTest {
    static final DeviceInfo GFX942 = new DeviceInfo("sim:gfx942", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304,
            192L << 30, Set.of("bf16", "mfma", "fp8", "fp8_fnuz"), true);
    static final DeviceInfo GFX950 = new DeviceInfo("sim:gfx950", Vendor.AMD, "gfx950", "AMD Instinct MI355X", 256,
            288L << 30, Set.of("bf16", "mfma", "fp8", "fp8_ocp", "fp4", "fp6"), true);
    static final DeviceInfo GFX90A = new DeviceInfo("sim:gfx90a", Vendor.AMD, "gfx90a", "AMD Instinct MI250X", 220,
            128L << 30, Set.of("bf16", "mfma"), true);
    static final DeviceInfo SM90 = new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "NVIDIA H100", 132,
            80L << 30, Set.of("bf16", "fp8"), true);
    static final MoeLayerSpec GPT_OSS_120B = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880)
            .intermediateSize(2880).quant(QuantScheme.MXFP4_AUTO).hasBias(true).maxTokensPerCall(4096).build();

    private static MoeLayerSpec act(ActivationType t) {
        return GPT_OSS_120B.toBuilder().quant(GPT_OSS_120B.quant().withActivations(t)).build();
    }

    @Test
    void aiterRunsGptOssOnGfx942AndGfx950() {
        for (DeviceInfo d : new DeviceInfo[] {GFX942, GFX950}) {
            SupportVerdict v = AiterRules.verdict(GPT_OSS_120B, d, false, true);
            assertThat(v.isSupported()).as(d.id() + ": " + v).isTrue();
            assertThat(((SupportVerdict.Supported) v).note()).contains("BF16 MFMA", "SwiGLU-OAI");
            assertThat(AiterRules.verdict(act(ActivationType.BF16), d, false, true).isSupported()).isTrue();
        }
    }

    @Test
    void aiterFp8RunsOnGfx950Only() {
        MoeLayerSpec fp8 = act(ActivationType.FP8_PER_TOKEN);
        SupportVerdict on950 = AiterRules.verdict(fp8, GFX950, true, true);
        assertThat(on950.isSupported()).as(on950.toString()).isTrue();
        assertThat(((SupportVerdict.Supported) on950).note()).contains("per token", "FP8 MFMA");
        SupportVerdict on942 = AiterRules.verdict(fp8, GFX942, true, true);
        assertThat(on942).isInstanceOf(SupportVerdict.Unsupported.class);
        assertThat(((SupportVerdict.Unsupported) on942).reason()).contains("gfx950 only", "FNUZ");
        assertThat(((SupportVerdict.Unsupported) on942).remedy()).contains("aiter");
    }

    @Test
    void eachVariantNamesTheOtherForTheWrongActivationType() {
        SupportVerdict.Unsupported bf16OnFp8 = (SupportVerdict.Unsupported) AiterRules.verdict(
                act(ActivationType.BF16), GFX950, true, true);
        assertThat(bf16OnFp8.remedy()).contains("use aiter");
        SupportVerdict.Unsupported fp8OnBf16 = (SupportVerdict.Unsupported) AiterRules.verdict(
                act(ActivationType.FP8_PER_TOKEN), GFX950, false, true);
        assertThat(fp8OnBf16.reason()).contains("W4A16");
        assertThat(fp8OnBf16.remedy()).contains("aiter-fp8");
        SupportVerdict.Unsupported mx = (SupportVerdict.Unsupported) AiterRules.verdict(
                act(ActivationType.MXFP8), GFX950, true, true);
        assertThat(mx.reason()).contains("one scale per token", "mxfp8");
    }

    @Test
    void theSwitchTurnsBothOff() {
        for (boolean fp8 : new boolean[] {false, true}) {
            SupportVerdict v = AiterRules.verdict(fp8 ? act(ActivationType.FP8_PER_TOKEN) : GPT_OSS_120B, GFX950, fp8,
                    false);
            assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
            assertThat(((SupportVerdict.Unsupported) v).reason()).contains("MOE_ROCM_AITER=0");
        }
        assertThat(AiterSettings.parse("0")).isFalse();
        assertThat(AiterSettings.parse("false")).isFalse();
        assertThat(AiterSettings.parse(" 1 ")).isTrue();
        assertThat(AiterSettings.parse("TRUE")).isTrue();
        assertThatThrownBy(() -> AiterSettings.parse("maybe")).hasMessageContaining("moe.rocm.aiter");
    }

    @Test
    void theSettingIsReadAtEachDecision() {
        String before = System.getProperty("moe.rocm.aiter");
        try {
            System.setProperty("moe.rocm.aiter", "0");
            assertThat(new AiterProvider().isSupported(GPT_OSS_120B, GFX942).isSupported()).isFalse();
            assertThat(new AiterFp8Provider().isSupported(act(ActivationType.FP8_PER_TOKEN), GFX950).isSupported())
                    .isFalse();
            System.setProperty("moe.rocm.aiter", "sometimes");
            SupportVerdict bad = new AiterProvider().isSupported(GPT_OSS_120B, GFX942);
            assertThat(((SupportVerdict.Unsupported) bad).reason()).contains("moe.rocm.aiter", "sometimes");
            System.setProperty("moe.rocm.aiter", "1");
            assertThat(new AiterProvider().isSupported(GPT_OSS_120B, GFX942).isSupported()).isTrue();
        } finally {
            if (before == null) {
                System.clearProperty("moe.rocm.aiter");
            } else {
                System.setProperty("moe.rocm.aiter", before);
            }
        }
    }

    @Test
    void otherDevicesAndLayersAreRejectedWithReasons() {
        assertThat(reason(GPT_OSS_120B, SM90)).contains("AMD Instinct GPUs only");
        assertThat(reason(GPT_OSS_120B, GFX90A)).contains("gfx942", "gfx950", "gfx90a");
        assertThat(reason(GPT_OSS_120B.toBuilder().quant(QuantScheme.BF16).build(), GFX942)).contains("MXFP4");
        assertThat(reason(GPT_OSS_120B.toBuilder().lora(true).build(), GFX942)).contains("LoRA");
        assertThat(reason(GPT_OSS_120B.toBuilder().activationFormat(ActivationFormat.BATCHED).build(), GFX942))
                .contains("standard");
        assertThat(reason(GPT_OSS_120B.toBuilder().experts(2048).build(), GFX942)).contains("1024");
        assertThat(reason(GPT_OSS_120B.toBuilder().maxTokensPerCall(600_000).build(), GFX942))
                .contains("maxTokensPerCall");
    }

    @Test
    void providersDeclareIdsPriorityAndActivationTypes() {
        AiterProvider a = new AiterProvider();
        AiterFp8Provider f = new AiterFp8Provider();
        assertThat(a.id()).isEqualTo("aiter");
        assertThat(f.id()).isEqualTo("aiter-fp8");
        assertThat(a.priority(GPT_OSS_120B, GFX942)).isEqualTo(300);
        assertThat(f.priority(GPT_OSS_120B, GFX950)).isEqualTo(300);
        assertThat(a.activationType(GPT_OSS_120B, GFX942)).isEqualTo(ActivationType.BF16);
        assertThat(f.activationType(GPT_OSS_120B, GFX950)).isEqualTo(ActivationType.FP8_PER_TOKEN);
        assertThat(a.isSupported(GPT_OSS_120B, GFX942).isSupported()).isTrue();
    }

    @Test
    void hostAvailabilityWithoutRocmSaysSo() {
        // this build machine has the code objects (when clang was installed) but no ROCm runtime
        String text = new AiterProvider().hostAvailability().toString();
        assertThat(text).startsWith("no");
        assertThat(text).containsAnyOf("HIP runtime unavailable", "code object not built");
    }

    private static String reason(MoeLayerSpec spec, DeviceInfo d) {
        SupportVerdict v = AiterRules.verdict(spec, d, false, true);
        assertThat(v).as(spec.describe() + " on " + d.id()).isInstanceOf(SupportVerdict.Unsupported.class);
        return ((SupportVerdict.Unsupported) v).reason();
    }
}
