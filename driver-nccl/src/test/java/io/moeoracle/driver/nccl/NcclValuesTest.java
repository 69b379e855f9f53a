package io.moeoracle.driver.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.tensor.DType;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The enums' codes are NCCL's (nccl.h), and unique ids travel as bytes or Base64 unchanged. */
class NcclValuesTest {

    @Test
    @DisplayName("data types carry nccl.h's codes and sizes")
    void dataTypes() {
        assertThat(NcclDataType.INT8.code()).isZero();
        assertThat(NcclDataType.INT32.code()).isEqualTo(2);
        assertThat(NcclDataType.FLOAT16.code()).isEqualTo(6);
        assertThat(NcclDataType.FLOAT32.code()).isEqualTo(7);
        assertThat(NcclDataType.FLOAT64.code()).isEqualTo(8);
        assertThat(NcclDataType.BFLOAT16.code()).isEqualTo(9);
        assertThat(NcclDataType.of(DType.BF16)).isEqualTo(NcclDataType.BFLOAT16);
        assertThat(NcclDataType.of(DType.F32).byteSize()).isEqualTo(4);
        for (DType d : DType.values()) {
            assertThat(NcclDataType.of(d).byteSize()).as(d.name()).isEqualTo(d.byteSize());
        }
    }

    @Test
    @DisplayName("reductions carry nccl.h's codes")
    void ops() {
        assertThat(NcclRedOp.SUM.code()).isZero();
        assertThat(NcclRedOp.MAX.code()).isEqualTo(2);
        assertThat(NcclRedOp.AVG.code()).isEqualTo(4);
    }

    @Test
    @DisplayName("a unique id round-trips through bytes and Base64; a wrong length is refused with the remedy")
    void uniqueIds() {
        byte[] b = new byte[128];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        NcclUniqueId id = NcclUniqueId.of(b);
        b[0] = 0; // the id keeps its own copy
        assertThat(id.toBytes()[0]).isEqualTo((byte) 3);
        assertThat(NcclUniqueId.fromBase64(id.toBase64())).isEqualTo(id);
        assertThat(Arrays.equals(NcclUniqueId.fromBase64(id.toBase64()).toBytes(), id.toBytes())).isTrue();
        assertThat(id.toString()).doesNotContain(id.toBase64());
        assertThatThrownBy(() -> NcclUniqueId.of(new byte[64])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("128 bytes, got 64");
        assertThatThrownBy(() -> NcclUniqueId.fromBase64("***")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Base64");
    }
}
