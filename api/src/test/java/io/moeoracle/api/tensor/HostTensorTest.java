package io.moeoracle.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HostTensorTest {

    @Test
    void wrapsASegmentOfExactlyTheRightSize() {
        long seed = System.nanoTime();
        System.out.println("HostTensorTest seed " + seed);
        Random rnd = new Random(seed);
        float[] values = new float[6];
        for (int i = 0; i < values.length; i++) {
            values[i] = 1 + rnd.nextFloat();
        }
        HostTensor t = HostTensor.of(MemorySegment.ofArray(values), DType.F32, 2, 3);
        assertThat(t.rank()).isEqualTo(2);
        assertThat(t.dim(1)).isEqualTo(3);
        assertThat(t.numel()).isEqualTo(6);
        assertThat(t.byteSize()).isEqualTo(24);
        assertThat(t.shapeString()).isEqualTo("[2, 3]");
        assertThat(t.data().getAtIndex(ValueLayout.JAVA_FLOAT, 4)).isEqualTo(values[4]);
        assertThat(t.toString()).isEqualTo("HostTensor[F32 [2, 3]]");
    }

    @Test
    void aSegmentOfTheWrongSizeIsRejectedWithBothSizes() {
        assertThatThrownBy(() -> HostTensor.of(MemorySegment.ofArray(new byte[10]), DType.F32, 2, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("segment of 10 bytes does not hold a F32 tensor of shape [2, 3] (24 bytes)");
        assertThatThrownBy(() -> HostTensor.of(MemorySegment.ofArray(new byte[25]), DType.F32, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(24 bytes)");
    }

    @Test
    void negativeExtentsAreRejected() {
        assertThatThrownBy(() -> HostTensor.of(MemorySegment.ofArray(new byte[0]), DType.U8, 2, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("shape [2, -1] has a negative extent");
    }

    @Test
    void theShapeIsCopiedInAndOut() {
        long[] shape = {2, 4};
        HostTensor t = HostTensor.of(MemorySegment.ofArray(new short[8]), DType.BF16, shape);
        shape[0] = 99;
        t.shape()[1] = 99;
        assertThat(t.shape()).containsExactly(2, 4);
    }

    @Test
    void allocateAndReshape() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor t = HostTensor.allocate(arena, DType.BF16, 4, 6);
            assertThat(t.data().byteSize()).isEqualTo(48);
            assertThat(t.data().address() % 64).as("64-byte aligned").isZero();
            HostTensor r = t.reshape(2, 12);
            assertThat(r.shape()).containsExactly(2, 12);
            assertThat(r.data()).isEqualTo(t.data());
            assertThatThrownBy(() -> t.reshape(5, 5)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("(50 bytes)");
            assertThat(HostTensor.allocate(arena, DType.F32, 0, 3).byteSize()).isZero();
            assertThatThrownBy(() -> HostTensor.allocate(arena, DType.F32, Long.MAX_VALUE, 4))
                    .isInstanceOf(ArithmeticException.class);
        }
    }
}
