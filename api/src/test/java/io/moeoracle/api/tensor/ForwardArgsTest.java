package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ForwardArgsTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(32).maxTokensPerCall(4).build();
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private HostTensor t(DType dtype, long... shape) {
        return HostTensor.allocate(arena, dtype, shape);
    }

    private HostTensor ids(int... values) {
        HostTensor ids = t(DType.I32, values.length / 2, 2);
        for (int i = 0; i < values.length; i++) {
            ids.data().setAtIndex(ValueLayout.JAVA_INT, i, values[i]);
        }
        return ids;
    }

    @Test
    void validCallsReturnTheTokenCount() {
        assertThat(ForwardArgs.check(SPEC, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 8)), t(DType.F32, 3, 64)))
                .isEqualTo(3);
        assertThat(ForwardArgs.check(SPEC, t(DType.BF16, 4, 64), Routing.logits(t(DType.BF16, 4, 8)),
                t(DType.BF16, 4, 64))).isEqualTo(4);
        assertThat(ForwardArgs.check(SPEC, t(DType.BF16, 2, 64), Routing.topK(t(DType.I32, 2, 2), t(DType.F32, 2, 2)),
                t(DType.F32, 2, 64))).isEqualTo(2);
    }

    @Test
    void hiddenMustBeTokensByHiddenSize() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 63), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 3, 63))).isInstanceOf(BadInputException.class)
                .hasMessage("hidden is [3, 63] but must be [T, 64]");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 192), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 192))).hasMessage("hidden is [192] but must be [T, 64]");
    }

    @Test
    void tooManyTokensAreRejected() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 5, 64), Routing.logits(t(DType.F32, 5, 8)),
                t(DType.F32, 5, 64))).hasMessage("hidden has 5 tokens, more than maxTokensPerCall 4");
    }

    @Test
    void activationsMustBeF32OrBf16() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F16, 3, 64), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 3, 64))).hasMessage("hidden is F16 but must be F32 or BF16");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F64, 3, 64))).hasMessage("out is F64 but must be F32 or BF16");
    }

    @Test
    void outMustMatchHidden() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 2, 64))).hasMessage("out is [2, 64] but must match hidden [3, 64]");
    }

    @Test
    void logitsMustBeTokensByExpertsInF32OrBf16() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 7)),
                t(DType.F32, 3, 64))).hasMessage("router logits are [3, 7] but must be [3, 8]");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64), Routing.logits(t(DType.I32, 3, 8)),
                t(DType.F32, 3, 64))).hasMessage("router logits are I32 but must be F32 or BF16");
    }

    @Test
    void topKMustBeI32IdsAndF32WeightsOfTokensByK() {
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64),
                Routing.topK(t(DType.I32, 3, 3), t(DType.F32, 3, 2)), t(DType.F32, 3, 64)))
                .hasMessage("top-k ids are [3, 3] but must be [3, 2]");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64),
                Routing.topK(t(DType.I32, 3, 2), t(DType.F32, 2, 2)), t(DType.F32, 3, 64)))
                .hasMessage("top-k weights are [2, 2] but must be [3, 2]");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64),
                Routing.topK(t(DType.I64, 3, 2), t(DType.F32, 3, 2)), t(DType.F32, 3, 64)))
                .hasMessage("top-k ids are I64 but must be I32");
        assertThatThrownBy(() -> ForwardArgs.check(SPEC, t(DType.F32, 3, 64),
                Routing.topK(t(DType.I32, 3, 2), t(DType.BF16, 3, 2)), t(DType.F32, 3, 64)))
                .hasMessage("top-k weights are BF16 but must be F32");
    }

    @Test
    void theBatchedFormatIsNotAStandardCall() {
        MoeLayerSpec batched = SPEC.toBuilder().activationFormat(ActivationFormat.BATCHED).build();
        assertThatThrownBy(() -> ForwardArgs.check(batched, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 3, 64))).hasMessageContaining("forward does not take the BATCHED activation format");
    }

    @Test
    void hostIdsMustNameAnExpert() {
        long seed = System.nanoTime();
        System.out.println("ForwardArgsTest seed " + seed);
        Random rnd = new Random(seed);
        int a = rnd.nextInt(8);
        int b = rnd.nextInt(8);
        ForwardArgs.checkIds(SPEC, Routing.topK(ids(a, b, b, a), t(DType.F32, 2, 2)));
        assertThatThrownBy(() -> ForwardArgs.checkIds(SPEC, Routing.topK(ids(a, b, 8, a), t(DType.F32, 2, 2))))
                .hasMessage("top-k id 8 at token 1 is outside [0, 8)");
        assertThatThrownBy(() -> ForwardArgs.checkIds(SPEC, Routing.topK(ids(-1, b), t(DType.F32, 1, 2))))
                .hasMessage("top-k id -1 at token 0 is outside [0, 8)");
        ForwardArgs.checkIds(SPEC, Routing.logits(t(DType.F32, 1, 8)));
    }

    @Test
    void routingReportsItsTokens() {
        assertThat(Routing.logits(t(DType.F32, 3, 8)).tokens()).isEqualTo(3);
        assertThat(Routing.topK(t(DType.I32, 5, 2), t(DType.F32, 5, 2)).tokens()).isEqualTo(5);
        assertThat(Routing.logits(t(DType.F32, 24)).tokens()).isEqualTo(-1);
        assertThatThrownBy(() -> Routing.logits(null)).isInstanceOf(NullPointerException.class);
    }

    private static final MoeLayerSpec BATCHED = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(32).maxTokensPerCall(4).expertParallel(2, 1)
            .activationFormat(ActivationFormat.BATCHED).build();

    @Test
    void aBatchedCallTakesPerExpertBatchesAndCounts() {
        assertThat(ForwardArgs.checkBatched(BATCHED, t(DType.BF16, 4, 3, 64), t(DType.I32, 4), t(DType.F32, 4, 3, 64)))
                .isEqualTo(3);
        assertThatThrownBy(() -> ForwardArgs.checkBatched(BATCHED, t(DType.BF16, 8, 3, 64), t(DType.I32, 8),
                t(DType.F32, 8, 3, 64))).isInstanceOf(BadInputException.class)
                .hasMessage("hidden is [8, 3, 64] but must be [4, maxTokens, 64] (E_local, tokens per expert, H)");
        assertThatThrownBy(() -> ForwardArgs.checkBatched(BATCHED, t(DType.BF16, 4, 5, 64), t(DType.I32, 4),
                t(DType.F32, 4, 5, 64))).hasMessageContaining("more than maxTokensPerCall 4");
        assertThatThrownBy(() -> ForwardArgs.checkBatched(BATCHED, t(DType.BF16, 4, 3, 64), t(DType.F32, 4),
                t(DType.F32, 4, 3, 64))).hasMessage("counts are F32 [4] but must be I32 [4]");
        assertThatThrownBy(() -> ForwardArgs.checkBatched(BATCHED, t(DType.BF16, 4, 3, 64), t(DType.I32, 4),
                t(DType.F32, 4, 2, 64))).hasMessageContaining("out is [4, 2, 64] but must match hidden");
    }

    @Test
    void eachFormatsForwardRefusesTheOtherFormatNamingTheRightCall() {
        assertThatThrownBy(() -> ForwardArgs.checkBatched(SPEC, t(DType.BF16, 8, 3, 64), t(DType.I32, 8),
                t(DType.F32, 8, 3, 64))).isInstanceOf(BadInputException.class)
                .hasMessageContaining("forwardBatched does not take the STANDARD").hasMessageContaining("call forward(");
        assertThatThrownBy(() -> ForwardArgs.check(BATCHED, t(DType.F32, 3, 64), Routing.logits(t(DType.F32, 3, 8)),
                t(DType.F32, 3, 64))).isInstanceOf(BadInputException.class)
                .hasMessageContaining("call forwardBatched(");
    }
}
