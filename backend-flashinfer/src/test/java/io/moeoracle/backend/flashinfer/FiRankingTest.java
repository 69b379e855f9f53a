package io.moeoracle.backend.flashinfer;

import static io.moeoracle.driver.cuda.testing.SimulatedGpus.sim;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.Priority;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The ranking rule: flashinfer-bf16 by measured crossover with marlin; flashinfer-mxfp8 never above the best BF16 backend. */
class FiRankingTest {
    static MoeLayerSpec spec(int maxTokens) {
        return MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_AUTO).maxTokensPerCall(maxTokens).build();
    }

    static FiRanking.Measurement m(int t, double fi, double marlin) {
        return new FiRanking.Measurement(t, fi, marlin, Double.NaN);
    }

    @Test
    @DisplayName("the crossover is the largest measured T at which marlin was still faster")
    void crossover() {
        assertThat(FiRanking.aheadAbove(List.of())).isEqualTo(Integer.MAX_VALUE);
        assertThat(FiRanking.aheadAbove(List.of(m(1, 50, 44), m(256, 900, 725), m(4096, 2000, 3944))))
                .isEqualTo(256);
        assertThat(FiRanking.aheadAbove(List.of(m(1, 40, 44), m(4096, 2000, 3944)))).isZero();
        assertThat(FiRanking.aheadAbove(List.of(m(1, 40, 44), m(4096, 4000, 3944)))).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    @DisplayName("bands: ahead of marlin = preferred; behind = vendor-tuned between triton (150) and marlin (200)")
    void bands() {
        assertThat(Priority.bandOf(FiRanking.AHEAD_OF_MARLIN)).contains(Priority.Band.PREFERRED);
        assertThat(FiRanking.BEHIND_MARLIN).isBetween(151, FiRanking.MARLIN_PRIORITY - 1);
        assertThat(Priority.bandOf(FiRanking.PTX_UNVALIDATED)).contains(Priority.Band.VENDOR_TUNED);
    }

    @Test
    @DisplayName("flashinfer-mxfp8 ties flashinfer-bf16 on sm_90 (auto prefers BF16), ranks behind marlin elsewhere")
    void mxfp8NeverAboveBf16() {
        for (int t : new int[] {1, 64, 1024, 8192, 1 << 20}) {
            MoeLayerSpec s = spec(t);
            int bf16 = FiRanking.bf16Priority(s, sim("sm_90"));
            assertThat(FiRanking.mxfp8Priority(s, sim("sm_90"))).as("T=%d", t).isEqualTo(bf16);
            assertThat(FiRanking.bf16AheadOfMarlin(s, sim("sm_90")))
                    .isEqualTo(t > FiRanking.bf16AheadAboveTokens());
        }
        assertThat(FiRanking.mxfp8Priority(spec(8192), sim("sm_89")))
                .isEqualTo(FiRanking.BEHIND_MARLIN);
        assertThat(FiRanking.mxfp8Priority(spec(8192), sim("sm_100")))
                .isLessThan(FiRanking.MARLIN_PRIORITY);
    }

    @Test
    void theNoteSaysWhereTheNumbersComeFrom() {
        String n = FiRanking.note(spec(8192), sim("sm_90"), false);
        assertThat(n).startsWith("priority " + FiRanking.bf16Priority(spec(8192), sim("sm_90")))
                .contains(FiRanking.SOURCE);
    }
}
