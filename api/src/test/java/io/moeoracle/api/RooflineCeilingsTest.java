package io.moeoracle.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RooflineCeilingsTest {

    @Test
    void fp8_kernels_are_held_to_the_fp8_rate_only_where_it_was_measured() {
        var withFp8 = new RooflineProbe.Ceilings(3e12, 7.9e14, "copy", "bf16", 1.5e15, "fp8");
        assertThat(withFp8.hasFp8Rate()).isTrue();
        assertThat(withFp8.computeRate(true)).isEqualTo(1.5e15);
        assertThat(withFp8.computeRate(false)).isEqualTo(7.9e14);

        var without = new RooflineProbe.Ceilings(3e12, 7.9e14, "copy", "bf16");
        assertThat(without.hasFp8Rate()).isFalse();
        assertThat(without.fp8FlopsMethod()).isEqualTo("not measured");
        assertThat(without.computeRate(true)).isEqualTo(7.9e14);
    }
}
