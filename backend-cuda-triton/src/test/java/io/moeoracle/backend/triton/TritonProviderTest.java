package io.moeoracle.backend.triton;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.MoeKernelException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.cuda.moe.host.CudaHost;
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

/** Verdicts and priorities on simulated devices: every branch without a GPU. */
class TritonProviderTest {
    static final DeviceInfo SM80 = sim("sm_80");
    static final DeviceInfo SM90 = sim("sm_90");
    static final DeviceInfo SM75 = SimulatedGpus.T4;
    static final DeviceInfo SM100 = sim("sm_100");
    static final DeviceInfo GFX942 = sim("gfx942");

    static MoeLayerSpec.Builder gptOss120b() {
        return ForwardCase.gptOssLayer(120).quant(QuantScheme.MXFP4_BF16);
    }

    final TritonProvider triton = new TritonProvider();
    final TritonUnfusedProvider unfused = new TritonUnfusedProvider();

    static String reason(SupportVerdict v) {
        assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
        return ((SupportVerdict.Unsupported) v).reason();
    }

    static String remedy(SupportVerdict v) {
        return ((SupportVerdict.Unsupported) v).remedy();
    }

    @Test
    void bothProvidersAreDiscoveredByServiceLoader() {
        Set<String> ids = ServiceLoader.load(MoeKernelProvider.class).stream().map(p -> p.get().id())
                .collect(Collectors.toSet());
        assertThat(ids).contains("triton", "triton-unfused");
    }

    @Test
    void gptOss120bRunsOnHopperWithTheSm90aImageAndOnAmpereWithSm80() {
        SupportVerdict h = triton.isSupported(gptOss120b().build(), SM90);
        assertThat(h.isSupported()).isTrue();
        assertThat(((SupportVerdict.Supported) h).note()).contains("sm_90a").contains("wgmma")
                .contains("SwiGLU-OAI fused").contains("no atomics").contains("marlin");
        SupportVerdict a = triton.isSupported(gptOss120b().build(), SM80);
        assertThat(a.isSupported()).isTrue();
        assertThat(((SupportVerdict.Supported) a).note()).contains("sm_80").contains("not measured");
        assertThat(triton.isSupported(gptOss120b().build(), sim("sm_89")).isSupported()).isTrue();
    }

    @Test
    void refusesGpusWithoutAPackedImageAndOtherVendors() {
        assertThat(reason(triton.isSupported(gptOss120b().build(), SM100))).contains("sm_90a").contains("sm_80")
                .contains("sm_100");
        assertThat(remedy(triton.isSupported(gptOss120b().build(), SM100))).contains("marlin");
        assertThat(reason(triton.isSupported(gptOss120b().build(), SM75))).contains("sm_75");
        assertThat(reason(unfused.isSupported(gptOss120b().build(), GFX942))).contains("NVIDIA");
    }

    @Test
    void fusedTakesSwigluOaiOnlyAndNamesTheUnfusedProvider() {
        for (Activation act : new Activation[] {Activation.SILU, Activation.GELU}) {
            MoeLayerSpec spec = gptOss120b().activation(act).build();
            assertThat(reason(triton.isSupported(spec, SM90))).contains("SwiGLU-OAI").contains(act.toString());
            assertThat(remedy(triton.isSupported(spec, SM90))).contains("triton-unfused");
            SupportVerdict u = unfused.isSupported(spec, SM90);
            assertThat(u.isSupported()).isTrue();
            assertThat(((SupportVerdict.Supported) u).note()).contains(act + " in its own kernel");
        }
        assertThat(unfused.isSupported(gptOss120b().build(), SM90).isSupported()).isTrue();
    }

    @Test
    void refusesWhatTheKernelsDoNotImplement() {
        assertThat(reason(triton.isSupported(gptOss120b().quant(QuantScheme.MXFP4_MXFP8).build(), SM90)))
                .contains("BF16");
        assertThat(remedy(triton.isSupported(gptOss120b().quant(QuantScheme.MXFP4_MXFP8).build(), SM90)))
                .contains("flashinfer");
        assertThat(reason(triton.isSupported(gptOss120b().quant(QuantScheme.BF16).build(), SM90)))
                .contains("MXFP4 weights only");
        assertThat(reason(triton.isSupported(gptOss120b().lora(true).build(), SM90))).contains("LoRA");
        assertThat(reason(triton.isSupported(gptOss120b().activationFormat(ActivationFormat.BATCHED).build(), SM90)))
                .contains("standard token layout");
        assertThat(reason(triton.isSupported(gptOss120b().topK(9).experts(128).build(), SM90))).contains("top-9");
        assertThat(reason(triton.isSupported(gptOss120b().experts(2048).build(), SM90))).contains("2048");
    }

    @Test
    void unalignedSizesArePaddedInPrepare() {
        SupportVerdict v = triton.isSupported(gptOss120b().hiddenSize(2848).build(), SM90);
        assertThat(v.isSupported()).isTrue();
        assertThat(((SupportVerdict.Supported) v).note()).contains("padded to 64");
    }

