package io.moeoracle.backend.marlin;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Both marlin providers' verdicts on devices they cannot use read as English and name the vendor. */
class MarlinVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).build();

    private static String reason(MoeKernelProvider p, MoeLayerSpec spec, String simId) {
        return ((SupportVerdict.Unsupported) p.isSupported(spec, sim(simId))).reason();
    }

    /** A device of api's built-in simulated catalogue (the one core's device table lists). */
    private static DeviceInfo sim(String id) {
        return SimulatedDeviceCatalogue.builtIn().devices().stream().filter(d -> d.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(id + " is not in the built-in simulated catalogue"));
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
    void anOlderNvidiaGpuIsNamedByItsComputeCapability() {
        DeviceInfo t4 = new DeviceInfo("sim:sm_75", Vendor.NVIDIA, "sm_75", "NVIDIA T4", 40, 16L << 30, Set.of(), true);
        assertThat(((SupportVerdict.Unsupported) new MarlinProvider().isSupported(SPEC, t4)).reason()).isEqualTo(
                "marlin needs BF16 tensor cores (mma.sync bf16, sm_80 or newer); sim:sm_75 (sm_75, NVIDIA T4, simulated)"
                        + " has compute capability sm_75");
    }

    @Test
    void marlinOnAnIntelGpu() {
        assertThat(reason(new MarlinProvider(), SPEC, "sim:xe-hpc")).endsWith(", simulated) is an Intel GPU");
    }
}
