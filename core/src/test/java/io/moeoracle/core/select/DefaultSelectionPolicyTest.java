package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.fixtures.FakeProvider;
import io.moeoracle.core.fixtures.Specs;
import java.util.List;
import org.junit.jupiter.api.Test;

class DefaultSelectionPolicyTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private final DefaultSelectionPolicy policy = new DefaultSelectionPolicy();

    private static List<String> ids(List<MoeKernelProvider> ps) {
        return ps.stream().map(MoeKernelProvider::id).toList();
    }

    @Test
    void higherPriorityFirstThenId() {
        List<MoeKernelProvider> in = List.of(FakeProvider.supported("c", 5), FakeProvider.supported("b", 10),
                FakeProvider.supported("a", 5), FakeProvider.supported("d", Integer.MIN_VALUE),
                FakeProvider.supported("e", Integer.MAX_VALUE));
        assertThat(ids(policy.order(in, Specs.gptOss120b(), SM90))).containsExactly("e", "b", "a", "c", "d");
    }

    @Test
    void underAutoBf16ActivationsComeBeforeQuantizedAtEqualPriority() {
        List<MoeKernelProvider> in = List.of(
                FakeProvider.supported("a-fp8", 50).runningActivationsAs(ActivationType.MXFP8),
                FakeProvider.supported("b-bf16", 50).runningActivationsAs(ActivationType.BF16),
                FakeProvider.supported("c-pertoken", 50).runningActivationsAs(ActivationType.FP8_PER_TOKEN),
                FakeProvider.supported("z-high-fp8", 60).runningActivationsAs(ActivationType.MXFP8));
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.AUTO), SM90)))
                .as("priority still dominates; the tie-break only splits equal priorities")
                .containsExactly("z-high-fp8", "b-bf16", "a-fp8", "c-pertoken");
    }

    @Test
    void withAnExplicitActivationTypeTiesGoById() {
        List<MoeKernelProvider> in = List.of(
                FakeProvider.supported("b-bf16", 50).runningActivationsAs(ActivationType.BF16),
                FakeProvider.supported("a-fp8", 50).runningActivationsAs(ActivationType.MXFP8));
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.MXFP8), SM90))).containsExactly("a-fp8", "b-bf16");
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.BF16), SM90))).containsExactly("a-fp8", "b-bf16");
    }

    @Test
    void aProviderWhosePriorityThrowsIsLeftOut() {
        List<MoeKernelProvider> in = List.of(FakeProvider.supported("ok", 1),
                FakeProvider.supported("bad", 99).throwingFromPriority(new IllegalStateException("no")));
        assertThat(ids(policy.order(in, Specs.gptOss120b(), SM90))).containsExactly("ok");
    }
}
