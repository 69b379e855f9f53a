package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The traffic model's arithmetic, and its all-to-all expectation against sampled routings. */
class EpTrafficModelTest {

    @Test
    @DisplayName("row sizes: BF16 activations plus k ids and k weights out, F32 partials back")
    void rows() {
        assertThat(EpTrafficModel.dispatchRowBytes(8, 7168)).isEqualTo(2 * 7168 + 64);
        assertThat(EpTrafficModel.combineRowBytes(7168)).isEqualTo(4 * 7168);
    }

    @Test
    @DisplayName("all-gather: (R-1)(6H + 8k) bytes per token whatever the routing; nothing on one rank")
    void allGather() {
        assertThat(EpTrafficModel.bytesPerToken(EpStrategy.ALL_GATHER, 256, 8, 7168, 4))
                .isEqualTo(3.0 * (6 * 7168 + 64));
        assertThat(EpTrafficModel.bytesPerToken(EpStrategy.ALL_GATHER, 256, 8, 7168, 1)).isZero();
        // exact bytes of one forward: 1024 padded rows per rank, plus the flag all-reduce
        assertThat(EpTrafficModel.allGatherBytes(1024, 8, 7168, 4))
                .isEqualTo(3L * 1024 * (6 * 7168 + 64) + EpTrafficModel.allReduceBytes(4, 4));
    }

    @Test
    @DisplayName("all-to-all: a rank that holds k or fewer of the E experts is reached with probability 1 - C(E-El,k)/C(E,k)")
    void expectedRanks() {
        // 2 ranks, E=4, k=2: a token misses rank 1 only when it picks both of rank 0's experts: 1/6
        assertThat(EpTrafficModel.expectedRemoteRanks(4, 2, 2)).isCloseTo(5.0 / 6, within(1e-12));
        // top-k larger than the other ranks' share: every other rank is always reached
        assertThat(EpTrafficModel.expectedRemoteRanks(8, 7, 2)).isEqualTo(1.0);
        assertThat(EpTrafficModel.expectedRemoteRanks(256, 8, 1)).isZero();
    }

    @ParameterizedTest(name = "E={0} k={1} R={2}")
    @CsvSource({"256, 8, 4", "256, 8, 2", "128, 4, 4", "128, 4, 2", "32, 4, 8"})
    @DisplayName("the expectation matches sampled uniform top-k routings within 1%")
    void sampled(int e, int k, int r) {
        SplittableRandom rnd = new SplittableRandom(e * 31L + k * 7L + r);
        int el = e / r;
        int tokens = 200_000;
        long remote = 0;
        for (int t = 0; t < tokens; t++) {
            int me = t % r;
            boolean[] chosen = new boolean[e];
            long mask = 0;
            for (int j = 0; j < k; j++) {
                int id;
                do {
                    id = rnd.nextInt(e);
                } while (chosen[id]);
                chosen[id] = true;
                mask |= 1L << (id / el);
            }
            remote += Long.bitCount(mask & ~(1L << me));
        }
        double sampled = (double) remote / tokens;
        assertThat(sampled).isCloseTo(EpTrafficModel.expectedRemoteRanks(e, k, r), within(0.01 * (r - 1)));
        double model = EpTrafficModel.bytesPerToken(EpStrategy.ALL_TO_ALL, e, k, 7168, r);
        assertThat(sampled * (6 * 7168 + 8 * k)).isCloseTo(model, within(0.01 * model));
    }

    @Test
    @DisplayName("exact all-to-all bytes from a count matrix: rows out and partials back, only to other ranks")
    void exactCounts() {
        // counts[s][d]: rows rank s sends to rank d (the diagonal stays local)
        int[][] counts = {{10, 3, 4}, {5, 20, 0}, {1, 2, 30}};
        int e = 6;
        int k = 2;
        int h = 32;
        long fixed = EpTrafficModel.fixedBytesPerForward(EpStrategy.ALL_TO_ALL, e, 3);
        long row = EpTrafficModel.dispatchRowBytes(k, h);
        long back = EpTrafficModel.combineRowBytes(h);
        // rank 0 sends 3 + 4 rows out and returns the partials of the 5 + 1 rows it received
        assertThat(EpTrafficModel.allToAllSentBytes(counts, 0, e, k, h)).isEqualTo(7 * row + 6 * back + fixed);
        // and receives those 6 rows and the partials of its 7
        assertThat(EpTrafficModel.allToAllReceivedBytes(counts, 0, e, k, h)).isEqualTo(6 * row + 7 * back + fixed);
        long sent = 0;
        long received = 0;
        for (int r = 0; r < 3; r++) {
            sent += EpTrafficModel.allToAllSentBytes(counts, r, e, k, h);
            received += EpTrafficModel.allToAllReceivedBytes(counts, r, e, k, h);
        }
        assertThat(sent).as("every byte sent is received").isEqualTo(received);
    }

    @Test
    @DisplayName("per-forward constants: the flag all-reduce, and for all-to-all the count exchange")
    void fixed() {
        assertThat(EpTrafficModel.allReduceBytes(4, 4)).isEqualTo(6); // ceil(2*3*4/4)
        assertThat(EpTrafficModel.allReduceBytes(1024, 2)).isEqualTo(1024);
        assertThat(EpTrafficModel.fixedBytesPerForward(EpStrategy.ALL_GATHER, 256, 1)).isZero();
        assertThat(EpTrafficModel.fixedBytesPerForward(EpStrategy.ALL_TO_ALL, 256, 4))
                .isEqualTo(EpTrafficModel.allReduceBytes(4, 4) + 3 * 4 * 4 + EpTrafficModel.allReduceBytes(1024, 4));
    }
}
