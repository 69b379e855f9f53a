package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.fixtures.Specs;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DefaultSelectionPolicyTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private final DefaultSelectionPolicy policy = new DefaultSelectionPolicy();

    private static List<String> ids(List<Candidate> cs) {
        return cs.stream().map(Candidate::id).toList();
    }

    private static Candidate c(String id, int priority) {
        return new Candidate(id, priority, Optional.empty(), false, "bound");
    }

    private static Candidate c(String id, int priority, ActivationType act) {
        return new Candidate(id, priority, Optional.of(act), false, "bound");
    }

    @Test
    void higherPriorityFirstThenId() {
        List<Candidate> in = List.of(c("c", 5), c("b", 10), c("a", 5), c("d", Integer.MIN_VALUE),
                c("e", Integer.MAX_VALUE));
        assertThat(ids(policy.order(in, Specs.gptOss120b(), SM90))).containsExactly("e", "b", "a", "c", "d");
    }

    @Test
    void underAutoBf16ActivationsComeBeforeQuantizedAtEqualPriority() {
        List<Candidate> in = List.of(c("a-fp8", 50, ActivationType.MXFP8), c("b-bf16", 50, ActivationType.BF16),
                c("c-pertoken", 50, ActivationType.FP8_PER_TOKEN), c("z-high-fp8", 60, ActivationType.MXFP8));
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.AUTO), SM90)))
                .as("priority still dominates; the tie-break only splits equal priorities")
                .containsExactly("z-high-fp8", "b-bf16", "a-fp8", "c-pertoken");
    }

    @Test
    void withAnExplicitActivationTypeTiesGoById() {
        List<Candidate> in = List.of(c("b-bf16", 50, ActivationType.BF16), c("a-fp8", 50, ActivationType.MXFP8));
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.MXFP8), SM90))).containsExactly("a-fp8", "b-bf16");
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.BF16), SM90))).containsExactly("a-fp8", "b-bf16");
    }

    @Test
    void anUnnamedActivationTypeCountsAsNotQuantized() {
        List<Candidate> in = List.of(c("a-fp8", 50, ActivationType.MXFP8), c("b-unnamed", 50));
        assertThat(ids(policy.order(in, Specs.gptOss20b(ActivationType.AUTO), SM90))).containsExactly("b-unnamed", "a-fp8");
    }
}