    @Test
    void priorityFollowsTheMeasuredRuleAgainstMarlin() {
        MoeLayerSpec decode = gptOss120b().maxTokensPerCall(1).build();
        MoeLayerSpec prefill = gptOss120b().maxTokensPerCall(8192).build();
        for (MoeLayerSpec s : new MoeLayerSpec[] {decode, prefill}) {
            boolean ahead = s.maxTokensPerCall() > TritonRules.TRITON_AHEAD_ABOVE_TOKENS;
            assertThat(triton.priority(s, SM90)).isEqualTo(ahead ? TritonRules.AHEAD_OF_MARLIN
                    : TritonRules.BEHIND_MARLIN);
            assertThat(unfused.priority(s, SM90)).isLessThan(triton.priority(s, SM90));
        }
        // never ahead of marlin where nothing was measured
        assertThat(triton.priority(prefill, SM80)).isLessThan(TritonRules.MARLIN_PRIORITY);
        assertThat(TritonRules.AHEAD_OF_MARLIN).isGreaterThan(TritonRules.MARLIN_PRIORITY);
    }

    @Test
    void createRefusesSimulatedDevicesWithTheReason() {
        assertThatThrownBy(() -> triton.create(gptOss120b().build(), SM90)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("simulated").hasMessageContaining("cuda DeviceProbe");
        assertThatThrownBy(() -> unfused.create(gptOss120b().build(), SM80)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("simulated");
    }

    @Test
    void createThrowsTheVerdictAsUnsupportedSpecBeforeTouchingTheDriver() {
        assertThatThrownBy(() -> triton.create(gptOss120b().activation(Activation.SILU).build(), SM90))
                .isInstanceOfSatisfying(UnsupportedSpecException.class, e -> {
                    assertThat(e.providerId()).isEqualTo("triton");
                    assertThat(e.reason()).contains("SwiGLU-OAI");
                    assertThat(e.remedy()).contains("triton-unfused");
                    assertThat(e.getMessage()).contains("sim:sm_90");
                });
        assertThatThrownBy(() -> unfused.create(gptOss120b().lora(true).build(), SM90))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("LoRA");
        assertThatThrownBy(() -> triton.create(gptOss120b().build(), GFX942))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("NVIDIA GPUs only");
    }

    @Test
    void aGpuSeenThroughOpenClIsJudgedByItsCudaAddress() {
        MoeLayerSpec spec = gptOss120b().build();
        DeviceInfo viaOpenCl = new DeviceInfo("opencl:1:0", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132,
                80L << 30, Set.of(), false);
        for (MoeKernelProvider p : new MoeKernelProvider[] {triton, unfused}) {
            SupportVerdict v = p.isSupported(spec, viaOpenCl);
            assertThat(reason(v)).contains("launches through the CUDA driver", "opencl:1:0",
                    "OpenCL (platform 1, device 0)");
            assertThat(remedy(v)).contains("cuda:N");
            assertThatThrownBy(() -> p.create(spec, viaOpenCl)).isInstanceOf(UnsupportedSpecException.class)
                    .hasMessageContaining("CUDA driver").hasMessageContaining(p.id());
        }
        DeviceInfo sameGpu = viaOpenCl.withAliases(List.of(new DeviceAddress.Cuda(0, Optional.of("GPU-1234"))));
        SupportVerdict v = triton.isSupported(spec, sameGpu);
        assertThat(v.isSupported()).isTrue();
        assertThat(((SupportVerdict.Supported) v).note()).contains("launched through cuda:0 (the same GPU)");
        assertThat(CudaHost.cudaId(sameGpu)).isEqualTo("cuda:0");
    }

    @Test
    void createOnACudaOrdinalThisHostLacksThrowsAnApiExceptionNamingIt() {
        // a real-looking cuda:7: without a driver the api's native failure, with one fewer GPUs a bad input
        DeviceInfo absent = new DeviceInfo("cuda:7", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132, 80L << 30,
                Set.of(), false);
        assertThatThrownBy(() -> triton.create(gptOss120b().build(), absent))
                .isInstanceOfAny(NativeFailureException.class, BadInputException.class)
                .isInstanceOf(MoeKernelException.class).hasMessageContaining("cuda:7");
    }

    @Test
    void prioritiesKeepTheirValuesInTheVendorTunedBand() {
        for (DeviceInfo d : new DeviceInfo[] {SM80, SM90}) {
            MoeLayerSpec s = gptOss120b().build();
            assertThat(triton.priority(s, d)).isEqualTo(150);
            assertThat(unfused.priority(s, d)).isEqualTo(140);
            assertThat(Priority.bandOf(triton.priority(s, d))).contains(Priority.Band.VENDOR_TUNED);
            assertThat(Priority.bandOf(unfused.priority(s, d))).contains(Priority.Band.VENDOR_TUNED);
        }
        assertThat(Priority.bandOf(TritonRules.AHEAD_OF_MARLIN)).contains(Priority.Band.PREFERRED);
        assertThat(TritonRules.MARLIN_PRIORITY).isEqualTo(Priority.VENDOR_TUNED);
    }
}
