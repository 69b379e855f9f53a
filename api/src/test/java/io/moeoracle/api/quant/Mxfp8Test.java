package io.moeoracle.api.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Mxfp8Test {
    private static final long SEED = System.nanoTime();

    @Test
    void decodesKnownE4m3Patterns() {
        assertThat(Mxfp8.decode(0x00)).isEqualTo(0f);
        assertThat(Mxfp8.decode(0x38)).isEqualTo(1f);          // 0.0111.000
        assertThat(Mxfp8.decode(0xB8)).isEqualTo(-1f);
        assertThat(Mxfp8.decode(0x7E)).isEqualTo(448f);        // 0.1111.110
        assertThat(Mxfp8.decode(0xFE)).isEqualTo(-448f);
        assertThat(Mxfp8.decode(0x7F)).isNaN();
        assertThat(Mxfp8.decode(0xFF)).isNaN();
        assertThat(Mxfp8.decode(0x01)).isEqualTo(Math.scalb(1f, -9)); // smallest subnormal
        assertThat(Mxfp8.decode(0x08)).isEqualTo(Math.scalb(1f, -6)); // smallest normal
        assertThat(Mxfp8.decode(0x78)).isEqualTo(256f);        // 0.1111.000: no infinity
        int nans = 0;
        for (int c = 0; c < 256; c++) {
            if (Float.isNaN(Mxfp8.decode(c))) {
                nans++;
            } else {
                assertThat(Mxfp8.encodeElement(Mxfp8.decode(c)) & 0x7F).isEqualTo(c & 0x7F);
            }
        }
        assertThat(nans).isEqualTo(2);
    }

    @Test
    void elementRoundingIsNearestEvenAndSaturates() {
        assertThat(Mxfp8.encodeElement(1.0625)).isEqualTo(0x38);  // tie 1 | 1.125 -> 1 (even)
        assertThat(Mxfp8.encodeElement(1.1875)).isEqualTo(0x3A);  // tie 1.125 | 1.25 -> 1.25 (even)
        assertThat(Mxfp8.encodeElement(450)).isEqualTo(0x7E);
        assertThat(Mxfp8.encodeElement(1e9)).isEqualTo(0x7E);
        assertThat(Mxfp8.encodeElement(-1e9)).isEqualTo(0xFE);
        assertThat(Mxfp8.encodeElement(Double.NaN)).isEqualTo(0x7F);
        assertThat(Mxfp8.encodeElement(Math.scalb(1.0, -10))).isEqualTo(0);    // tie 0 | 2^-9 -> 0
        assertThat(Mxfp8.encodeElement(Math.scalb(3.0, -10))).isEqualTo(2);    // tie 2^-9 | 2^-8 -> 2
        assertThat(Mxfp8.encodeElement(Math.scalb(15.0, -10))).isEqualTo(8);   // rounds up to min normal
        assertThat(Mxfp8.encodeElement(248)).isEqualTo(0x78);                  // tie 240 | 256 -> 256
    }

    @Test
    void blockScaleIsFloorLog2OfAmaxMinusEight() {
        float[] v = new float[32];
        v[3] = 1.0f;   // X = -8 -> code 119, 1.0 * 256 = 256 = 0x78
        v[4] = -0.5f;
        byte[] codes = new byte[32];
        assertThat(Mxfp8.encode(v, 0, codes, 0)).isEqualTo(119);
        assertThat(codes[3] & 0xFF).isEqualTo(0x78);
        assertThat(codes[4] & 0xFF).isEqualTo(0xF0);
        v[9] = Float.NaN;
        assertThat(Mxfp8.encode(v, 0, codes, 0)).isEqualTo(0xFF);
    }

    @Test
    void roundTripErrorIsWithinHalfAnUlpOfE4m3OrSaturation() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        double[] v = new double[64];
        double[] q = new double[64];
        for (int trial = 0; trial < 500; trial++) {
            for (int i = 0; i < 64; i++) {
                v[i] = rnd.nextGaussian() * Math.exp(rnd.nextDouble(-5, 5));
            }
            System.arraycopy(v, 0, q, 0, 64);
            Mxfp8.quantizeDequantize(q, 0, 64);
            for (int b = 0; b < 2; b++) {
                double amax = 0;
                for (int i = 0; i < 32; i++) {
                    amax = Math.max(amax, Math.abs(v[32 * b + i]));
                }
                double scale = Math.scalb(1.0, Math.getExponent(amax) - 8);
                for (int i = 32 * b; i < 32 * b + 32; i++) {
                    double x = Math.abs(v[i]);
                    // relative half-ulp 2^-4 for normals, absolute 2^-10 * scale for subnormals
                    // plus the spec's saturation of the block maximum: v / 2^X may exceed 448
                    double bound = Math.max(x * 0x1p-4, 0x1p-10 * scale) + Math.max(0, x - 448 * scale);
                    assertThat(Math.abs(q[i] - v[i])).as("seed %d", SEED).isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    @Test
    void floatAndDoubleEncodeAgree() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        float[] f = new float[32];
        double[] d = new double[32];
        for (int i = 0; i < 32; i++) {
            f[i] = (float) rnd.nextGaussian();
            d[i] = f[i];
        }
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        assertThat(Mxfp8.encode(f, 0, a, 0)).isEqualTo(Mxfp8.encode(d, 0, b, 0));
        assertThat(a).containsExactly(b);
        float[] back = new float[32];
        Mxfp8.decodeBlock(a, 0, Mxfp8.encode(f, 0, a, 0), back, 0);
        for (int i = 0; i < 32; i++) {
            assertThat((double) back[i]).isCloseTo(f[i], org.assertj.core.data.Offset.offset(Math.abs(f[i]) / 8 + 1e-2));
        }
    }
}
