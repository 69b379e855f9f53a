package io.moeoracle.backend.triton;

import io.moeoracle.api.error.BadInputException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TritonScaleShiftTest {
    private static MemorySegment codes(int... c) {
        byte[] b = new byte[c.length];
        for (int i = 0; i < c.length; i++) {
            b[i] = (byte) c[i];
        }
        return MemorySegment.ofArray(b);
    }

    @Test
    void realCheckpointScalesNeedNoShift() {
        assertThat(TritonLaunches.scaleShift(codes(118, 120, 127, 130), "w13")).isZero();
        assertThat(TritonLaunches.scaleShift(codes(2, 252), "w13")).isZero();
    }

    @Test
    void extremeCodesAreShiftedIntoNormalBf16() {
        // code 0: 0.5 x 2^-127 would be a BF16 subnormal; +2 makes it 2^-126
        assertThat(TritonLaunches.scaleShift(codes(0, 0, 0), "w13")).isEqualTo(2);
        assertThat(TritonLaunches.scaleShift(codes(1, 200), "w13")).isEqualTo(1);
        // code 254: 6 x 2^127 overflows BF16; -2 keeps it finite
        assertThat(TritonLaunches.scaleShift(codes(254, 254), "w2")).isEqualTo(-2);
        assertThat(TritonLaunches.scaleShift(codes(253, 5), "w2")).isEqualTo(-1);
        // 255 is NaN and stays out of the range
        assertThat(TritonLaunches.scaleShift(codes(255, 127), "w2")).isZero();
    }

    @Test
    void aSpanWiderThanBf16IsRefusedByName() {
        assertThatThrownBy(() -> TritonLaunches.scaleShift(codes(0, 254), "w2"))
                .isInstanceOf(BadInputException.class).hasMessageContaining("w2").hasMessageContaining("0..254")
                .hasMessageContaining("marlin");
        assertThatThrownBy(() -> TritonLaunches.scaleShift(codes(1, 252), "w13"))
                .isInstanceOf(BadInputException.class);
    }
}
