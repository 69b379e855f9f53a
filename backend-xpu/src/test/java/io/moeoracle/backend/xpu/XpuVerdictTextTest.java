package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.core.device.SimulatedDevices;
import org.junit.jupiter.api.Test;

/** xpu's verdicts on other vendors' devices read as English: vendor with its article, no raw enum names. */
class XpuVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).build();

    @Test
    void anAmdGpuIsNamedAsOne() {
        SupportVerdict v = XpuSupport.judge(SPEC, SimulatedDevices.get("sim:gfx942"), false);
        assertThat(((SupportVerdict.Unsupported) v).reason()).isEqualTo(
                "xpu targets Intel Xe GPUs; sim:gfx942 (gfx942, AMD Instinct MI300X, simulated) is an AMD GPU");
    }

    @Test
    void theHostCpuIsNamedAsSuch() {
        SupportVerdict v = XpuSupport.judge(SPEC, SimulatedDevices.get("sim:cpu-avx2"), false);
        assertThat(((SupportVerdict.Unsupported) v).reason()).isEqualTo("xpu targets Intel Xe GPUs; sim:cpu-avx2 "
                + "(x86-64-avx2, simulated x86-64 CPU with AVX2 and FMA, simulated) is the host CPU");
    }

    @Test
    void runningAnywhereSaysOnWhatInEnglish() {
        SupportVerdict v = XpuSupport.judge(SPEC, SimulatedDevices.get("sim:sm_90"), true);
        assertThat(((SupportVerdict.Supported) v).note()).endsWith("; " + XpuOptions.ANY_DEVICE
                + "=true lets it run on an NVIDIA GPU");
    }
}
