package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EpBatchedRowsTest {

    @Test
    void aBatchedCallStaysWithin32BitOffsetsOfItsWidestRow() {
        // DeepSeek-V3 on 2 GPUs: 128 local experts x rows x 7168 must stay below 2^31 (8192 rows would not)
        int rows = EpBuild.batchedRows(128, 7168, 2048, 8192);
        assertThat((long) 128 * rows * 7168).isLessThan(1L << 31);
        assertThat(rows % EpBatchPlan.GRANULE).isZero();
        assertThat(rows).isEqualTo(2304);
        // gpt-oss-120b on 2 GPUs: 64 x 8192 x 2880 < 2^31, so the strategy's rows are kept
        assertThat(EpBuild.batchedRows(64, 2880, 2880, 8192)).isEqualTo(8192);
        // never below one granule, never above what was asked
        assertThat(EpBuild.batchedRows(1024, 65536, 65536, 100_000)).isEqualTo(EpBatchPlan.GRANULE);
        assertThat(EpBuild.batchedRows(8, 64, 64, 5)).isEqualTo(5);
    }
}
