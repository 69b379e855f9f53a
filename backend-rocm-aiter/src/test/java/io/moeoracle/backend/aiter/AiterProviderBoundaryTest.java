package io.moeoracle.backend.aiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What create throws at the SPI boundary, and how a device's typed HIP address is used; no GPU needed. */
class AiterProviderBoundaryTest {
    private static final MoeLayerSpec GPT_OSS = AiterRulesTest.GPT_OSS_120B;
    private static final MoeLayerSpec FP8 = GPT_OSS.toBuilder()
            .quant(GPT_OSS.quant().withActivations(ActivationType.FP8_PER_TOKEN)).build();
    private final AiterProvider aiter = new AiterProvider();
    private final AiterFp8Provider aiterFp8 = new AiterFp8Provider();

    @Test
    void createOnASimulatedDeviceIsBadInputNamingTheProbe() {
        assertThatThrownBy(() -> aiter.create(GPT_OSS, AiterRulesTest.GFX942))
                .isInstanceOf(BadInputException.class).hasMessageContaining("simulated")
                .hasMessageContaining("hip DeviceProbe");
        assertThatThrownBy(() -> aiterFp8.create(FP8, AiterRulesTest.GFX950))
                .isInstanceOf(BadInputException.class).hasMessageContaining("simulated");
    }

    @Test
    void createThrowsTheVerdictAsUnsupportedSpec() {
        assertThatThrownBy(() -> aiter.create(GPT_OSS.toBuilder().lora(true).build(), AiterRulesTest.GFX942))
                .isInstanceOfSatisfying(UnsupportedSpecException.class, e -> {
                    assertThat(e.providerId()).isEqualTo("aiter");
                    assertThat(e.reason()).contains("LoRA");
                    assertThat(e.remedy()).isNotBlank();
                    assertThat(e.getMessage()).contains("sim:gfx942");
                });
        assertThatThrownBy(() -> aiterFp8.create(FP8, AiterRulesTest.GFX942))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("gfx950 only");
        assertThatThrownBy(() -> aiter.create(GPT_OSS, AiterRulesTest.SM90))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("AMD Instinct GPUs only");
    }

    @Test
    void anAmdGpuSeenThroughOpenClIsJudgedByItsHipAddress() {
        DeviceInfo viaOpenCl = new DeviceInfo("opencl:0:1", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304,
                192L << 30, Set.of("bf16", "mfma", "fp8", "fp8_fnuz"), false);
        SupportVerdict v = AiterRules.verdict(GPT_OSS, viaOpenCl, false, true);
        assertThat(v).isInstanceOfSatisfying(SupportVerdict.Unsupported.class, u -> {
            assertThat(u.reason()).contains("launches through the HIP runtime", "opencl:0:1",
                    "OpenCL (platform 0, device 1)");
            assertThat(u.remedy()).contains("hip:N");
        });
        for (MoeKernelProvider p : new MoeKernelProvider[] {aiter}) {
            assertThatThrownBy(() -> p.create(GPT_OSS, viaOpenCl)).isInstanceOf(UnsupportedSpecException.class)
                    .hasMessageContaining("HIP runtime");
        }

        DeviceInfo sameGpu = viaOpenCl.withAliases(List.of(new DeviceAddress.Hip(0, Optional.of("abcd"))));
        SupportVerdict alias = AiterRules.verdict(GPT_OSS, sameGpu, false, true);
        if (alias instanceof SupportVerdict.Supported ok) {
            assertThat(ok.note()).contains("launched through hip:0 (the same GPU)");
        } else {
            // without clang at build time the code object is missing; the address is no longer the reason
            assertThat(((SupportVerdict.Unsupported) alias).reason()).contains("code object not built")
                    .doesNotContain("HIP runtime");
        }
    }

    @Test
    void createOnAHipOrdinalThisHostCannotReachThrowsAnApiExceptionNamingIt() {
        // without ROCm: the api's native failure (or, without the code object, the verdict's refusal)
        DeviceInfo absent = new DeviceInfo("hip:3", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304, 192L << 30,
                Set.of("bf16", "mfma", "fp8", "fp8_fnuz"), false);
        assertThatThrownBy(() -> aiter.create(GPT_OSS, absent))
                .isInstanceOfAny(NativeFailureException.class, BadInputException.class, UnsupportedSpecException.class)
                .isInstanceOf(MoeKernelException.class).hasMessageContaining("hip:3");
    }

    @Test
    void bothProvidersSitInThePreferredBand() {
        assertThat(aiter.priority(GPT_OSS, AiterRulesTest.GFX942)).isEqualTo(Priority.PREFERRED);
        assertThat(aiterFp8.priority(FP8, AiterRulesTest.GFX950)).isEqualTo(Priority.PREFERRED);
        assertThat(Priority.bandOf(AiterRules.PRIORITY)).contains(Priority.Band.PREFERRED);
    }
}
