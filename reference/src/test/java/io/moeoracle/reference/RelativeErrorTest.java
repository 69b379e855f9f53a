package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class RelativeErrorTest {

    @Test
    void computesTheRelativeNorm() {
        assertThat(RelativeError.l2(new float[] {3, 4}, new double[] {3, 5})).isCloseTo(1 / Math.sqrt(34), within(1e-15));
        assertThat(RelativeError.l2(new float[] {0, 0}, new double[] {0, 0})).isZero();
        assertThat(RelativeError.l2(new float[] {1, 0}, new double[] {0, 0})).isInfinite();
        assertThat(RelativeError.l2(new float[] {Float.NaN, 0}, new double[] {1, 0})).isNaN();
        assertThat(RelativeError.l2(new float[] {1, 0}, new double[] {Double.NaN, 0})).isNaN();
    }

    @Test
    void mixesDtypes() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor a = HostTensor.allocate(arena, DType.BF16, 2, 2);
            HostTensor e = HostTensor.allocate(arena, DType.F64, 4);
            for (int i = 0; i < 4; i++) {
                a.data().setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(i + 1));
                e.data().setAtIndex(ValueLayout.JAVA_DOUBLE, i, i + 1);
            }
            assertThat(RelativeError.l2(a, e)).isZero();
            e.data().setAtIndex(ValueLayout.JAVA_DOUBLE, 3, 5);
            assertThat(RelativeError.l2(a, e)).isCloseTo(1 / Math.sqrt(1 + 4 + 9 + 25), within(1e-15));
            a.data().setAtIndex(ValueLayout.JAVA_SHORT, 0, (short) 0x7FC0);
            assertThat(RelativeError.l2(a, e)).isNaN();
            assertThat(RelativeError.sameNaNs(a, e)).isFalse();
            assertThat(RelativeError.l2IgnoringNaNs(a, e)).isCloseTo(1 / Math.sqrt(4 + 9 + 25), within(1e-15));
            HostTensor i32 = HostTensor.allocate(arena, DType.I32, 4);
            assertThatThrownBy(() -> RelativeError.l2(i32, e)).hasMessageContaining("float");
            assertThatThrownBy(() -> RelativeError.l2(a, HostTensor.allocate(arena, DType.F32, 3)))
                    .hasMessageContaining("element count");
        }
    }
}
