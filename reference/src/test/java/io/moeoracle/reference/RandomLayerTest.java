package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.QuantScheme;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomLayerTest {

    @Test
    void drawsStayInTheirRangesCoverEveryOptionAndReplayFromASeed() {
        SplittableRandom rnd = new SplittableRandom(42);
        Set<String> activations = new HashSet<>();
        Set<Integer> tokens = new HashSet<>();
        boolean sawEp = false;
        boolean sawNoBias = false;
        for (int n = 0; n < 400; n++) {
            RandomLayer d = RandomLayer.draw(rnd, QuantScheme.MXFP4_BF16);
            var s = d.spec();
            assertThat(s.experts()).isIn(4, 8, 16, 32, 64);
            assertThat(s.topK()).isBetween(1, Math.min(4, s.experts()));
            assertThat(s.hiddenSize() % 32).isZero();
            assertThat(s.intermediateSize()).isBetween(32, 384);
            assertThat(s.maxTokensPerCall()).isEqualTo(RandomLayer.MAX_TOKENS);
            assertThat(d.tokens()).isIn(1, 7, 64, 300);
            assertThat(s.quant()).isEqualTo(QuantScheme.MXFP4_BF16);
            activations.add(s.activation().getClass().getSimpleName() + s.activation());
            tokens.add(d.tokens());
            sawEp |= s.expertParallelSize() == 2;
            sawNoBias |= !s.hasBias();
        }
        assertThat(activations.size()).isGreaterThanOrEqualTo(4);
        assertThat(tokens).hasSize(4);
        assertThat(sawEp).isTrue();
        assertThat(sawNoBias).isTrue();
        assertThat(RandomLayer.draw(new SplittableRandom(7), QuantScheme.MXFP4_MXFP8))
                .isEqualTo(RandomLayer.draw(new SplittableRandom(7), QuantScheme.MXFP4_MXFP8));
    }
}
