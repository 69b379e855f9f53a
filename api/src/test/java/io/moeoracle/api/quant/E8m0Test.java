package io.moeoracle.api.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class E8m0Test {

    @Test
    void codesAreBiasedPowersOfTwo() {
        assertThat(E8m0.toDouble(127)).isEqualTo(1.0);
        assertThat(E8m0.toDouble(128)).isEqualTo(2.0);
        assertThat(E8m0.toDouble(120)).isEqualTo(1.0 / 128);
        assertThat(E8m0.toDouble(0)).isEqualTo(Math.scalb(1.0, -127));
        assertThat(E8m0.toDouble(254)).isEqualTo(Math.scalb(1.0, 127));
        assertThat(E8m0.toFloat(0)).isEqualTo(Math.scalb(1.0f, -127)).isGreaterThan(0f);
        assertThat(E8m0.toFloat(254)).isEqualTo(Math.scalb(1.0f, 127));
    }

    @Test
    void ffIsNaN() {
        assertThat(E8m0.toDouble(0xFF)).isNaN();
        assertThat(E8m0.toFloat(0xFF)).isNaN();
        assertThat(E8m0.toDouble((byte) 0xFF)).isNaN();
        assertThat(E8m0.isNaN(0xFF)).isTrue();
        assertThat(E8m0.isNaN(0xFE)).isFalse();
    }

    @Test
    void fromExponentClampsToTheRange() {
        assertThat(E8m0.fromExponent(0)).isEqualTo(127);
        assertThat(E8m0.fromExponent(-5)).isEqualTo(122);
        assertThat(E8m0.fromExponent(-500)).isEqualTo(0);
        assertThat(E8m0.fromExponent(500)).isEqualTo(254);
        for (int c = 0; c < 255; c++) {
            assertThat(E8m0.fromExponent(E8m0.exponent(c))).isEqualTo(c);
        }
        assertThatThrownBy(() -> E8m0.exponent(255)).hasMessageContaining("255");
    }
}
