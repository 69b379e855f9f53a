package io.moeoracle.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The verdicts read as English and name the kernels that actually run. */
class CpuVerdictTextTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).build();
    private final CpuMoeProvider cpu = new CpuMoeProvider();

    private String reason(String simId) {
        return ((SupportVerdict.Unsupported) cpu.isSupported(SPEC, sim(simId))).reason();
    }

    /** A device of api's built-in simulated catalogue (the one core's device table lists). */
    private static DeviceInfo sim(String id) {
        return SimulatedDeviceCatalogue.builtIn().devices().stream().filter(d -> d.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(id + " is not in the built-in simulated catalogue"));
    }

    @Test
    void gpusAreNamedWithTheirVendorAndArticle() {
        assertThat(reason("sim:gfx942")).isEqualTo(
                "cpu runs on the host CPU; sim:gfx942 (gfx942, AMD Instinct MI300X, simulated) is an AMD GPU");
        assertThat(reason("sim:sm_90")).startsWith("cpu runs on the host CPU; sim:sm_90 (sm_90, ")
                .endsWith(", simulated) is an NVIDIA GPU");
        assertThat(reason("sim:xe-hpc")).endsWith(", simulated) is an Intel GPU");
    }

    @Test
    void anAvx512CpuWithoutBf16IsReportedAsSuchAndRunsTheAvx2Kernels() {
        // a Skylake-SP class CPU: AVX-512 F/BW/VL, no avx512_bf16
        String cpuinfo = "model name\t: Intel(R) Xeon(R) Gold 6148\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512dq "
                + "avx512cd avx512bw avx512vl avx512_vnni\n";
        DeviceInfo probed = HostCpuFeatures.describe("amd64", Optional.of(cpuinfo), OptionalLong.of(1L << 36), 40, 1);
        assertThat(probed.arch()).isEqualTo(HostCpuFeatures.ARCH_AVX512);
        assertThat(HostCpuFeatures.hasAvx512Bf16(probed)).isFalse();
        assertThat(CpuIsa.forDevice(probed)).isEqualTo(CpuIsa.AVX2);
        DeviceInfo sim = new DeviceInfo("sim:skx", Vendor.CPU, probed.arch(), probed.name(), 40, 1L << 36,
                probed.features(), true);
        SupportVerdict v = cpu.isSupported(SPEC, sim);
        assertThat(v).isEqualTo(SupportVerdict.supported("MXFP4 decoded in registers, BF16 activations, AVX2+FMA "
                + "kernels (fp32): this AVX-512 CPU has no AVX512_BF16, which the AVX-512 kernels need"));
    }

    @Test
    void theSimulatedSapphireRapidsRunsTheAvx512Kernels() {
        assertThat(cpu.isSupported(SPEC, sim("sim:cpu-avx512"))).isEqualTo(SupportVerdict.supported(
                "MXFP4 decoded in registers, BF16 activations, AVX-512 BF16 kernels (vdpbf16ps)"));
        assertThat(cpu.isSupported(SPEC, sim("sim:cpu-avx2"))).isEqualTo(SupportVerdict.supported(
                "MXFP4 decoded in registers, BF16 activations, AVX2+FMA kernels (fp32)"));
    }

    @Test
    void anArchOnlyDeviceIsJudgedByTheSameRule() {
        DeviceInfo avx512 = new DeviceInfo("sim:a", Vendor.CPU, "x86-64-avx512", "a", 4, 1L << 30, java.util.Set.of(), true);
        DeviceInfo avx512bf16 = new DeviceInfo("sim:b", Vendor.CPU, "x86-64-avx512-bf16", "b", 4, 1L << 30,
                java.util.Set.of(), true);
        assertThat(CpuIsa.forDevice(avx512)).isEqualTo(CpuIsa.AVX2);
        assertThat(CpuIsa.forDevice(avx512bf16)).isEqualTo(CpuIsa.AVX512_BF16);
    }
}
