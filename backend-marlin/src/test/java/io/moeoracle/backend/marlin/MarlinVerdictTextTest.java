package io.moeoracle.backend.marlin;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.SimulatedDevices;
import org.junit.jupiter.api.Test;

/** Both marlin providers' verdicts on devices they cannot use read as English and name the vendor. */
class MarlinVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).build();

    private static String reason(MoeKernelProvider p, MoeLayerSpec spec, String simId) {
        return ((SupportVerdict.Unsupported) p.isSupported(spec, SimulatedDevices.get(simId))).reason();
    }

    @Test
    void marlinOnAnAmdGpu() {
        assertThat(reason(new MarlinProvider(), SPEC, "sim:gfx942")).isEqualTo(
                "marlin runs on NVIDIA GPUs only; sim:gfx942 (gfx942, AMD Instinct MI300X, simulated) is an AMD GPU");
    }

    @Test
    void batchedMarlinOnTheCpuNamesTheHostCpu() {
        MoeLayerSpec batched = SPEC.toBuilder().activationFormat(ActivationFormat.BATCHED).build();
        String r = reason(new BatchedMarlinProvider(), batched, "sim:cpu-avx512");
        assertThat(r).isEqualTo("batched-marlin runs on NVIDIA GPUs only; sim:cpu-avx512 (x86-64-avx512, simulated "
                + "x86-64 CPU with AVX-512 BF16 (Sapphire Rapids class), simulated) is the host CPU");
    }

    @Test
    void marlinOnAnIntelGpu() {
        assertThat(reason(new MarlinProvider(), SPEC, "sim:xe-hpc")).endsWith(", simulated) is an Intel GPU");
    }
}
