package io.moeoracle.backend.marlin;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MarlinPlanTest {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinPlanTest.class);

    @Test
    void choosesSmallTilesForDecodeAndLargeOnesForPrefill() {
        assertThat(MarlinPlan.chooseM(4, 128)).isEqualTo(8);
        assertThat(MarlinPlan.chooseM(32 * 4, 128)).isEqualTo(8);
        assertThat(MarlinPlan.chooseM(128 * 4, 128)).isEqualTo(8);
        assertThat(MarlinPlan.chooseM(129 * 4, 128)).isEqualTo(16);
        assertThat(MarlinPlan.chooseM(256 * 4, 128)).isEqualTo(16);
        assertThat(MarlinPlan.chooseM(1024 * 4, 128)).isEqualTo(32);
        assertThat(MarlinPlan.chooseM(4096 * 4, 128)).isEqualTo(128);
    }

    @Test
    void tileBoundCoversAnyAssignmentOfRowsToExperts() {
        long seed = System.nanoTime();
        LOG.info("seed {}", seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int trial = 0; trial < 2000; trial++) {
            int experts = 1 + rnd.nextInt(256);
            int rows = rnd.nextInt(5000);
            int m = MarlinPlan.M_TILES[rnd.nextInt(MarlinPlan.M_TILES.length)];
            int[] counts = new int[experts];
            int hot = rnd.nextInt(experts);
            for (int r = 0; r < rows; r++) {
                counts[rnd.nextInt(4) == 0 ? rnd.nextInt(experts) : hot]++;
            }
            long tiles = 0;
            for (int c : counts) {
                tiles += (c + m - 1) / m;
            }
            assertThat(MarlinPlan.tilesMax(rows, experts, m)).isGreaterThanOrEqualTo(tiles);
            assertThat(MarlinPlan.sortedRowsMax(rows, experts)).isGreaterThanOrEqualTo(tiles * m);
        }
    }

    @Test
    void splitsGemm2OnlyWhileOneWaveHoldsEveryCta() {
        MarlinPlan gemv = MarlinPlan.of(4, 128, 2880, 2880, 0, 132, 1, 0);
        assertThat(gemv.m()).isEqualTo(8);
        assertThat(gemv.fusedRouting()).isTrue();
        // GEMV: 4 experts x 45 column tiles x splits stay within ~4 CTAs per SM, >= 2 K chunks per warp
        assertThat(gemv.splits()).isBetween(1, 45 / (2 * MarlinPlan.GEMV_WARPS));
        assertThat(4L * 45 * gemv.splits()).isLessThanOrEqualTo(4L * 132);
        MarlinPlan decode = MarlinPlan.of(4, 128, 2880, 2880, 35 * 1024, 132, 1, 16);
        assertThat(decode.m()).isEqualTo(16);
        assertThat(decode.splits()).isBetween(2, 8);
        assertThat(decode.fusedRouting()).isTrue();
        long ctas = (long) Math.min(128, 4) * (2880 / 64) * decode.splits();
        assertThat(ctas).isLessThanOrEqualTo(132L * ((227 * 1024) / (35 * 1024 + 1024)));
        MarlinPlan prefill = MarlinPlan.of(4096 * 4, 128, 2880, 2880, 74 * 1024, 132, 4096, 0);
        assertThat(prefill.splits()).isEqualTo(1);
        assertThat(prefill.fusedRouting()).isFalse();
        assertThat(MarlinPlan.of(64, 8, 64, 64, 20000, 132, -1, 0).fusedRouting()).isFalse();
    }

    @Test
    void growsTheTileWhenTheGridWouldOverflowAndFailsBeyond() {
        MarlinPlan p = MarlinPlan.of(65536L * 16, 8, 64, 64, 20000, 132, -1, 16);
        assertThat(p.m()).isGreaterThan(16);
        assertThatThrownBy(() -> MarlinPlan.of(65536L * 200, 8, 64, 64, 20000, 132, -1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tiles");
    }
}
