package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.driver.cuda.TensorMap.DataType;
import io.moeoracle.driver.cuda.TensorMap.L2Promotion;
import io.moeoracle.driver.cuda.TensorMap.Swizzle;
import org.junit.jupiter.api.Test;

/** The Java-side checks that run before cuTensorMapEncodeTiled (no driver needed). */
class TensorMapTest {
    private static final long ADDR = 0x7f0000000000L;

    @Test
    void misaligned_addresses_and_strides_are_rejected() {
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR + 8, DataType.BFLOAT16, new long[] {64, 64}, new long[] {128},
                new int[] {64, 64}, Swizzle.B128, L2Promotion.NONE)).hasMessageContaining("not 16-byte aligned");
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.BFLOAT16, new long[] {60, 64}, new long[] {120},
                new int[] {8, 64}, Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("stride 0 (120 bytes) must be a multiple of 16");
    }

    @Test
    void box_rules_are_checked() {
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.BFLOAT16, new long[] {256, 64}, new long[] {512},
                new int[] {128, 64}, Swizzle.B128, L2Promotion.NONE)).hasMessageContaining("at most 128 bytes, it spans 256");
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.BFLOAT16, new long[] {256, 64}, new long[] {512},
                new int[] {4, 64}, Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("8 bytes, not a multiple of 16");
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.FLOAT32, new long[] {512}, new long[] {},
                new int[] {512}, Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("1..256");
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.FLOAT32, new long[] {64, 64}, new long[] {128},
                new int[] {32, 32}, Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("smaller than the 256 bytes");
        assertThatThrownBy(() -> TensorMap.encodeTiled(ADDR, DataType.FLOAT32, new long[] {64, 64}, new long[] {},
                new int[] {32, 32}, Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("needs 1 strides");
    }
}
