package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** xpu's verdicts on other vendors' devices read as English: vendor with its article, no raw enum names. */
class XpuVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).build();

    /** The simulated devices of core's table, as the verdicts see them (backends' tests do not depend on core). */
    private static DeviceInfo sim(String id) {
        return switch (id) {
            case "sim:gfx942" -> new DeviceInfo("sim:gfx942", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304, 192L << 30, Set.of("bf16", "mfma"), true);
            case "sim:sm_90" -> new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132, 80L << 30, Set.of("bf16"), true);
            case "sim:xe-hpc" -> new DeviceInfo("sim:xe-hpc", Vendor.INTEL, "xe-hpc", "Intel Data Center GPU Max 1550", 128, 128L << 30, Set.of("bf16"), true);
            case "sim:cpu-avx512" -> new DeviceInfo("sim:cpu-avx512", Vendor.CPU, "x86-64-avx512", "simulated x86-64 CPU with AVX-512 BF16 (Sapphire Rapids class)", 32, 256L << 30, Set.of("avx512f", "avx512bw", "avx512vl", "avx512_bf16", "fma", "avx2"), true);
            case "sim:cpu-avx2" -> new DeviceInfo("sim:cpu-avx2", Vendor.CPU, "x86-64-avx2", "simulated x86-64 CPU with AVX2 and FMA", 16, 64L << 30, Set.of("avx2", "fma"), true);
            default -> throw new IllegalArgumentException(id);
        };
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
