package io.moeoracle.backend.flashinfer;

import static io.moeoracle.driver.cuda.testing.SimulatedGpus.sim;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.reference.ForwardCase;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/** The verdicts of both providers on the built-in simulated devices name what is missing. */
@ResourceLock("moe.flashinfer.fp8Mma")
class FlashinferVerdictTest {
    static final FlashinferBf16Provider BF16 = new FlashinferBf16Provider();
    static final FlashinferMxfp8Provider MXFP8 = new FlashinferMxfp8Provider();

    static MoeLayerSpec.Builder gptOss120b(QuantScheme q) {
        return ForwardCase.gptOssLayer(120).quant(q);
    }

    static SupportVerdict.Unsupported refused(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo d) {
        SupportVerdict v = p.isSupported(spec, d);
        assertThat(v).as(p.id() + " on " + d.id()).isInstanceOf(SupportVerdict.Unsupported.class);
        return (SupportVerdict.Unsupported) v;
    }

    static String note(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo d) {
        SupportVerdict v = p.isSupported(spec, d);
        assertThat(v).as(p.id() + " on " + d.id() + ": " + v).isInstanceOf(SupportVerdict.Supported.class);
        return ((SupportVerdict.Supported) v).note();
    }

    static void withFp8Mma(String value, Runnable r) {
        String old = System.getProperty(FlashinferSettings.FP8_MMA.name());
        System.setProperty(FlashinferSettings.FP8_MMA.name(), value);
        try {
            r.run();
        } finally {
            if (old == null) {
                System.clearProperty(FlashinferSettings.FP8_MMA.name());
            } else {
                System.setProperty(FlashinferSettings.FP8_MMA.name(), old);
            }
        }
    }

    @Test
    void bothProvidersAreDiscoveredByServiceLoader() {
        Set<String> ids = ServiceLoader.load(MoeKernelProvider.class).stream().map(p -> p.get().id())
                .collect(Collectors.toSet());
        assertThat(ids).contains("flashinfer-bf16", "flashinfer-mxfp8");
    }

    @Test
    @DisplayName("sm_80: flashinfer-mxfp8 names FP8 tensor cores, flashinfer-bf16 names wgmma and sm_90a")
    void ampere() {
        SupportVerdict.Unsupported fp8 = refused(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_80"));
        assertThat(fp8.reason()).contains("FP8 tensor cores").contains("sm_89").contains("sm_80");
        assertThat(fp8.remedy()).contains("marlin");
        SupportVerdict.Unsupported bf16 = refused(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), sim("sm_80"));
        assertThat(bf16.reason()).contains("wgmma").contains("sm_90a").contains("sm_80");
        assertThat(bf16.remedy()).contains("marlin");
    }

    @Test
    @DisplayName("sm_89: flashinfer-bf16 is refused naming wgmma / sm_90a; flashinfer-mxfp8 runs the mma.sync kernels")
    void ada() {
        SupportVerdict.Unsupported bf16 = refused(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), sim("sm_89"));
        assertThat(bf16.reason()).contains("wgmma").contains("sm_90a").contains("sm_89");
        assertThat(bf16.remedy()).contains("flashinfer-mxfp8");
        String n = note(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_89"));
        assertThat(n).contains("mma.sync").doesNotContain("PTX").contains("priority 190, behind marlin");
    }

    @Test
    @DisplayName("sm_90: both run; MXFP8 on wgmma e4m3 unless moe.flashinfer.fp8Mma=mma-sync")
    void hopper() {
        String b = note(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), sim("sm_90"));
        assertThat(b).contains("wgmma BF16").contains("swiglu").doesNotContain("padded");
        String f = note(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_90"));
        assertThat(f).contains("wgmma e4m3").doesNotContain("PTX");
        withFp8Mma("mma-sync", () -> assertThat(note(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_90")))
                .contains("mma.sync"));
    }

    @Test
    @DisplayName("sm_100: flashinfer-mxfp8 runs through PTX, not validated; flashinfer-bf16 has no wgmma there")
    void blackwell() {
        String n = note(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_100"));
        assertThat(n).contains("runs through PTX").contains("not validated on this generation");
        SupportVerdict.Unsupported bf16 = refused(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), sim("sm_100"));
        assertThat(bf16.reason()).contains("wgmma").contains("sm_90a").contains("sm_100");
    }

    @Test
    void otherVendorsAreRefusedNamingTheVendor() {
        for (String d : new String[] {"gfx942", "xe-hpc", "cpu-avx512"}) {
            assertThat(refused(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim(d)).reason())
                    .startsWith("flashinfer-mxfp8 runs on NVIDIA GPUs only; sim:" + d);
            assertThat(refused(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), sim(d)).reason())
                    .startsWith("flashinfer-bf16 runs on NVIDIA GPUs only; sim:" + d);
        }
    }

    @Test
    @DisplayName("activations: each provider names the other; auto is MXFP8 for flashinfer-mxfp8")
    void activations() {
        DeviceInfo h100 = sim("sm_90");
        SupportVerdict.Unsupported b = refused(BF16, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), h100);
        assertThat(b.reason()).contains("BF16").contains("mxfp8");
        assertThat(b.remedy()).isEqualTo("use flashinfer-mxfp8");
        SupportVerdict.Unsupported f = refused(MXFP8, gptOss120b(QuantScheme.MXFP4_BF16).build(), h100);
        assertThat(f.reason()).contains("MXFP8 only").contains("bf16");
        assertThat(f.remedy()).contains("flashinfer-bf16");
        SupportVerdict.Unsupported perToken = refused(MXFP8, gptOss120b(new QuantScheme(
                io.moeoracle.api.spec.WeightFormat.MXFP4, ActivationType.FP8_PER_TOKEN)).build(), h100);
        assertThat(perToken.reason()).contains("fp8-per-token");
        MoeLayerSpec auto = gptOss120b(QuantScheme.MXFP4_AUTO).build();
        assertThat(MXFP8.isSupported(auto, h100).isSupported()).isTrue();
        assertThat(MXFP8.activationType(auto, h100)).isEqualTo(ActivationType.MXFP8);
        assertThat(BF16.isSupported(auto, h100).isSupported()).isTrue();
        assertThat(BF16.activationType(auto, h100)).isEqualTo(ActivationType.BF16);
    }

