package io.moeoracle.backend.flashinfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.IntFunction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The per-call plan: M from the rows per expert among the family's M values, grid bounds, split-K. */
class FiPlanTest {
    static final int[] ALL = FiPlan.M_PROBE;
    static final int[] WIDE = {64, 128};

    static IntFunction<FiConfig> tiles(int bn, int residentPerSm) {
        return m -> new FiConfig(64 * 1024, 256, m, bn, 0, 1, false, residentPerSm, 512);
    }

    static IntFunction<FiConfig> persistent(int perSm) {
        return m -> new FiConfig(160 * 1024, 384, m, 128, perSm, 1, false, perSm, 0);
    }

    @Test
    @DisplayName("M: the smallest offered tile that holds the average expert's rows; the largest beyond")
    void chooseM() {
        // gpt-oss-120b: E=128, top-4
        assertThat(FiPlan.chooseM(4, 128, ALL)).isEqualTo(8);           // T=1
        assertThat(FiPlan.chooseM(7 * 4, 128, ALL)).isEqualTo(8);       // T=7
        assertThat(FiPlan.chooseM(300 * 4, 128, ALL)).isEqualTo(16);    // 9.4 rows per expert
        assertThat(FiPlan.chooseM(1024 * 4, 128, ALL)).isEqualTo(32);   // 32
        assertThat(FiPlan.chooseM(4096 * 4, 128, ALL)).isEqualTo(128);  // 128
        assertThat(FiPlan.chooseM(8192 * 4, 128, ALL)).isEqualTo(256);
        assertThat(FiPlan.chooseM(65536 * 4, 128, ALL)).isEqualTo(256); // beyond every tile: the largest
        assertThat(FiPlan.chooseM(4, 128, WIDE)).isEqualTo(64);         // a family without small tiles
        assertThat(FiPlan.chooseM(4096 * 4, 128, WIDE)).isEqualTo(128);
        // flashinfer-bf16's measured rule (ABI.md, v3): r <= 12: 8, r <= 64: 64, else 128 (M=32 only when forced)
        int[] bf16 = {8, 32, 64, 128};
        java.util.function.IntUnaryOperator rule = FiFamily.BF16::rowsPerExpertBound;
        assertThat(FiPlan.chooseM(4 * 128, 128, bf16, rule)).isEqualTo(8);
        assertThat(FiPlan.chooseM(12 * 128, 128, bf16, rule)).isEqualTo(8);   // T=384 of gpt-oss-120b
        assertThat(FiPlan.chooseM(13 * 128, 128, bf16, rule)).isEqualTo(64);
        assertThat(FiPlan.chooseM(64 * 128, 128, bf16, rule)).isEqualTo(64);
        assertThat(FiPlan.chooseM(65 * 128, 128, bf16, rule)).isEqualTo(128);
    }

    @Test
    void tileBoundsCoverEveryExpertPaddedToM() {
        // 5 rows on 3 experts, M=4: at worst 2 experts hold 1 row and one 3 -> 3 tiles; bound min(3,5) + 2 = 5
        assertThat(FiPlan.tilesMax(5, 3, 4)).isEqualTo(5);
        assertThat(FiPlan.tilesMax(1, 128, 64)).isEqualTo(2);
        assertThat(FiPlan.sortedRowsMax(4, 128, WIDE)).isEqualTo(Math.max(FiPlan.tilesMax(4, 128, 64) * 64,
                FiPlan.tilesMax(4, 128, 128) * 128));
        assertThat(FiPlan.tileListMax(4096, 128, ALL)).isEqualTo(FiPlan.tilesMax(4096, 128, 8));
    }

    @Test
    @DisplayName("decode calls fuse routing and alignment and split GEMM2's K; prefill calls do neither")
    void decodeAndPrefill() {
        FiPlan t1 = FiPlan.of(4, 128, ALL, m -> m, 0, tiles(128, 2), 2880, 2880, 132, 1);
        assertThat(t1.m()).isEqualTo(8);
        assertThat(t1.fusedRouting()).isTrue();
        assertThat(t1.splits()).isBetween(2, 2880 / 512);
        assertThat(t1.tilesMax()).isEqualTo((int) FiPlan.tilesMax(4, 128, 8));
        FiPlan t4096 = FiPlan.of(4096 * 4, 128, ALL, m -> m, 0, tiles(128, 1), 2880, 2880, 132, 4096);
        assertThat(t4096.m()).isEqualTo(128);
        assertThat(t4096.fusedRouting()).isFalse();
        assertThat(t4096.splits()).isEqualTo(1);
    }

    @Test
    void splitsStayWithinKAndTheCap() {
        // at least 512 K columns per split: I = 960 (pad 960) allows one split only
        assertThat(FiPlan.of(4, 128, ALL, m -> m, 0, tiles(64, 16), 2880, 960, 132, 1).splits()).isEqualTo(1);
        assertThat(FiPlan.of(4, 128, ALL, m -> m, 0, tiles(64, 16), 2880, 1024, 132, 1).splits()).isEqualTo(2);
        assertThat(FiPlan.of(1, 1, ALL, m -> m, 0, tiles(64, 16), 64, 8192, 132, 1).splits()).isEqualTo(FiPlan.MAX_SPLITS);
        // a family that never splits K (the persistent wgmma FP8 kernels)
        assertThat(FiPlan.of(4, 128, ALL, m -> m, 0, persistent(1), 2880, 2880, 132, 1).splits()).isEqualTo(1);
    }

    @Test
    void aForcedTileMustBeOffered() {
        assertThat(FiPlan.of(4, 128, WIDE, m -> m, 128, tiles(128, 1), 2880, 2880, 132, 1).m()).isEqualTo(128);
        assertThatThrownBy(() -> FiPlan.of(4, 128, WIDE, m -> m, 16, tiles(128, 1), 2880, 2880, 132, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[64, 128]");
    }

    @Test
    @DisplayName("more tiles than a grid's y holds: a wider M, or persistent kernels, or a clear error")
    void gridLimit() {
        long rows = 4L * 1_000_000;
        FiPlan widened = FiPlan.of(rows, 128, ALL, m -> m, 8, tiles(128, 1), 2880, 2880, 132, 1_000_000);
        assertThat(FiPlan.tilesMax(rows, 128, widened.m())).isLessThanOrEqualTo(FiPlan.MAX_GRID_Y);
        assertThat(widened.m()).isGreaterThan(8);
        assertThat(FiPlan.of(rows, 128, new int[] {16}, m -> m, 0, persistent(1), 2880, 2880, 132, 1_000_000).m())
                .isEqualTo(16);
        assertThatThrownBy(() -> FiPlan.of(rows, 128, new int[] {16}, m -> m, 0, tiles(128, 1), 2880, 2880, 132, 1_000_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fewer tokens");
    }
}
