package io.moeoracle.backend.cpu;

import static io.moeoracle.backend.cpu.CpuTestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Verdicts, priority, host availability and discovery of the cpu provider. */
class CpuMoeProviderTest {
    private final CpuMoeProvider provider = new CpuMoeProvider();
    private final MoeLayerSpec gptOss = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).build();
    private final DeviceInfo h100 = new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30,
            Set.of(), true);
    private final DeviceInfo simAvx2 = new DeviceInfo("sim:cpu-avx2", Vendor.CPU, "x86-64-avx2", "simulated AVX2 CPU",
            8, 16L << 30, Set.of("avx2", "fma"), true);
    private final DeviceInfo simAvx512 = new DeviceInfo("sim:cpu-avx512", Vendor.CPU, "x86-64-avx512",
            "simulated AVX-512 CPU", 8, 16L << 30, Set.of("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16"), true);
    private final DeviceInfo simArm = new DeviceInfo("sim:cpu-arm", Vendor.CPU, "aarch64", "simulated ARM", 8,
            16L << 30, Set.of("neon"), true);

    @Test
    void foundByServiceLoader() {
        assertThat(ServiceLoader.load(MoeKernelProvider.class).stream().map(p -> p.get().id())).contains("cpu");
    }

    @Test
    void supportsMxfp4AndBf16OnTheHost() {
        assertThat(provider.isSupported(gptOss, HOST).isSupported()).isTrue();
        assertThat(provider.isSupported(gptOss.toBuilder().quant(QuantScheme.BF16).build(), HOST).isSupported()).isTrue();
        assertThat(provider.priority(gptOss, HOST)).isEqualTo(100);
    }

    @Test
    void rejectsGpuDevicesWithTheDeviceRemedy() {
        var v = (SupportVerdict.Unsupported) provider.isSupported(gptOss, h100);
        assertThat(v.reason()).contains("sim:sm_90");
        assertThat(v.remedy()).isEqualTo("use --device cpu");
        assertThat(provider.priority(gptOss, h100)).isZero();
    }

    @Test
    void rejectsQuantizedActivations() {
        for (ActivationType a : new ActivationType[] {ActivationType.MXFP8, ActivationType.FP8_PER_TOKEN}) {
            var v = provider.isSupported(gptOss.toBuilder().quant(new QuantScheme(WeightFormat.MXFP4, a)).build(), HOST);
            assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
            assertThat(((SupportVerdict.Unsupported) v).reason()).contains(a.toString()).contains("BF16");
            assertThat(((SupportVerdict.Unsupported) v).remedy()).contains("--activation bf16").contains("emulation");
        }
    }

    @Test
    void rejectsOtherWeightFormatsBatchedLoraAndExpertParallelism() {
        assertThat(reason(gptOss.toBuilder().quant(new QuantScheme(WeightFormat.NVFP4, ActivationType.BF16)).build()))
                .contains("nvfp4");
        assertThat(reason(gptOss.toBuilder().activationFormat(ActivationFormat.BATCHED).build())).contains("batched");
        assertThat(reason(gptOss.toBuilder().lora(512, 1024).build())).contains("LoRA factors in fp32");
        assertThat(provider.isSupported(gptOss.toBuilder().lora(16, 4).build(), HOST))
                .isInstanceOfSatisfying(SupportVerdict.Supported.class,
                        v -> assertThat(v.note()).contains("LoRA up to rank 16 in 4 slots"));
        assertThat(reason(gptOss.toBuilder().expertParallel(2, 0).build())).contains("expert parallelism");
        assertThat(reason(gptOss.toBuilder().quant(QuantScheme.BF16).hiddenSize(100).build())).contains("multiples of 32");
    }

    private String reason(MoeLayerSpec spec) {
        SupportVerdict v = provider.isSupported(spec, HOST);
        assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
        return ((SupportVerdict.Unsupported) v).reason();
    }

    @Test
    void simulatedCpusGetTheirOwnKernelSet() {
        assertThat(((SupportVerdict.Supported) provider.isSupported(gptOss, simAvx2)).note()).contains("AVX2");
        assertThat(((SupportVerdict.Supported) provider.isSupported(gptOss, simAvx512)).note()).contains("AVX-512 BF16");
        assertThat(provider.isSupported(gptOss, simArm).isSupported()).isFalse();
        assertThatThrownBy(() -> provider.create(gptOss, simAvx2)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("simulated");
    }

    @Test
    void hostAvailabilityNamesTheLibraryAndIsa() {
        var a = provider.hostAvailability();
        assertThat(a.available()).isTrue();
        assertThat(a.detail().orElseThrow()).contains("libmoeoracle_cpu").contains("host ISA");
    }

    @Test
    void kernelsUseTheHostIsaUnlessLowered() {
        MoeLayerSpec small = gptOss.toBuilder().hiddenSize(64).intermediateSize(64).experts(4).build();
        try (MoeKernel k = provider.create(small, HOST)) {
            assertThat(((CpuMoeKernel) k).isa()).isEqualTo(CpuIsa.forDevice(HOST));
            assertThat(k.providerId()).isEqualTo("cpu");
        }
        try (MoeKernel k = CpuTestSupport.withProperty(CpuSettings.ISA.name(), "scalar",
                () -> provider.create(small, HOST))) {
            assertThat(((CpuMoeKernel) k).isa()).isEqualTo(CpuIsa.SCALAR);
        }
        assertThatThrownBy(() -> CpuTestSupport.withProperty(CpuSettings.THREADS.name(), "zero",
                () -> provider.create(small, HOST))).hasMessageContaining("moe.cpu.threads");
    }

    @Test
    void aConfiguredInstanceIgnoresTheSettings() {
        MoeLayerSpec small = gptOss.toBuilder().hiddenSize(64).intermediateSize(64).experts(4).build();
        CpuMoeProvider configured = new CpuMoeProvider(CpuOptions.builder().threads(1).isa(CpuIsa.SCALAR).build());
        try (MoeKernel k = CpuTestSupport.withProperty(CpuSettings.ISA.name(), "avx2",
                () -> CpuTestSupport.withProperty(CpuSettings.THREADS.name(), "zero", () -> configured.create(small, HOST)))) {
            assertThat(((CpuMoeKernel) k).isa()).isEqualTo(CpuIsa.SCALAR);
        }
        assertThat(configured.hostAvailability().detail().orElseThrow()).contains(", 1 threads");
        assertThat(configured.options().threads()).hasValue(1);
        assertThat(provider.options()).isEqualTo(CpuOptions.fromSettings());
        assertThatThrownBy(() -> CpuOptions.builder().threads(0).build()).hasMessageContaining("[1, 4096]");
    }

    @Test
    void rooflineCeilingsArePlausible() {
        RooflineProbe.Ceilings c = CpuTestSupport.withProperty("moe.cpu.probe.bytes", String.valueOf(64L << 20),
                () -> provider.measureCeilings(HOST));
        assertThat(c.bytesPerSecond()).isBetween(1e8, 1e13);
        assertThat(c.flopsPerSecond()).isBetween(1e8, 1e14);
        assertThat(c.bandwidthMethod()).contains("64 MiB");
    }

    @Test
    void prepareReportsItsStagesFromZeroToOne() {
        MoeLayerSpec small = gptOss.toBuilder().hiddenSize(64).intermediateSize(64).experts(4).build();
        java.util.List<Double> fractions = new java.util.ArrayList<>();
        java.util.List<String> stages = new java.util.ArrayList<>();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
             MoeKernel k = provider.create(small, HOST)) {
            k.prepare(io.moeoracle.reference.RandomMoe.weights(small, 3, arena), (f, stage) -> {
                fractions.add(f);
                stages.add(stage);
            });
            assertThat(k.isPrepared()).isTrue();
        }
        assertThat(fractions.getFirst()).isZero();
        assertThat(fractions.getLast()).isEqualTo(1.0);
        assertThat(fractions).isSorted().hasSizeGreaterThanOrEqualTo(4);
        assertThat(stages).containsSubsequence("copying weights to native memory", "repacking expert weights", "prepared");
    }
}
