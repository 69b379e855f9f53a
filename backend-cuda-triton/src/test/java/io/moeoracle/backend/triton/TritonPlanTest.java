package io.moeoracle.backend.triton;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TritonPlanTest {
    @Test
    void bucketsFollowRowsPerExpertAtTheGptOss120bShape() {
        // T x top-4 over 128 experts
        assertThat(TritonPlan.bucket(4, 128)).isEqualTo(TritonPlan.DECODE);
        assertThat(TritonPlan.bucket(32L * 4, 128)).isEqualTo(TritonPlan.DECODE);
        assertThat(TritonPlan.bucket(256L * 4, 128)).isEqualTo(TritonPlan.DECODE);
        assertThat(TritonPlan.bucket(1024L * 4, 128)).isEqualTo(TritonPlan.MID);
        assertThat(TritonPlan.bucket(4096L * 4, 128)).isEqualTo(TritonPlan.PREFILL);
    }

    @Test
    void tilesMaxBoundsEveryRouting() {
        // every expert may have a partial tile, plus the full tiles of all rows
        assertThat(TritonPlan.tilesMax(4, 128, 16)).isEqualTo(4 + 1);
        assertThat(TritonPlan.tilesMax(16384, 128, 128)).isEqualTo(128 + 128);
        // worst case: 5 rows per expert over 3 experts with 4-row tiles needs 6 tiles <= bound
        assertThat(TritonPlan.tilesMax(15, 3, 4)).isGreaterThanOrEqualTo(3 * 2);
        assertThat(TritonPlan.pad(2880)).isEqualTo(2880);
        assertThat(TritonPlan.pad(2848)).isEqualTo(2880);
        assertThat(TritonPlan.pad(96)).isEqualTo(128);
        assertThat(TritonPlan.cdiv(5760, 128)).isEqualTo(45);
    }
}
