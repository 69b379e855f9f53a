package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TopKRoutingTest {
    private static final long SEED = System.nanoTime();

    @Test
    void tiesGoToTheLowerId() {
        int[] ids = new int[3];
        double[] w = new double[3];
        TopKRouting.selectRow(new double[] {1, 5, 5, 0, 5, 2}, 3, ids, w, 0);
        assertThat(ids).containsExactly(1, 2, 4);
        assertThat(w).containsExactly(1.0 / 3, 1.0 / 3, 1.0 / 3);
        TopKRouting.selectRow(new double[] {3, 3, 3, 3}, 2, ids, w, 1);
        assertThat(ids[1]).isEqualTo(0);
        assertThat(ids[2]).isEqualTo(1);
    }

    @Test
    void picksLargestAndSoftmaxesOverTheK() {
        int[] ids = new int[2];
        double[] w = new double[2];
        TopKRouting.selectRow(new double[] {0.5, -1, 2, 1, Double.NaN}, 2, ids, w, 0);
        assertThat(ids).containsExactly(2, 3);
        assertThat(w[0]).isCloseTo(Math.exp(1) / (Math.exp(1) + 1), within(1e-15));
        assertThat(w[0] + w[1]).isCloseTo(1.0, within(1e-15));
    }

    @Test
    void fromLogitsMatchesTheBruteForceSort() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor logits = RandomMoe.routerLogits(50, 16, SEED, arena);
            // force ties by rounding to bf16-ish coarse values
            for (int i = 0; i < 50 * 16; i++) {
                float v = logits.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                logits.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, Math.round(v * 2) / 2f);
            }
            Routing.TopK r = TopKRouting.fromLogits(logits, 4, arena);
            int[][] ids = new int[50][];
            double[][] w = new double[50][];
            BruteForceMoe.route(logits, 4, ids, w);
            HostTensor gotIds = (HostTensor) r.ids();
            HostTensor gotW = (HostTensor) r.weights();
            assertThat(gotIds.dtype()).isEqualTo(DType.I32);
            for (int t = 0; t < 50; t++) {
                for (int j = 0; j < 4; j++) {
                    assertThat(gotIds.data().getAtIndex(ValueLayout.JAVA_INT, t * 4 + j)).as("seed %d", SEED)
                            .isEqualTo(ids[t][j]);
                    assertThat((double) gotW.data().getAtIndex(ValueLayout.JAVA_FLOAT, t * 4 + j))
                            .isCloseTo(w[t][j], within(1e-6));
                }
            }
        }
    }
}
