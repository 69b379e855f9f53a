package io.moeoracle.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PriorityTest {

    @Test
    void theBandsTileTheScaleInOrderWithoutGaps() {
        Priority.Band[] bands = Priority.Band.values();
        assertThat(bands[0].min()).isEqualTo(Priority.REFERENCE);
        for (int i = 1; i < bands.length; i++) {
            assertThat(bands[i].min()).isEqualTo(bands[i - 1].max() + 1);
        }
    }

    @Test
    void eachNamedConstantLiesInItsBand() {
        assertThat(Priority.bandOf(Priority.REFERENCE)).contains(Priority.Band.REFERENCE);
        assertThat(Priority.bandOf(Priority.PORTABLE)).contains(Priority.Band.PORTABLE);
        assertThat(Priority.bandOf(Priority.PORTABLE_ELSEWHERE)).contains(Priority.Band.PORTABLE);
        assertThat(Priority.bandOf(Priority.VENDOR_TUNED_BASELINE)).contains(Priority.Band.VENDOR_TUNED);
        assertThat(Priority.bandOf(Priority.VENDOR_TUNED)).contains(Priority.Band.VENDOR_TUNED);
        assertThat(Priority.bandOf(Priority.PREFERRED)).contains(Priority.Band.PREFERRED);
        assertThat(Priority.bandOf(-1001)).isEmpty();
        assertThat(Priority.bandOf(1000)).isEmpty();
    }
}