    @Test
    @DisplayName("weights MXFP4 only, standard format only (batched-marlin), no LoRA (marlin)")
    void weightsFormatAndLora() {
        DeviceInfo h100 = sim("sm_90");
        for (MoeKernelProvider p : new MoeKernelProvider[] {BF16, MXFP8}) {
            QuantScheme q = p == BF16 ? QuantScheme.MXFP4_BF16 : QuantScheme.MXFP4_MXFP8;
            SupportVerdict.Unsupported w = refused(p, gptOss120b(p == BF16 ? QuantScheme.BF16
                    : new QuantScheme(io.moeoracle.api.spec.WeightFormat.BF16, ActivationType.AUTO)).build(), h100);
            assertThat(w.reason()).contains("MXFP4 weights only");
            SupportVerdict.Unsupported batched = refused(p, gptOss120b(q).activationFormat(ActivationFormat.BATCHED)
                    .expertParallel(4, 0).build(), h100);
            assertThat(batched.remedy()).contains("batched-marlin");
            SupportVerdict.Unsupported lora = refused(p, gptOss120b(q).lora(16, 4).build(), h100);
            assertThat(lora.reason()).contains("LoRA").contains("not implemented");
            assertThat(lora.remedy()).contains("marlin");
        }
    }

    @Test
    @DisplayName("H and I multiples of 32 are padded to 64, and the note says so")
    void paddingNote() {
        MoeLayerSpec odd = gptOss120b(QuantScheme.MXFP4_MXFP8).hiddenSize(2848).intermediateSize(96).build();
        assertThat(note(MXFP8, odd, sim("sm_90"))).contains("padded to 64").contains("H 2848 -> 2880")
                .contains("I 96 -> 128");
        MoeLayerSpec aligned = gptOss120b(QuantScheme.MXFP4_BF16).hiddenSize(2880).intermediateSize(128).build();
        assertThat(note(BF16, aligned, sim("sm_90"))).doesNotContain("padded");
    }

    @Test
    @DisplayName("a layer whose weights and scratch do not fit the GPU is refused with the sizes")
    void gpuMemory() {
        DeviceInfo small = new DeviceInfo("sim:small", Vendor.NVIDIA, "sm_90", "NVIDIA H100 (simulated, 1 GiB)",
                132, 1L << 30, Set.of(), true);
        SupportVerdict.Unsupported u = refused(BF16, gptOss120b(QuantScheme.MXFP4_BF16).build(), small);
        assertThat(u.reason()).contains("MiB of GPU memory").contains("1024 MiB");
        assertThat(u.remedy()).contains("expert parallelism");
        MoeLayerSpec tiny = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(256).intermediateSize(256)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(64).build();
        assertThat(BF16.isSupported(tiny, small).isSupported()).isTrue();
    }

    @Test
    @DisplayName("moe.flashinfer.fp8Mma: wgmma off Hopper and unknown values are refused naming the setting")
    void fp8MmaSetting() {
        withFp8Mma("wgmma", () -> {
            SupportVerdict.Unsupported u = refused(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_89"));
            assertThat(u.reason()).contains("-Dmoe.flashinfer.fp8Mma").contains("sm_90a");
            assertThat(note(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_90"))).contains("wgmma e4m3");
        });
        withFp8Mma("tensor", () -> {
            SupportVerdict.Unsupported u = refused(MXFP8, gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_90"));
            assertThat(u.reason()).contains("moe.flashinfer.fp8Mma").contains("'tensor'");
            assertThat(u.remedy()).contains("auto, mma-sync or wgmma");
        });
    }

    @Test
    @DisplayName("create on a simulated device: unsupported layers and simulated devices fail with typed errors")
    void createOnASimulatedDevice() {
        assertThatThrownBy(() -> BF16.create(gptOss120b(QuantScheme.MXFP4_BF16).build(), sim("sm_89")))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("wgmma");
        assertThatThrownBy(() -> MXFP8.create(gptOss120b(QuantScheme.MXFP4_MXFP8).build(), sim("sm_90")))
                .isInstanceOf(BadInputException.class).hasMessageContaining("simulated");
    }
}
