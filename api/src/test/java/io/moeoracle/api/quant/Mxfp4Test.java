package io.moeoracle.api.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Mxfp4Test {
    private static final long SEED = System.nanoTime();

    @Test
    void decodesTheE2m1Table() {
        float[] expected = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        for (int i = 0; i < 8; i++) {
            assertThat(Mxfp4.decode(i)).isEqualTo(expected[i]);
            assertThat(Mxfp4.decode(i | 8)).isEqualTo(-expected[i]);
        }
        assertThat(Float.floatToRawIntBits(Mxfp4.decode(8))).isEqualTo(0x80000000); // -0
    }

    @Test
    void elementRoundingIsNearestEvenAndSaturates() {
        assertThat(Mxfp4.encodeElement(0.25)).isEqualTo(0);   // tie 0 | 0.5 -> 0 (even)
        assertThat(Mxfp4.encodeElement(0.26)).isEqualTo(1);
        assertThat(Mxfp4.encodeElement(0.75)).isEqualTo(2);   // tie 0.5 | 1 -> 1
        assertThat(Mxfp4.encodeElement(1.25)).isEqualTo(2);   // tie 1 | 1.5 -> 1
        assertThat(Mxfp4.encodeElement(1.75)).isEqualTo(4);   // tie 1.5 | 2 -> 2
        assertThat(Mxfp4.encodeElement(2.5)).isEqualTo(4);    // tie 2 | 3 -> 2
        assertThat(Mxfp4.encodeElement(3.5)).isEqualTo(6);    // tie 3 | 4 -> 4
        assertThat(Mxfp4.encodeElement(5.0)).isEqualTo(6);    // tie 4 | 6 -> 4
        assertThat(Mxfp4.encodeElement(5.01)).isEqualTo(7);
        assertThat(Mxfp4.encodeElement(1e30)).isEqualTo(7);   // saturates
        assertThat(Mxfp4.encodeElement(-3.0)).isEqualTo(0xD);
        assertThat(Mxfp4.encodeElement(-1e30)).isEqualTo(0xF);
        for (int n = 0; n < 16; n++) {
            int code = Mxfp4.encodeElement(Mxfp4.decode(n));
            assertThat(Mxfp4.decode(code)).isEqualTo(Mxfp4.decode(n));
        }
    }

    @Test
    void encodesAKnownBlock() {
        float[] v = new float[32];
        v[0] = 6.0f;   // amax 6 -> floor(log2 6) = 2 -> X = 0 -> code 127
        v[1] = -0.5f;
        v[2] = 1.5f;
        v[3] = 2.9f;   // -> 3
        v[31] = -6.0f;
        byte[] packed = new byte[16];
        int scale = Mxfp4.encode(v, 0, packed, 0);
        assertThat(scale).isEqualTo(127);
        assertThat(packed[0] & 0xFF).isEqualTo(0x97);  // low nibble 6.0 = 0x7, high -0.5 = 0x9
        assertThat(packed[1] & 0xFF).isEqualTo(0x53);  // 1.5 = 0x3, 3 = 0x5
        assertThat(packed[15] & 0xFF).isEqualTo(0xF0); // 0 then -6
    }

    @Test
    void scaleIsFloorLog2OfAmaxMinusTwo() {
        float[] v = new float[32];
        v[5] = 100f; // floor(log2 100) = 6 -> X = 4 -> code 131; 100/16 = 6.25 saturates to 6
        byte[] packed = new byte[16];
        assertThat(Mxfp4.encode(v, 0, packed, 0)).isEqualTo(131);
        assertThat((packed[2] >>> 4) & 0xF).isEqualTo(7);
        assertThat(Mxfp4.encode(new float[32], 0, packed, 0)).isEqualTo(0);
        v[7] = Float.NaN;
        assertThat(Mxfp4.encode(v, 0, packed, 0)).isEqualTo(0xFF);
        v[7] = Float.POSITIVE_INFINITY;
        assertThat(Mxfp4.encode(v, 0, packed, 0)).isEqualTo(0xFF);
    }

    @Test
    void representableBlocksRoundTripExactly() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        byte[] packed = new byte[16];
        float[] v = new float[32];
        float[] back = new float[32];
        for (int trial = 0; trial < 1000; trial++) {
            rnd.nextBytes(packed);
            packed[0] = (byte) ((packed[0] & 0xF0) | 0x7); // make amax a 6 so the scale is recovered
            int scale = 1 + rnd.nextInt(250);
            Mxfp4.decodeBlock(packed, 0, scale, v, 0);
            byte[] again = new byte[16];
            int scale2 = Mxfp4.encode(v, 0, again, 0);
            assertThat(scale2).as("seed %d", SEED).isEqualTo(scale);
            Mxfp4.decodeBlock(again, 0, scale2, back, 0);
            assertThat(back).as("seed %d", SEED).containsExactly(v);
        }
    }

    @Test
    void quantizationErrorIsBoundedByHalfAStep() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        float[] v = new float[32];
        float[] back = new float[32];
        byte[] packed = new byte[16];
        for (int trial = 0; trial < 1000; trial++) {
            for (int i = 0; i < 32; i++) {
                v[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextDouble(-10, 10)));
            }
            int scale = Mxfp4.encode(v, 0, packed, 0);
            Mxfp4.decodeBlock(packed, 0, scale, back, 0);
            double step = E8m0.toDouble(scale); // largest E2M1 step is 2 (between 4 and 6): half is 1 * 2^X
            for (int i = 0; i < 32; i++) {
                double err = Math.abs(back[i] - v[i]);
                double sat = Math.max(0, Math.abs(v[i]) - 6 * step);
                assertThat(err).as("seed %d value %s", SEED, v[i]).isLessThanOrEqualTo(step + sat + 1e-30);
            }
        }
    }

    @Test
    void segmentAndDoubleDecodeAgreeWithArrayDecode() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        byte[] packed = new byte[16];
        rnd.nextBytes(packed);
        float[] a = new float[32];
        float[] b = new float[32];
        double[] d = new double[32];
        Mxfp4.decodeBlock(packed, 0, 121, a, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(20);
            MemorySegment.copy(packed, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 4, 16);
            Mxfp4.decodeBlock(seg, 4, 121, b, 0);
        }
        Mxfp4.decodeBlock(packed, 0, 121, d, 0);
        assertThat(b).containsExactly(a);
        for (int i = 0; i < 32; i++) {
            assertThat(d[i]).isEqualTo(a[i]);
        }
        Mxfp4.decodeBlock(packed, 0, 254, d, 0);
        for (int i = 0; i < 32; i++) {
            assertThat(d[i]).isFinite(); // 6 * 2^127 overflows float but not double
        }
        Mxfp4.decodeBlock(packed, 0, 0xFF, a, 0);
        for (float x : a) {
            assertThat(x).isNaN();
        }
    }
}
