package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** How the all-to-all path cuts the busiest expert's rows into batched calls. */
class EpBatchPlanTest {
    private static final long ROW = EpBatchPlan.bytesPerRow(7168, 2048);

    @Test
    @DisplayName("no rows: no call")
    void empty() {
        assertThat(EpBatchPlan.of(0, 64, ROW, 1L << 34, 1 << 16)).isEqualTo(new EpBatchPlan(0, 0, 0, 0));
    }

    @Test
    @DisplayName("uniform load within the budget: one call, batches rounded up to 64 rows")
    void oneCall() {
        EpBatchPlan p = EpBatchPlan.of(2100, 64, ROW, 24L << 30, 65536);
        assertThat(p.chunks()).isEqualTo(1);
        assertThat(p.chunkRows()).isEqualTo(2112);
        assertThat(p.tableRows()).isEqualTo(2112);
        assertThat((long) p.chunkRows() * 64 * ROW).isLessThanOrEqualTo(24L << 30);
    }

    @Test
    @DisplayName("a hot expert beyond the budget: chunks of what fits, covering every row")
    void hotExpert() {
        long budget = 16L << 30;
        EpBatchPlan p = EpBatchPlan.of(16384, 64, ROW, budget, 16384);
        assertThat((long) p.chunkRows() * 64 * ROW).isLessThanOrEqualTo(budget);
        assertThat(p.chunkRows() % EpBatchPlan.GRANULE).isZero();
        assertThat((long) p.chunks() * p.chunkRows()).isGreaterThanOrEqualTo(16384);
        assertThat((long) (p.chunks() - 1) * p.chunkRows()).isLessThan(16384);
        assertThat(p.tableRows()).isEqualTo(16384);
    }

    @Test
    @DisplayName("a budget too small for one granule still makes progress, one granule at a time")
    void tinyBudget() {
        EpBatchPlan p = EpBatchPlan.of(200, 64, ROW, 1, 1000);
        assertThat(p.chunkRows()).isEqualTo(EpBatchPlan.GRANULE);
        assertThat(p.chunks()).isEqualTo(4);
    }

    @Test
    @DisplayName("never more rows per call than the batched kernel takes")
    void kernelLimit() {
        EpBatchPlan p = EpBatchPlan.of(100, 8, ROW, 1L << 40, 80);
        assertThat(p.chunkRows()).isEqualTo(80);
        assertThat(p.chunks()).isEqualTo(2);
        assertThatThrownBy(() -> EpBatchPlan.of(-1, 8, ROW, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
