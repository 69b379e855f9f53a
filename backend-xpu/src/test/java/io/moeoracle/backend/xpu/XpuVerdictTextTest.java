package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import org.junit.jupiter.api.Test;

/** xpu's verdicts on other vendors' devices read as English: vendor with its article, no raw enum names. */
class XpuVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).build();

    /** A device of api's built-in simulated catalogue (the one core's device table lists). */
    private static DeviceInfo sim(String id) {
        return SimulatedDeviceCatalogue.builtIn().devices().stream().filter(d -> d.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(id + " is not in the built-in simulated catalogue"));
    }

    @Test
    void anAmdGpuIsNamedAsOne() {
        SupportVerdict v = XpuSupport.judge(SPEC, sim("sim:gfx942"), false);
        assertThat(((SupportVerdict.Unsupported) v).reason()).isEqualTo(
                "xpu targets Intel Xe GPUs; sim:gfx942 (gfx942, AMD Instinct MI300X, simulated) is an AMD GPU");
    }

    @Test
    void theHostCpuIsNamedAsSuch() {
        SupportVerdict v = XpuSupport.judge(SPEC, sim("sim:cpu-avx2"), false);
        assertThat(((SupportVerdict.Unsupported) v).reason()).isEqualTo("xpu targets Intel Xe GPUs; sim:cpu-avx2 "
                + "(x86-64-avx2, simulated x86-64 CPU with AVX2 and FMA, simulated) is the host CPU");
    }

    @Test
    void runningAnywhereSaysOnWhatInEnglish() {
        SupportVerdict v = XpuSupport.judge(SPEC, sim("sim:sm_90"), true);
        assertThat(((SupportVerdict.Supported) v).note()).endsWith("; " + XpuSettings.ANY_DEVICE.name()
                + "=true lets it run on an NVIDIA GPU");
    }
}
