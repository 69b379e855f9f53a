package io.moeoracle.backend.marlin;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.testing.SimulatedGpus;
import io.moeoracle.reference.ForwardCase;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;

import static io.moeoracle.driver.cuda.testing.SimulatedGpus.sim;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MarlinProviderTest {
    static final DeviceInfo SM80 = sim("sm_80");
    static final DeviceInfo SM90 = sim("sm_90");
    static final DeviceInfo SM75 = SimulatedGpus.T4;
    static final DeviceInfo GFX942 = sim("gfx942");

    static MoeLayerSpec.Builder gptOss120b() {
        return ForwardCase.gptOssLayer(120).quant(QuantScheme.MXFP4_BF16);
    }

    final MarlinProvider marlin = new MarlinProvider();
    final BatchedMarlinProvider batched = new BatchedMarlinProvider();

    @Test
    void bothProvidersAreDiscoveredByServiceLoader() {
        Set<String> ids = ServiceLoader.load(MoeKernelProvider.class).stream().map(p -> p.get().id())
                .collect(Collectors.toSet());
        assertThat(ids).contains("marlin", "batched-marlin");
    }

    @Test
    void supportsMxfp4Bf16OnAmpereAndHopper() {
        for (DeviceInfo d : new DeviceInfo[] {SM80, SM90, sim("sm_89")}) {
            SupportVerdict v = marlin.isSupported(gptOss120b().build(), d);
            assertThat(v.isSupported()).as(d.arch()).isTrue();
            assertThat(((SupportVerdict.Supported) v).note()).contains("MXFP4").doesNotContain("padded");
        }
        assertThat(marlin.isSupported(gptOss120b().quant(QuantScheme.MXFP4_AUTO).build(), SM90).isSupported()).isTrue();
    }

    @Test
    void rejectsPreAmpereAndOtherVendors() {
        SupportVerdict v = marlin.isSupported(gptOss120b().build(), SM75);
        assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
        assertThat(((SupportVerdict.Unsupported) v).reason()).contains("sm_80").contains("sm_75");
        SupportVerdict amd = marlin.isSupported(gptOss120b().build(), GFX942);
        assertThat(((SupportVerdict.Unsupported) amd).reason()).contains("NVIDIA");
    }

    @Test
    void rejectsQuantizedActivationsWithTheFlashinferRemedy() {
        SupportVerdict v = marlin.isSupported(gptOss120b().quant(QuantScheme.MXFP4_MXFP8).build(), SM90);
        assertThat(v.isSupported()).isFalse();
        assertThat(((SupportVerdict.Unsupported) v).reason()).contains("BF16").contains("mxfp8");
        assertThat(((SupportVerdict.Unsupported) v).remedy()).contains("flashinfer").contains("--activation bf16");
    }

    @Test
    void rejectsBf16WeightsAndJudgesLoraRankSlotsAndFormat() {
        SupportVerdict bf16 = marlin.isSupported(gptOss120b().quant(QuantScheme.BF16).build(), SM90);
        assertThat(((SupportVerdict.Unsupported) bf16).reason()).contains("MXFP4 weights only");
        SupportVerdict lora = marlin.isSupported(gptOss120b().lora(16, 4).build(), SM90);
        assertThat(((SupportVerdict.Supported) lora).note()).contains("LoRA up to rank 16 in 4 slots");
        SupportVerdict big = marlin.isSupported(gptOss120b().lora(512, 4).build(), SM90);
        assertThat(((SupportVerdict.Unsupported) big).reason()).contains("LoRA ranks up to 256");
        SupportVerdict many = marlin.isSupported(gptOss120b().lora(256, 1024).build(), SM90);
        assertThat(((SupportVerdict.Unsupported) many).reason()).contains("MiB of LoRA factors");
        SupportVerdict batchedLora = batched.isSupported(gptOss120b().activationFormat(ActivationFormat.BATCHED)
                .expertParallel(4, 1).maxTokensPerCall(1024).lora(16, 4).build(), SM90);
        assertThat(((SupportVerdict.Unsupported) batchedLora).reason()).contains("LoRA");
    }

    @Test
    void eachProviderTakesOnlyItsFormat() {
        MoeLayerSpec standard = gptOss120b().build();
        MoeLayerSpec batchedSpec = gptOss120b().activationFormat(ActivationFormat.BATCHED).expertParallel(4, 1)
                .maxTokensPerCall(1024).build();
        assertThat(marlin.isSupported(standard, SM90).isSupported()).isTrue();
        assertThat(batched.isSupported(standard, SM90).isSupported()).isFalse();
        assertThat(((SupportVerdict.Unsupported) batched.isSupported(standard, SM90)).remedy()).contains("marlin");
        assertThat(batched.isSupported(batchedSpec, SM90).isSupported()).isTrue();
        assertThat(((SupportVerdict.Unsupported) marlin.isSupported(batchedSpec, SM90)).remedy())
                .contains("batched-marlin");
    }

    @Test
    void notesThePaddingOfUnalignedSizes() {
        MoeLayerSpec spec = gptOss120b().hiddenSize(2848).intermediateSize(2080).activation(Activation.SILU).build();
        SupportVerdict v = marlin.isSupported(spec, SM80);
        assertThat(v.isSupported()).isTrue();
        assertThat(((SupportVerdict.Supported) v).note()).contains("H 2848 -> 2880").contains("I 2080 -> 2112");
    }

    @Test
    void rejectsMoreLocalExpertsThanTheAlignmentKernelHolds() {
        MoeLayerSpec spec = gptOss120b().experts(2048).hiddenSize(64).intermediateSize(64).maxTokensPerCall(64)
                .build();
        assertThat(((SupportVerdict.Unsupported) marlin.isSupported(spec, SM90)).reason()).contains("1024");
        assertThat(marlin.isSupported(spec.toBuilder().expertParallel(2, 0).build(), SM90).isSupported()).isTrue();
    }

    @Test
    void prioritySitsBelowTritonOnHopper() {
        assertThat(marlin.priority(gptOss120b().build(), SM90)).isEqualTo(200);
        assertThat(batched.priority(gptOss120b().build(), SM90)).isEqualTo(200);
    }

    @Test
    void hostAvailabilityAnswersWithoutThrowing() {
        var a = marlin.hostAvailability();
        if (!a.available()) {
            assertThat(a.detail()).isPresent();
            assertThat(a.detail().orElseThrow()).containsAnyOf("kernel image not built", "CUDA driver", "no CUDA device");
        } else {
            assertThat(a.detail().orElseThrow()).contains("fatbin");
        }
    }

    @Test
    void createRefusesSimulatedDevices() {
        assertThatThrownBy(() -> marlin.create(gptOss120b().build(), SM90))
                .isInstanceOf(BadInputException.class).hasMessageContaining("sim");
    }

    @Test
    void eachProviderCreatesOnlyItsOwnFormat() {
        MoeLayerSpec standard = gptOss120b().build();
        assertThatThrownBy(() -> batched.create(standard, SM90)).isInstanceOf(UnsupportedSpecException.class)
                .hasMessageContaining("batched");
    }

    @Test
    void createRefusesUnsupportedSpecsBeforeTouchingTheDriver() {
        assertThatThrownBy(() -> marlin.create(gptOss120b().lora(512, 1).build(), SM90))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("LoRA");
    }

    @Test
    void aGpuSeenThroughOpenClIsJudgedByItsCudaAddress() {
        MoeLayerSpec spec = gptOss120b().build();
        DeviceInfo viaOpenCl = new DeviceInfo("opencl:1:0", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132,
                80L << 30, Set.of(), false);
        assertThat(marlin.isSupported(spec, viaOpenCl)).isInstanceOfSatisfying(SupportVerdict.Unsupported.class, u -> {
            assertThat(u.reason()).contains("launches through the CUDA driver", "opencl:1:0",
                    "OpenCL (platform 1, device 0)");
            assertThat(u.remedy()).contains("cuda:N");
        });
        assertThatThrownBy(() -> marlin.create(spec, viaOpenCl)).isInstanceOf(UnsupportedSpecException.class)
                .hasMessageContaining("CUDA driver");

        DeviceInfo sameGpu = viaOpenCl.withAliases(List.of(new DeviceAddress.Cuda(0, Optional.of("GPU-1234"))));
        SupportVerdict v = marlin.isSupported(spec, sameGpu);
        if (v instanceof SupportVerdict.Supported ok) {
            assertThat(ok.note()).contains("launched through cuda:0 (the same GPU)");
        } else {
            // without nvcc at build time the image is missing; the address is no longer the reason
            assertThat(((SupportVerdict.Unsupported) v).reason()).contains("kernel image not built")
                    .doesNotContain("CUDA driver");
        }
    }

    @Test
    void prioritiesLieInTheVendorTunedBand() {
        assertThat(io.moeoracle.api.Priority.bandOf(marlin.priority(gptOss120b().build(), SM90)))
                .contains(io.moeoracle.api.Priority.Band.VENDOR_TUNED);
        assertThat(batched.priority(gptOss120b().build(), SM90)).isEqualTo(io.moeoracle.api.Priority.VENDOR_TUNED);
    }
}
